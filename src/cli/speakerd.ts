#!/usr/bin/env node
/**
 * speakerd: the smart-speaker daemon.
 * Usage: speakerd [--config FILE] [--check-config] [--print-config] [--etc-dir DIR] [--set KEY=VALUE]…
 * Exit codes: 0 stopped cleanly, 1 failed at run time, 2 bad usage, 78 invalid configuration or a setup
 * error a restart cannot fix (EX_CONFIG).
 *
 * This entry only installs the signal handlers and then loads the daemon: loading takes a while, and
 * a SIGHUP in that time would otherwise kill the process (its default action).
 */
import { EarlySignals } from './early-signals.js';

const signals = new EarlySignals();
const { main, exitOnError } = await import('./speakerd-main.js');
main(signals).catch(exitOnError);
