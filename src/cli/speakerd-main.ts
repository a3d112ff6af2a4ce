/**
 * The daemon's start, run and stop (loaded by the entry speakerd.ts once its signal handlers are in
 * place): configuration, the control socket, state, the service, sd_notify and the watchdog.
 */
import { chmod, chown, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfigError, EX_CONFIG } from '../config/errors.js';
import { diffConfig, printableConfig, type LoadOptions } from '../config/load.js';
import { DEFAULT_AI_URLS, KEYS } from '../config/schema.js';
import { StateStore } from '../config/state.js';
import { parseMode } from '../config/formats.js';
import { activationFd, clearStaleSocket, resolveGroup } from '../control/listen.js';
import { ControlServer } from '../control/server.js';
import { Service, packageVersion } from '../service/service.js';
import { LedsButtons } from '../service/leds-buttons.js';
import { admissibleOverrides, configValue, loadWithRuntime, RuntimeConfig } from '../service/runtime-config.js';
import { createLogger, type Logger } from '../system/log.js';
import { ignoreEpipe } from '../system/log-sink.js';
import { SystemdNotifier, nativeNotify } from '../system/notify.js';
import { unixPeer } from '../system/peer.js';
import type { EarlySignals } from './early-signals.js';
import { startWatchdog } from './watchdog-wiring.js';
import { addSetPairs } from './set-option.js';
import { loadBoardProfile } from '../leds/board.js';
import { AudioEngine } from '../media/engine.js';
import { unitGrants } from '../leds/unit-grants.js';

const USAGE = 'usage: speakerd [--config FILE] [--check-config] [--print-config] [--unit-grants] [--etc-dir DIR] [--set KEY=VALUE]...';
/** A graceful stop must finish within this (systemd's stop timeout is longer). */
const STOP_DEADLINE_MS = 2000;

