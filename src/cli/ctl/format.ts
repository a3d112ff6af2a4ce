/**
 * Human-readable output of speakerctl (without --json). Tolerant of missing fields, so that an older
 * or newer daemon still prints something sensible.
 */

type Obj = Record<string, unknown>;

function obj(value: unknown): Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Obj) : {};
}

function str(value: unknown, fallback = '?'): string {
  return value === undefined || value === null ? fallback : String(value);
}

/** "1h 02m 03s" from seconds. */
export function formatDuration(seconds: unknown): string {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number): string => String(n).padStart(2, '0');
  if (h > 0) return `${h}h ${pad(m)}m ${pad(s % 60)}s`;
  if (m > 0) return `${m}m ${pad(s % 60)}s`;
  return `${s}s`;
}

function lastError(value: unknown): string {
  if (value === null || value === undefined) return 'none';
  const e = obj(value);
  const http = e.httpStatus !== undefined ? ` (HTTP ${str(e.httpStatus)})` : '';
  const at = e.at !== undefined ? ` at ${str(e.at)}` : '';
  return `${str(e.code)}: ${str(e.message, '')}${http}${at}`;
}

/** A number with one decimal, or '?' when it is not a number. */
function oneDecimal(value: unknown): string {
  return typeof value === 'number' && Number.isFinite(value) ? value.toFixed(1) : '?';
}

/**
 * The echo canceller of a `status` result on one line: engine, ERLE, the delay in use and its source,
 * and the estimator's figure when it differs in kind (e.g. aec.delayMs overrides it).
 */
export function formatAec(aec: Obj): string {
  const engine = typeof aec.engine === 'string' ? `${aec.engine}, ` : '';
  const ease = aec.userEase === 'on' ? ', eased for the user' : aec.userEase === 'unsupported' ? ', cannot ease for the user' : '';
  const head = `${engine}ERLE ${oneDecimal(aec.erleDb)} dB, ${aec.converged ? 'converged' : 'converging'}${ease}`;
  if (typeof aec.delayMs !== 'number') return head;
  const delay = aec.delayMs < 0 ? 'delay unknown' : `delay ${oneDecimal(aec.delayMs)} ms (${str(aec.delaySource)})`;
  const estimate =
    typeof aec.delayEstimateMs === 'number' && aec.delayEstimateMs >= 0
      ? `, estimate ${oneDecimal(aec.delayEstimateMs)} ms at confidence ${typeof aec.delayConfidence === 'number' ? aec.delayConfidence.toFixed(2) : '?'}`
      : ', no estimate yet';
  return `${head}; ${delay}${estimate}`;
}

/** The post filter and playback side (audio.aecPost) in one line. */
function aecPostLine(value: unknown): string {
  if (value === null || value === undefined) return 'off';
  const p = obj(value);
  const duck = p.duckActive === true ? ', ducking' : '';
  const ceiling = typeof p.limiterDb === 'number' && p.limiterDb < 0 ? `, ceiling ${oneDecimal(p.limiterDb)} dB` : '';
  const gated = typeof p.agcAppliedDb === 'number' && typeof p.agcGainDb === 'number' && p.agcAppliedDb < p.agcGainDb;
  const applied = gated ? ` (${oneDecimal(p.agcAppliedDb)} dB between words)` : '';
  return `${str(p.talk)}, suppression ${oneDecimal(p.suppressionDb)} dB, AGC ${oneDecimal(p.agcGainDb)} dB${applied}${duck}${ceiling}`;
}

/** The open sound device's rate and period (" at 48000 Hz, 20 ms periods"), or nothing without one. */
function deviceClock(audio: Obj): string {
  const rate = audio.deviceRate;
  if (typeof rate !== 'number' || rate <= 0) return '';
  const period = typeof audio.devicePeriodMs === 'number' && audio.devicePeriodMs > 0 ? `, ${audio.devicePeriodMs} ms periods` : '';
  return ` at ${rate} Hz${period}`;
}

/** The `status` result as aligned lines. */
export function formatStatus(result: Obj): string {
  const c = obj(result.connection);
  const a = obj(result.audio);
  const aec = a.aec === null || a.aec === undefined ? 'off' : formatAec(obj(a.aec));
  const rows: [string, string][] = [
    ['state', str(result.state)],
    ['muted', result.muted === true ? 'yes' : result.muted === false ? 'no' : '?'],
    ['volume', str(result.volume)],
    ['backend', str(result.backend)],
    ['connection', `${c.connected ? 'connected' : 'not connected'} (${str(c.state)}, ${str(c.reconnects)} reconnects)`],
    ['uptime', formatDuration(result.uptimeS)],
    [
      'audio',
      `device ${str(a.deviceState)}${deviceClock(a)}, ${str(a.frames)} frames, ${str(a.xruns)} xruns, ${str(a.underruns)} underruns, ${str(a.dropped)} dropped`,
    ],
    ['tick', `avg ${oneDecimal(a.tickAvgUs)} us, max ${oneDecimal(a.tickMaxUs)} us`],
    ['echo canceller', aec],
    ['post filter', aecPostLine(a.aecPost)],
    ['last error', lastError(result.lastError)],
  ];
  return rows.map(([k, v]) => `${`${k}:`.padEnd(16)}${v}`).join('\n');
}

function formatDevices(result: Obj): string {
  const list = Array.isArray(result.devices) ? result.devices.map(obj) : [];
  if (list.length === 0) return 'no sound devices';
  const width = Math.max(...list.map((d) => str(d.name).length));
  return list.map((d) => `${str(d.name).padEnd(width)}  ${str(d.direction).padEnd(6)}  ${str(d.description, '')}`.trimEnd()).join('\n');
}

function formatConfigValue(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}

/**
 * The text printed for a successful reply (empty: print nothing). `rttMs` is the measured round trip,
 * shown by `ping`.
 */
export function formatResult(cmd: string, result: Obj, rttMs = 0): string {
  switch (cmd) {
    case 'status':
      return formatStatus(result);
    case 'mute':
    case 'unmute':
    case 'toggle_mute':
      return result.muted ? 'muted' : 'unmuted';
    case 'volume':
      return `volume ${str(result.volume)}`;
    case 'devices':
      return formatDevices(result);
    case 'version':
      return `speakerd ${str(result.version)} (node ${str(result.node)}, addon ${str(result.addon)}, protocol ${str(result.protocol)})`;
    case 'ping':
      return `pong from speakerd in ${rttMs.toFixed(1)} ms`;
    case 'config_get':
      return formatConfigValue(result.value);
    default:
      return '';
  }
}
