import { loadNativeBinding } from '../media/native-binding.js';

/** Sends one sd_notify state; returns false when there is no $NOTIFY_SOCKET. */
export type NotifySender = (state: string) => boolean;

/** The addon's sd_notify (a datagram from this, the main, process). */
export function nativeNotify(): NotifySender {
  const binding = loadNativeBinding();
  if (!binding.notify) throw new Error('the native addon has no notify(): rebuild it');
  return binding.notify.bind(binding);
}

/** CLOCK_MONOTONIC in µs, as systemd wants it in MONOTONIC_USEC. */
function monotonicUsec(): string {
  return (process.hrtime.bigint() / 1000n).toString();
}

/** Tells systemd about the daemon's life (Type=notify). Every call is a no-op outside systemd. */
export class SystemdNotifier {
  constructor(private readonly send: NotifySender) {}

  /** Startup finished (audio up, control socket listening). */
  ready(status: string): void {
    this.send(`READY=1\nSTATUS=${status}`);
  }

  /** The human-readable state shown by `systemctl status`. */
  status(status: string): void {
    this.send(`STATUS=${status}`);
  }

  /** A reload begins (SIGHUP); call ready() when it is done. */
  reloading(): void {
    this.send(`RELOADING=1\nMONOTONIC_USEC=${monotonicUsec()}`);
  }

  /** The daemon is shutting down. */
  stopping(): void {
    this.send('STOPPING=1');
  }

  /** Keeps the watchdog from firing. */
  watchdog(): void {
    this.send('WATCHDOG=1');
  }
}

/**
 * How often to ping the watchdog: half of WATCHDOG_USEC, or null when there is no watchdog for this
 * process (unset, or WATCHDOG_PID names another process).
 */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv, pid = process.pid): number | null {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return null;
  if (env.WATCHDOG_PID !== undefined && Number(env.WATCHDOG_PID) !== pid) return null;
  return Math.max(1, Math.floor(usec / 2000));
}
