/**
 * The one interface between TypeScript and the native audio engine.
 *
 * `native-binding.ts` loads the C++ addon that implements it; `fake-binding.ts` implements it in
 * TypeScript for unit tests of the layers above. One contract suite (test/contract) runs against both.
 * Port ids are opaque numbers; port 0 is the sound device (its rx is the echo-cancelled microphone,
 * its tx the speaker). TX and RX are named from the bridge's point of view.
 */
import type { NativeAecPostStats, NativeEchoPostFilter, NativeEchoPostOptions, NativePlaybackShaper, NativePlaybackShaperOptions } from './binding-post.js';

/** Options of a native engine. Every field is optional; defaults are stated per field. */
export interface NativeEngineOptions {
  /** 'null' (default): a native real-time clock, silent microphone, discarded speaker. */
  device?: 'null' | 'alsa';
  /** No audio thread: time advances only through step() (tests). Default false. */
  manualClock?: boolean;
  /** Bridge rate in Hz, default 16000. */
  bridgeRate?: number;
  /** Sound device rate in Hz, default 48000. */
  deviceRate?: number;
  /** Open the ALSA device at the bridge rate when it takes it without converting (else deviceRate). Default false. */
  matchBridgeRate?: boolean;
  /** ALSA capture PCM name, default 'default'. */
  capture?: string;
  /** ALSA playback PCM name, default 'default'. */
  playback?: string;
  /** A private ALSA configuration file used instead of the system's. */
  alsaConfig?: string;
  /** Channels of the capture device, default 1 (downmixed by averaging). */
  captureChannels?: number;
  /** Channels of the playback device, default 1 (the mono mix is copied to each). */
  playbackChannels?: number;
  /** ALSA buffer length in 10 ms periods, default 4. */
  bufferPeriods?: number;
  /** Periods of silence written before playback starts, default 2. */
  prefillPeriods?: number;
  /**
   * ALSA period in ms, 10-40 in whole 10 ms ticks, default 10: the audio thread wakes once a period
   * and runs its ticks back to back. bufferPeriods and prefillPeriods count 10 ms whatever the period;
   * prefill must cover a period and a tick more, the buffer two periods.
   */
  periodMs?: number;
  /** speexdsp resampler quality for capture, default 5. */
  captureQuality?: number;
  /** speexdsp resampler quality for playback, default 5. */
  playbackQuality?: number;
  /** Echo canceller on, default true. */
  aec?: boolean;
  /** Echo engine, default 'speex'; 'webrtc' only when the addon was built with webrtc-audio-processing. */
  aecEngine?: NativeEchoEngineName;
  /** WebRTC engine: how hard its residual echo suppressor works, default 'low'. */
  aecSuppression?: NativeEchoSuppression;
  /**
   * WebRTC AEC2: the most its suppressor cuts per frequency bin while the double-talk detector hears the
   * user, dB -60..0; -60 (default) leaves it as the library has it. Where the engine cannot, it runs
   * without (stats' aec.userEase 'unsupported').
   */
  aecNearTalkMaxCutDb?: number;
  /** Echo canceller filter length in ms, default 250. */
  aecTailMs?: number;
  /**
   * Playback-to-capture delay in ms; -1 (default) estimates it from the audio (snd_pcm_delay until the
   * estimator is confident).
   */
  aecDelayMs?: number;
  /** Longest echo path delay the estimator searches, in ms, default 500. */
  aecMaxDelayMs?: number;
  /** How far the reference leads the echo, in ms, default 20. */
  aecMarginMs?: number;
  /** Noise suppression and residual echo suppression, default true. */
  denoise?: boolean;
  /** After the canceller: double-talk detector, residual echo suppression, AGC (rate/frame ignored). */
  post?: NativeEchoPostOptions;
  /** Before the reference tap: ducking and output ceiling (rate/frame ignored). */
  shaper?: NativePlaybackShaperOptions;
  /** Ask for SCHED_FIFO on the audio thread, default true (stays normal when not permitted). */
  realtime?: boolean;
  /** SCHED_FIFO priority, default 50. */
  realtimePriority?: number;
  /** First delay before reopening a failed device, default 500 ms (doubles up to retryMaxMs). */
  retryMinMs?: number;
  /** Longest delay between device reopen attempts, default 10000 ms. */
  retryMaxMs?: number;
}