function parseCommandLine(): { base: LoadOptions; check: boolean; print: boolean; grants: boolean } {
  const { values } = parseArgs({
    options: {
      config: { type: 'string' },
      'check-config': { type: 'boolean', default: false },
      'print-config': { type: 'boolean', default: false },
      'unit-grants': { type: 'boolean', default: false },
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
  addSetPairs(values.set ?? [], overrides);
  const base: LoadOptions = { env: process.env, overrides };
  if (values.config !== undefined) base.configFile = values.config;
  if (values['etc-dir'] !== undefined) base.etcDir = values['etc-dir'];
  return { base, check: values['check-config'] ?? false, print: values['print-config'] ?? false, grants: values['unit-grants'] ?? false };
}

/** Control-socket setup errors that a restart cannot fix: exit with EX_CONFIG so systemd does not loop. */
const SETUP_CODES = new Set(['ERR_SOCKET_PATH']);

/**
 * Makes the control socket's directory when it is missing: mode 0750, group `control.group`, so the
 * group's members can reach the socket and nobody else can. An existing directory is left as it is.
 */
async function socketDirectory(socket: string, group: string): Promise<void> {
  const dir = dirname(socket);
  try {
    await mkdir(dir, { mode: 0o750 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return;
    try {
      await mkdir(dir, { recursive: true, mode: 0o750 });
    } catch (inner) {
      throw Object.assign(new Error(`cannot create the control socket's directory ${dir}: ${(inner as Error).message}`), { code: 'ERR_SOCKET_PATH' });
    }
  }
  if (group === '') return;
  try {
    await chmod(dir, 0o750);
    await chown(dir, -1, resolveGroup(group));
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { code?: string };
    throw Object.assign(new Error(`cannot give ${dir} the group '${group}': ${e.message}`), { code: 'ERR_SOCKET_PATH' });
  }
}

/** sd_notify that never throws: a notify socket that went away is logged once and the daemon goes on. */
function safeNotifier(log: Logger): SystemdNotifier {
  const send = nativeNotify();
  let failing = false;
  return new SystemdNotifier((state) => {
    try {
      const sent = send(state);
      failing = false;
      return sent;
    } catch (error) {
      if (!failing) log.warning(`sd_notify failed (is systemd's notify socket gone?): ${(error as Error).message}`);
      failing = true;
      return false;
    }
  });
}

/**
 * The echo engines the addon was built with, so that aec.engine is checked with the configuration;
 * undefined when the addon does not load (opening the audio then reports that, with its reason).
 */
function builtEchoEngines(): string[] | undefined {
  try {
    return AudioEngine.buildInfo().echoEngines;
  } catch {
    return undefined;
  }
}

/** Runs the daemon; `signals` were installed before anything else was loaded. */
export async function main(signals: EarlySignals): Promise<void> {
  ignoreEpipe();
  let args: ReturnType<typeof parseCommandLine>;
  try {
    args = parseCommandLine();
  } catch (error) {
    process.stderr.write(`speakerd: ${(error as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  const echoEngines = builtEchoEngines();
  if (echoEngines !== undefined) args.base.echoEngines = echoEngines;
  const initial = await loadWithRuntime(args.base, {});
  if (args.print) {
    process.stdout.write(printableConfig(initial.config));
    return;
  }
  if (args.check) {
    process.stdout.write(`configuration OK${initial.files.length ? ` (${initial.files.join(', ')})` : ' (built-in defaults)'}\n`);
    return;
  }
  if (args.grants) {
    // The systemd drop-in for the configured board's sysfs LEDs (src/leds/unit-grants.ts).
    const board = initial.config.leds.board;
    const profile = board ? await loadBoardProfile(board) : null;
    process.stdout.write(await unitGrants(profile?.name ?? 'none', profile?.leds ?? null, process.env.SPEAKERD_SYSFS_LEDS_ROOT || undefined));
    return;
  }
  const root = createLogger({ level: initial.config.log.level });
  const log = root.child('speakerd');
  if (initial.apiKey) root.redact(initial.apiKey);
  for (const w of initial.warnings) log.warning(w);

  // A second instance stops here, before it opens audio or touches the first one's state files.
  const controlConfig = initial.config.control;
  const activated = activationFd(process.env, process.pid) !== null;
  if (!activated) {
    await socketDirectory(controlConfig.socket, controlConfig.group);
    await clearStaleSocket(controlConfig.socket);
  }

  const stateFile = initial.config.state.file;
  const store = new StateStore(stateFile, { defaults: { volume: initial.config.audio.volume } });
  await mkdir(dirname(stateFile), { recursive: true, mode: 0o750 }).catch((error: Error) =>
    log.warning(`cannot create the state directory (changes will not persist until it exists): ${error.message}`),
  );
  const { state, warnings } = await store.load();
  for (const w of warnings) log.warning(w);
  const stored = admissibleOverrides(state.config, RuntimeConfig.keyFilePath(stateFile));
  if (stored.dropped.length > 0) {
    log.warning(`ignoring run-time changes of keys that are not settable at run time: ${stored.dropped.join(', ')}; set them in /etc/speakerd`);
  }
  let loaded = initial;
  let runtime = stored.runtime;
  if (Object.keys(runtime).length > 0) {
    try {
      loaded = await loadWithRuntime(args.base, runtime);
    } catch (error) {
      log.warning(`ignoring run-time configuration changes that are no longer valid: ${(error as Error).message}`);
      runtime = {};
    }
  }
  if (loaded.apiKey) root.redact(loaded.apiKey);
  const version = packageVersion(join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'package.json'));
  const notifier = safeNotifier(log);
  let service: Service | null = null;
  const basics = (): { volume: number; muted: boolean } => ({ volume: service?.getVolume() ?? state.volume, muted: service?.isMuted() ?? state.muted });
  const config = new RuntimeConfig(args.base, store, loaded, runtime, basics, (m) => log.warning(m));
  service = new Service({
    config: loaded.config,
    apiKey: loaded.apiKey,
    defaultUrls: DEFAULT_AI_URLS,
    state: { volume: state.volume, muted: state.muted },
    saveState: (s) => store.save(() => ({ ...s, config: config.persisted() })),
    loadConfig: () => config.reload(),
    diffConfig,
    setConfigKey: (key, value) => config.set(key, value),
    configValue,
    log,
    version,
    ...(echoEngines === undefined ? {} : { echoEngines }),
    onApiKey: (key) => root.redact(key),
    onLogLevel: (level) => root.setLevel(level),
    ...(process.env.SPEAKERD_TEST_HOOKS === '1' ? { stateRetryMs: 300 } : {}),
  });
  const running = service;
  const peripherals = await LedsButtons.start(running, { log: root.child('leds') });
  await running.start();
  const control = await ControlServer.start({
    path: controlConfig.socket,
    target: running,
    mode: parseMode(controlConfig.mode),
    maxClients: controlConfig.maxClients,
    maxLineBytes: controlConfig.maxLineBytes,
    idleTimeoutMs: controlConfig.idleTimeoutMs,
    adminUids: controlConfig.adminUids,
    keyAccess: (key) => KEYS.get(key)?.access,
    ...(controlConfig.group ? { group: controlConfig.group } : {}),
    ...(controlConfig.allowUids.length ? { allowUids: controlConfig.allowUids } : {}),
    peerCredentials: unixPeer,
    logger: { info: (m) => root.child('control').info(m), warn: (m) => root.child('control').warning(m), audit: (m) => root.child('audit').audit(m) },
  });
  running.events.on('event', (e: { event: string; data: Record<string, unknown> }) => {
    if (e.event === 'state') notifier.status(String(e.data.state));
  });

  const watchdog = startWatchdog(running, loaded.config.watchdog.maxLoopLagMs, log);

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
    await running.stop();
    await peripherals.stop();
    await store.flush();
    root.flush();
    process.exit(0);
  };
  const reload = (): void => {
    notifier.reloading();
    running
      .reload()
      .then(() => log.info('configuration reloaded'))
      .catch((error: Error) => log.error(`reload refused, keeping the running configuration: ${error.message}`))
      .finally(() => notifier.ready(running.currentState));
  };
  if (process.env.SPEAKERD_TEST_HOOKS === '1') {
    process.on('SIGUSR2', () => {
      log.warning('test hook: stalling the audio clock for 30 s');
      running.stallAudioForTest(30000);
    });
    process.on('SIGWINCH', () => {
      log.warning('test hook: keeping the event loop busy for 2 s');
      const until = performance.now() + 2000;
      while (performance.now() < until);
    });
  }
  notifier.ready(running.currentState);
  log.info('started', { version, backend: loaded.config.ai.backend, socket: control.path });
  signals.ready({ stop: (signal) => void stop(signal), reload });
}

/** Exits with the status an error at start-up calls for (78 for what a restart cannot fix). */
export function exitOnError(error: unknown): never {
  if (error instanceof ConfigError) {
    process.stderr.write(`speakerd: invalid configuration:\n${error.message}\n`);
    process.exit(EX_CONFIG);
  }
  const e = error as Error & { code?: string };
  const prefix = e.code && !e.message.startsWith(e.code) ? `${e.code}: ` : '';
  process.stderr.write(`<3>speakerd: ${prefix}${e.message}\n`);
  process.exit(e.code !== undefined && SETUP_CODES.has(e.code) ? EX_CONFIG : 1);
}
