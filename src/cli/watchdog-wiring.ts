/** Starting the systemd watchdog for the daemon (when systemd asked for one). */
import type { Service } from '../service/service.js';
import type { Logger } from '../system/log.js';
import { watchdogIntervalMs, type SystemdNotifier } from '../system/notify.js';
import { Watchdog } from '../system/watchdog.js';

/**
 * Pings the watchdog while the audio clock advances and the event loop is alive; null when systemd set
 * no WATCHDOG_USEC for this process.
 */
export function startWatchdog(service: Service, maxLoopLagMs: number, notifier: SystemdNotifier, log: Logger): Watchdog | null {
  const interval = watchdogIntervalMs(process.env);
  if (!interval) return null;
  const watchdog = new Watchdog({
    intervalMs: interval,
    maxLoopLagMs,
    audioClock: () => service.audioFrames(),
    ping: () => notifier.watchdog(),
    onMissed: (reason) => log.error(`not feeding the watchdog: ${reason}`),
  });
  watchdog.start();
  return watchdog;
}