/** The echo engines: speexdsp (always built) and WebRTC audio processing (when found at build time). */
export type NativeEchoEngineName = 'speex' | 'webrtc';

/** Residual echo suppression levels of the WebRTC engine. */
export type NativeEchoSuppression = 'low' | 'moderate' | 'high';

/**
 * Whether the echo engine eases its own suppressor for the user (aecNearTalkMaxCutDb): 'off' when not
 * asked, 'on', or 'unsupported' (asked, but the engine cannot: speex, AEC3, or an AEC2 library that does
 * not export its suppression step; the engine then runs as the library has it).
 */
export type NativeUserEase = 'off' | 'on' | 'unsupported';

/** Where the echo path delay the reference is aligned with comes from. */
export type NativeDelaySource = 'none' | 'config' | 'device' | 'estimate';

/** The echo canceller's state as the engine reports it. */
export interface NativeAecStats {
  erleDb: number;
  converged: boolean;
  /** The echo engine running. */
  engine: NativeEchoEngineName;
  userEase: NativeUserEase;
  /** The estimator's echo path delay in ms (-1 while it has none), whether or not it is applied. */
  delayEstimateMs: number;
  /** Confidence of that estimate, 0 to 1. */
  delayConfidence: number;
}

/** Names of the events the engine delivers. */
export type NativeEventType =
  'eof' | 'tone_done' | 'tx_ready' | 'drained' | 'underrun' | 'flushed' | 'recorder_data' | 'device_open' | 'device_open_failed' | 'device_lost';

/**
 * One engine event; `a` and `b` carry per-type numbers (see native/ports/port.h). `timeUs` is the
 * CLOCK_MONOTONIC time it happened (the audio tick), in µs: the same clock as process.hrtime().
 */
export interface NativeEvent {
  type: NativeEventType;
  port: number;
  a: number;
  b: number;
  timeUs: number;
  code?: string;
  message?: string;
}

/** Counters of one port. */
export interface NativePortStats {
  rxFrames: number;
  txFrames: number;
  underruns: number;
  dropped: number;
}

/** State of a ring port (positions and counts in samples at the ring's rate). */
export interface NativeRingStatus {
  txBuffered: number;
  rxBuffered: number;
  readPosition: number;
  writePosition: number;
  played: number;
  playing: boolean;
  underruns: number;
  dropped: number;
}

/** Engine-wide statistics. */
export interface NativeEngineStats {
  frames: number;
  xruns: number;
  deviceErrors: number;
  eventsDropped: number;
  tickMaxUs: number;
  tickAvgUs: number;
  deviceState: 'null' | 'open' | 'retrying' | 'closed';
  /** The rate the open ALSA device runs at (0: none open). */
  deviceRate: number;
  /** The capture period the open ALSA device granted, in frames at deviceRate (0: none open): one wakeup each. */
  devicePeriodFrames: number;
  realtime: boolean;
  /** The echo path delay the reference is aligned with (before aecMarginMs), -1 when unknown. */
  aecDelayMs: number;
  /** Where aecDelayMs comes from: aec.delayMs, snd_pcm_delay, or the estimator. */
  aecDelaySource: NativeDelaySource;
  aec: NativeAecStats | null;
  /** Double-talk state, suppression, AGC gain, ducking, output ceiling. */
  aecPost: NativeAecPostStats;
}

/** Signal level meters of a port, 0..255. */
export interface NativeMeters {
  rx: number;
  tx: number;
}

