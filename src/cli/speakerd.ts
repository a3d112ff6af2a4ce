#!/usr/bin/env node
/**
 * speakerd: the smart-speaker daemon.
 * Usage: speakerd [--config FILE] [--check-config] [--print-config] [--etc-dir DIR] [--set KEY=VALUE]…
 * Exit codes: 0 stopped cleanly, 1 failed at run time, 2 bad usage, 78 invalid configuration (EX_CONFIG).
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfigError, EX_CONFIG } from '../config/errors.js';
import { diffConfig, printableConfig, type LoadOptions } from '../config/load.js';
import { DEFAULT_AI_URLS } from '../config/schema.js';
import { StateStore } from '../config/state.js';
import { parseMode } from '../config/formats.js';
import { ControlServer } from '../control/server.js';
import { Service, packageVersion } from '../service/service.js';
import { applyConfigSet, configValue, loadWithRuntime, type RuntimeOverrides } from '../service/runtime-config.js';
import { createLogger } from '../system/log.js';
import { ignoreEpipe } from '../system/log-sink.js';
import { SystemdNotifier, nativeNotify, watchdogIntervalMs } from '../system/notify.js';
import { Watchdog } from '../system/watchdog.js';
import { unixPeer } from '../system/peer.js';

const USAGE = 'usage: speakerd [--config FILE] [--check-config] [--print-config] [--etc-dir DIR] [--set KEY=VALUE]...';
/** A graceful stop must finish within this (systemd's stop timeout is longer). */
const STOP_DEADLINE_MS = 2000;

function parseCommandLine(): { base: LoadOptions; check: boolean; print: boolean } {
  const { values } = parseArgs({
    options: {
      config: { type: 'string' },
      'check-config': { type: 'boolean', default: false },
      'print-config': { type: 'boolean', default: false },
      'etc-dir': { type: 'string' },
      set: { type: 'string', multiple: true, default: [] },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const overrides: Record<string, unknown> = {};
  for (const pair of values.set ?? []) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new TypeError(`--set takes KEY=VALUE, got '${pair}'`);
    overrides[pair.slice(0, at)] = pair.slice(at + 1);
  }
  const base: LoadOptions = { env: process.env, overrides };
  if (values.config !== undefined) base.configFile = values.config;
  if (values['etc-dir'] !== undefined) base.etcDir = values['etc-dir'];
  return { base, check: values['check-config'] ?? false, print: values['print-config'] ?? false };
}

async function main(): Promise<void> {
  ignoreEpipe();
  let args: ReturnType<typeof parseCommandLine>;
  try {
    args = parseCommandLine();
  } catch (error) {
    process.stderr.write(`speakerd: ${(error as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  let loaded = loadWithRuntime(args.base, {});
  if (args.print) {
    process.stdout.write(printableConfig(loaded.config));
    return;
  }
  if (args.check) {
    process.stdout.write(`configuration OK${loaded.files.length ? ` (${loaded.files.join(', ')})` : ' (built-in defaults)'}\n`);
    return;
  }
  const root = createLogger({ level: loaded.config.log.level });
  const log = root.child('speakerd');
  if (loaded.apiKey) root.redact(loaded.apiKey);
  for (const w of loaded.warnings) log.warning(w);

  const store = new StateStore(loaded.config.state.file, { defaults: { volume: loaded.config.audio.volume } });
  mkdirSync(dirname(loaded.config.state.file), { recursive: true, mode: 0o750 });
  const { state, warnings } = await store.load();
  for (const w of warnings) log.warning(w);
  let runtime: RuntimeOverrides = (state.config as RuntimeOverrides | undefined) ?? {};
  if (Object.keys(runtime).length > 0) {
    try {
      loaded = loadWithRuntime(args.base, runtime);
    } catch (error) {
      log.warning(`ignoring run-time configuration changes that are no longer valid: ${(error as Error).message}`);
      runtime = {};
    }
  }
  const save = (s: { volume: number; muted: boolean }): Promise<void> => store.save({ ...s, config: runtime });
  const version = packageVersion(join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'package.json'));
  const notifier = new SystemdNotifier(nativeNotify());
  const service = new Service({
    config: loaded.config,
    apiKey: loaded.apiKey,
    defaultUrls: DEFAULT_AI_URLS,
    state: { volume: state.volume, muted: state.muted },
    saveState: save,
    loadConfig: () => loadWithRuntime(args.base, runtime),
    diffConfig,
    setConfigKey: async (key, value) => {
      const next = await applyConfigSet(args.base, runtime, loaded.config.state.file, key, value);
      runtime = next.runtime;
      if (next.loaded.apiKey) root.redact(next.loaded.apiKey);
      await store.save({ volume: service.getVolume(), muted: service.isMuted(), config: runtime });
      return next.loaded;
    },
    configValue,
    log,
    version,
  });
  await service.start();
  mkdirSync(dirname(loaded.config.control.socket), { recursive: true, mode: 0o750 });
  const control = await ControlServer.start({
    path: loaded.config.control.socket,
    target: service,
    mode: parseMode(loaded.config.control.mode),
    maxClients: loaded.config.control.maxClients,
    maxLineBytes: loaded.config.control.maxLineBytes,
    ...(loaded.config.control.group ? { group: loaded.config.control.group } : {}),
    ...(loaded.config.control.allowUids.length ? { allowUids: loaded.config.control.allowUids } : {}),
    peerCredentials: unixPeer,
    logger: { info: (m) => root.child('control').info(m), warn: (m) => root.child('control').warning(m) },
  });
  service.events.on('event', (e: { event: string; data: Record<string, unknown> }) => {
    if (e.event === 'state') notifier.status(String(e.data.state));
  });

  const interval = watchdogIntervalMs(process.env);
  const watchdog = interval
    ? new Watchdog({
        intervalMs: interval,
        maxLoopLagMs: loaded.config.watchdog.maxLoopLagMs,
        audioClock: () => service.audioFrames(),
        ping: () => notifier.watchdog(),
        onMissed: (reason) => log.error(`not feeding the watchdog: ${reason}`),
      })
    : null;
  watchdog?.start();

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    notifier.stopping();
    log.info('stopping', { signal });
    setTimeout(() => {
      log.error(`did not stop within ${STOP_DEADLINE_MS} ms; exiting`);
      root.flush();
      process.exit(1);
    }, STOP_DEADLINE_MS).unref();
    watchdog?.stop();
    await control.close();
    await service.stop();
    await store.flush();
    root.flush();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGHUP', () => {
    notifier.reloading();
    service
      .reload()
      .then(() => log.info('configuration reloaded'))
      .catch((error: Error) => log.error(`reload refused, keeping the running configuration: ${error.message}`))
      .finally(() => notifier.ready(service.currentState));
  });
  if (process.env.SPEAKERD_TEST_HOOKS === '1') {
    process.on('SIGUSR2', () => {
      log.warning('test hook: stalling the audio clock for 30 s');
      service.stallAudioForTest(30000);
    });
  }
  // Signal handlers are in place before READY=1: a reload or stop right after start is handled.
  notifier.ready(service.currentState);
  log.info('started', { version, backend: loaded.config.ai.backend, socket: control.path });
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`speakerd: invalid configuration:\n${error.message}\n`);
    process.exit(EX_CONFIG);
  }
  const e = error as Error & { code?: string };
  process.stderr.write(`<3>speakerd: ${e.code ? `${e.code}: ` : ''}${e.message}\n`);
  process.exit(1);
});
