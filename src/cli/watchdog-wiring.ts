/** Starting the systemd watchdog for the daemon (when systemd asked for one). */
import type { Service } from '../service/service.js';
import type { Logger } from '../system/log.js';
import { watchdogIntervalMs } from '../system/notify.js';
import { Watchdog } from '../system/watchdog.js';

/**
 * Pings the watchdog while the audio clock advances and the event loop is alive; null when systemd set
 * no WATCHDOG_USEC for this process.
 */
export function startWatchdog(service: Service, maxLoopLagMs: number, log: Logger): Watchdog | null {
  const interval = watchdogIntervalMs(process.env);
  if (!interval) return null;
  // A native thread pings while the engine's frame counter advances and this loop checks in within the
  // bound (0 = auto, 0.8 × WATCHDOG_USEC): a loop that is slow, not stuck, cannot delay a ping.
  const watchdog = new Watchdog({
    intervalMs: interval,
    ...(maxLoopLagMs > 0 ? { maxLoopLagMs } : {}),
    engine: () => service.currentEngine,
    onMissed: (reason) => log.error(`not feeding the watchdog: ${reason}`),
    onResumed: () => log.info('feeding the watchdog again'),
  });
  watchdog.start();
  return watchdog;
}