/** A running engine. Every method throws Error{code:'ERR_ENGINE_CLOSED'} after close(). */
export interface NativeEngine {
  start(): void;
  close(): void;
  step(ticks: number): void;
  createPlayer(samples: Int16Array, rate: number, loop: boolean): number;
  createRecorder(rate: number, capacity: number, notify: number): number;
  /** segments: rows of [freq1 Hz, freq2 Hz (0 = none), amplitude 0..1, duration ms]. */
  createTone(rate: number, segments: Float64Array, loop: boolean): number;
  /** rate: what the port plays into the bridge; txRate (default rate): what the bridge sends to JS. */
  createRing(rate: number, txCapacity: number, rxCapacity: number, batch: number, prebuffer: number, txRate?: number): number;
  removePort(port: number): void;
  connect(source: number, sink: number, level: number): void;
  disconnect(source: number, sink: number): void;
  setLevel(port: number, rx: boolean, level: number): void;
  getLevel(port: number, rx: boolean): number;
  meters(port: number): NativeMeters;
  readRecorder(port: number, out: Int16Array): number;
  readTx(port: number, out: Int16Array): number;
  /**
   * Exactly `samples` waiting samples, read straight from the ring, written as base64 of their
   * little-endian bytes into out[offset...]; returns the bytes written, or 0 (reading nothing) while
   * fewer are waiting. RangeError when out cannot hold them.
   */
  readTxBase64(port: number, out: Uint8Array, offset: number, samples: number): number;
  writeRx(port: number, samples: Int16Array): number;
  flush(port: number): void;
  drain(port: number): void;
  /** While nothing is buffered for playout: gives the playout ring's memory back; returns the bytes released (0 otherwise). */
  trimRx(port: number): number;
  setPrebuffer(port: number, samples: number): void;
  ringStatus(port: number): NativeRingStatus;
  portStats(port: number): NativePortStats;
  stats(): NativeEngineStats;
  /** Stops the audio clock for `ms` as a hung audio thread would (watchdog tests). */
  stallForTest(ms: number): void;
}

/** The offline echo canceller (one of the engine's echo engines, run on whole buffers). */
export interface NativeEchoCanceller {
  /**
   * Cancels the echo of `reference` in `mic` (whole frames). `nearTalk` (one value per frame, non-zero:
   * the user talks) is what the engine's double-talk detector would tell the engine; `easedPowerRatio`
   * (one per frame) receives the engine's eased power ratio: 1 unless its suppressor was eased.
   */
  process(mic: Int16Array, reference: Int16Array, nearTalk?: Uint8Array, easedPowerRatio?: Float32Array): Int16Array;
  /** Forgets the adapted filter, as the engine does when the device reopens. */
  reset(): void;
  stats(): { erleDb: number; converged: boolean; frames: number; engine: NativeEchoEngineName; userEase: NativeUserEase };
}

/** Options of an offline echo canceller. */
export interface NativeEchoOptions {
  /** Default 'speex'; an engine the build lacks throws Error{code:'ERR_AEC_ENGINE_UNAVAILABLE'}. */
  engine?: NativeEchoEngineName;
  rate?: number;
  frame?: number;
  tailMs?: number;
  denoise?: boolean;
  /** speex: residual echo attenuation with the far end alone, default -40 dB. */
  echoSuppressDb?: number;
  /** speex: residual echo attenuation during double talk, default -15 dB. */
  echoSuppressActiveDb?: number;
  /** webrtc: residual echo suppression level, default 'low'. */
  suppression?: NativeEchoSuppression;
  /** webrtc: how far the reference leads the echo (its stream delay), default 20 ms. */
  referenceLeadMs?: number;
  /**
   * webrtc AEC2: the most its suppressor cuts per frequency bin while the user talks (told per frame
   * through process()'s `nearTalk`), dB -60..0; -60, the default, leaves it as the library has it.
   */
  nearTalkMaxCutDb?: number;
}

/** The offline echo path delay estimator (the engine's own, run on whole buffers). */
export interface NativeDelayEstimator {
  /** Feeds the microphone and the reference as played at the same time (whole 10 ms frames). */
  process(mic: Int16Array, reference: Int16Array): void;
  /** The current estimate: delayMs -1 while there is none; changes counts how often it moved. */
  estimate(): { delayMs: number; confidence: number; changes: number };
}

/** Options of an offline delay estimator. */
export interface NativeDelayEstimatorOptions {
  /** Default 16000; a multiple of 400 Hz. */
  rate?: number;
  /** Longest delay searched, default 500 ms. */
  maxDelayMs?: number;
}

/** What the addon was built with. */
export interface NativeBuildInfo {
  /** The echo engines this build has ('speex' always). */
  echoEngines: NativeEchoEngineName[];
  /** webrtc-audio-processing API the webrtc engine uses: '0.3', '1', or '' without it. */
  webrtcApm: string;
}

/** An ALSA PCM device as `listDevices()` reports it. */
export interface NativeDeviceInfo {
  name: string;
  description: string;
  direction: 'input' | 'output' | 'duplex';
}

/** A datagram socket like systemd's notify socket (tests). */
export interface NativeNotifyReceiver {
  /** The next datagram and its sender's pid, or null after `timeoutMs`. */
  receive(timeoutMs: number): { message: string; pid: number } | null;
  close(): void;
}

/** Options of the systemd watchdog pinger. */
export interface NativeWatchdogOptions {
  /** How often it checks and pings, in ms: half of WATCHDOG_USEC. */
  intervalMs: number;
  /** Pings stop when heartbeat() was last called longer ago than this (default 1.6 × intervalMs). */
  maxLoopStallMs?: number;
  /** After the watched engine closes (or watch(null)), its absence is excused this long (default 0). */
  reopenGraceMs?: number;
  /** Where the pings go; default $NOTIFY_SOCKET as start() finds it ('@' = abstract namespace). */
  notifySocket?: string;
}

/** Why a check did not ping. */
export type NativeWatchdogReason = 'clock_stopped' | 'no_engine' | 'loop_stalled';

/** The pinger's counters (times in ms; -1 for "never"). */
export interface NativeWatchdogStatus {
  running: boolean;
  /** The latest check pinged. */
  pinging: boolean;
  pings: number;
  checks: number;
  /** Episodes: times pinging stopped (a run of failed checks counts once). */
  misses: number;
  /** Why the latest check did not ping ([] when it did). */
  reasons: NativeWatchdogReason[];
  /** Why the check that began the latest episode did not ping. */
  missReasons: NativeWatchdogReason[];
  /** How long the event loop had been silent at that check. */
  missHeartbeatAgeMs: number;
  heartbeatAgeMs: number;
  /** The gap between the last two heartbeats, and the longest gap so far. */
  lastLoopGapMs: number;
  longestLoopGapMs: number;
  lastPingAgeMs: number;
  sendErrors: number;
  lastSendError?: string;
  /** start() found a notify socket (without one it checks and counts, but sends nothing). */
  notifySocket: boolean;
  /** The watched engine: none, open, or closed since it was attached. */
  engine: 'none' | 'open' | 'closed';
  /** What is left of a grace declared with reopening(). */
  graceMs: number;
}

/**
 * The systemd watchdog pinger. The native one is a thread of this process that sends WATCHDOG=1 to the
 * notify socket every interval while the watched engine's frame counter advances and the event loop
 * has called heartbeat() within maxLoopStallMs, so a slow (not hung) event loop does not delay pings.
 */
export interface NativeWatchdog {
  /** Starts the thread; it checks (and pings) at once, then every interval. False without a socket. */
  start(): boolean;
  /** Stops and joins the thread: no ping is sent after it returns. */
  stop(): void;
  /** The engine whose clock is watched (an Engine of the same binding), or null for none. */
  watch(engine: NativeEngine | null): void;
  /** For the next `ms` a closed or absent engine does not stop the pings (0 ends the grace). */
  reopening(ms: number): void;
  /** The event loop is alive. */
  heartbeat(): void;
  status(): NativeWatchdogStatus;
}

/** What the addon exports. */
/** Options of a NetLink: where to connect, and TLS for wss:// (absent: plain TCP). */
export interface NativeNetLinkOptions {
  /** A numeric IPv4 or IPv6 address (resolved beforehand). */
  address: string;
  port: number;
  connectTimeoutMs?: number;
  tls?: {
    /** Sent as SNI ('' or absent: none, as for an IP address). */
    servername?: string;
    /** The name or address the certificate must carry (required while `verify` is true). */
    host?: string;
    /** Trusted roots, PEM texts (one or more certificates each). */
    ca?: string[];
    /** Also trust OpenSSL's default store (SSL_CERT_FILE, SSL_CERT_DIR, its OPENSSLDIR), as Node does with --use-openssl-ca. */
    systemRoots?: boolean;
    /** Client certificate chain and key, PEM (together or not at all). */
    cert?: string;
    key?: string;
    verify?: boolean;
    minVersion?: 'TLSv1.2' | 'TLSv1.3';
  };
}

/** What the native uplink frames: `prefix + base64(batch of PCM16 LE) + suffix` as one text message. */
export interface NativeUplinkOptions {
  prefix: string;
  suffix: string;
  /** Samples per message (the ring's batch). */
  batch: number;
  /** Older audio is dropped, and no audio is written while the peer lags this much behind (ms). */
  maxAgeMs: number;
  /** Bytes not yet written to the kernel above which no more audio is framed. */
  highWaterBytes: number;
  /** The longest that audio sent waits for a ping that probes whether the peer read it (ms). */
  probeIntervalMs: number;
  /**
   * Within this much of that deadline a probe goes out with a batch that is ready, in the batch's
   * write (one wakeup and one write fewer than a probe alone), ms; default 0: always at the deadline.
   */
  probeGraceMs?: number;
}

/** What the native uplink did, cumulative for its link. */
export interface NativeUplinkStats {
  sentSamples: number;
  sentMessages: number;
  staleSamples: number;
  staleMessages: number;
  /** Probe pings sent, and how many of them went out without audio in the same write. */
  probes: number;
  probesAlone: number;
  /** Writes to the socket (send or SSL_write) that took bytes, the link's own and ws's. */
  sends: number;
  /** Age of the oldest audio the peer has not been proven to have read (ms). */
  lagMs: number;
  attached: boolean;
  /** Capture to kernel of the latest messages (at most 512), oldest first. */
  micToWireMs: Float32Array;
}

/** Events of a NetLink: 'connect', 'data' (Buffer), 'written' (writes completed), 'end', 'error' ({code, message}). */
export type NativeNetEvent = 'connect' | 'data' | 'written' | 'end' | 'error';

/** The AI service's socket on a native thread (native/net/net_link.h). */
export interface NativeNetLink {
  write(data: Uint8Array): void;
  /** The stream is WebSocket frames from the bytes written so far on. */
  markFrames(): void;
  setReading(reading: boolean): void;
  end(): void;
  destroy(): void;
  /** Sends the microphone of ring `port` of `engine` (a NativeEngine) natively, framed with `options`. */
  attachUplink(engine: unknown, port: number, options: NativeUplinkOptions): void;
  /** Stops it; the ring is JS's again when this returns. */
  detachUplink(): void;
  uplinkStats(): NativeUplinkStats;
}

export interface NativeBinding {
  /** SO_PEERCRED of a connected Unix socket's file descriptor, or null. */
  peerCredentials?(fd: number): { uid: number; gid: number; pid: number } | null;
  /**
   * spidev settings (SPI_IOC_WR_MODE, _BITS_PER_WORD, _MAX_SPEED_HZ; speedHz 0 leaves the clock) on an
   * open descriptor; throws {code:'ERR_SPI_CONFIG'} when the device refuses one.
   */
  spiConfigure?(fd: number, mode: number, speedHz: number, bitsPerWord: number): void;
  /** The codes of an input device's switches that are on now (EVIOCGSW); throws {code:'ERR_BUTTON_DEVICE'}. */
  evdevSwitches?(fd: number): number[];
  /** sd_notify: sends `state` to $NOTIFY_SOCKET; false when it is unset. */
  notify?(state: string): boolean;
  /** Test receiver for sd_notify datagrams (a leading '@' is the abstract namespace). */
  NotifyReceiver?: new (path: string) => NativeNotifyReceiver;
  Engine: new (options: NativeEngineOptions, onEvent: (event: NativeEvent) => void) => NativeEngine;
  /** The systemd watchdog pinger (absent from addons built before it). */
  Watchdog?: new (options: NativeWatchdogOptions) => NativeWatchdog;
  EchoCanceller: new (options: NativeEchoOptions) => NativeEchoCanceller;
  DelayEstimator: new (options: NativeDelayEstimatorOptions) => NativeDelayEstimator;
  buildInfo(): NativeBuildInfo;
  /** The post filter after the canceller, offline (native only). */
  EchoPostFilter?: new (options: NativeEchoPostOptions) => NativeEchoPostFilter;
  /** The playback side's ducking and ceiling, offline (native only). */
  PlaybackShaper?: new (options: NativePlaybackShaperOptions) => NativePlaybackShaper;
  resample(samples: Int16Array, inRate: number, outRate: number, quality: number): Int16Array;
  listDevices(): NativeDeviceInfo[];
  /** The AI service's socket with the native uplink (absent from the fake and from older addons). */
  NetLink?: new (options: NativeNetLinkOptions, onEvent: (type: NativeNetEvent, payload: unknown) => void) => NativeNetLink;
}
