/**
 * The one convict schema of speakerd: every key has a `doc`, a `format` and a `default`, plus
 * `effect` (what applying a change takes, see {@link KeyEffect}). Unknown keys are errors.
 */

import type convict from 'convict';
import { bool, int, listOf, num, octalMode, oneOf, path, serviceUrl, str, uidList } from './formats.js';
import { EFFECT_ORDER, envVarName, flattenSchema, type KeyAccess, type KeyEffect, type KeySpec } from './keys.js';
import type { SpeakerdConfig } from './types.js';
import { boardFormat, clockFormat, ledLookFormat } from '../leds/spec.js';
import { headerProblem } from '../ai/backends/handshake.js';

export type { AiBackendName, AudioDeviceType, BuiltinTool, LogLevel, SpeakerdConfig } from './types.js';
export { EFFECT_ORDER, envVarName, type KeyAccess, type KeyEffect, type KeySpec };

const LEVELS = ['debug', 'info', 'notice', 'warning', 'error'] as const;
const NAME = /^[A-Za-z0-9_.:,=@+-]*$/;
const GROUP = /^$|^[A-Za-z_][A-Za-z0-9_-]{0,31}\$?$|^[0-9]{1,10}$/;
const CREDENTIAL = /^$|^(?!\.\.?$)[A-Za-z0-9_.@-]{1,255}$/;
const look = (what: string, value: string, access: 'control' | 'admin' = 'control') => ({
  doc: `LEDs for ${what}: "<colour> <pattern> [<period ms>]" or "off"; colour #rrggbb or a name, pattern solid, blink, breathe, spin or level.`,
  format: ledLookFormat,
  default: value,
  effect: 'live',
  access,
});
/** Extra handshake headers as 'Name: value' strings; names carrying credentials or steering the connection are refused. */
const headerList = (value: unknown): void => {
  if (!Array.isArray(value) || value.length > 32) throw new Error("must be an array of at most 32 'Name: value' strings");
  for (const item of value) {
    const m = typeof item === 'string' ? /^([^:]+):\s?(.*)$/.exec(item) : null;
    if (!m) throw new Error("must be an array of 'Name: value' strings");
    const problem = headerProblem((m[1] ?? '').trim(), m[2] ?? '');
    if (problem) throw new Error(`must not hold ${problem}`);
  }
};
const wav = (what: string) => ({
  doc: `WAV file played for ${what}; '' = the built-in sound.`,
  format: path({ optional: true }),
  default: '',
  effect: 'live',
  access: 'never',
});

/**
 * The convict schema (the source of every doc, format, default and effect). `access` says who may change
 * a key at run time over the control socket: 'control' (the socket's users), 'admin' (uid 0, the daemon's
 * uid, control.adminUids) or 'never' (a file, device, URL, socket, permission or limit: only the files
 * root owns set it). `hidden` keys are never returned by config_get.
 */
export const SCHEMA: convict.Schema<SpeakerdConfig> = {
  audio: {
    device: {
      doc: "Sound device: 'null' (a real-time clock, no hardware) or 'alsa'.",
      format: oneOf(['null', 'alsa']),
      default: 'null',
      effect: 'reopen',
      access: 'never',
    },
    capture: {
      doc: 'ALSA capture PCM (plugin chains such as plug, dsnoop, file work).',
      format: str(256, NAME, 'an ALSA PCM name'),
      default: 'default',
      effect: 'reopen',
      access: 'never',
    },
    playback: {
      doc: 'ALSA playback PCM (plug, dmix, file work).',
      format: str(256, NAME, 'an ALSA PCM name'),
      default: 'default',
      effect: 'reopen',
      access: 'never',
    },
    rate: { doc: 'Sound device rate in Hz (whole 10 ms periods).', format: int(8000, 192000, 100), default: 48000, effect: 'reopen', access: 'admin' },
    bridgeRate: { doc: 'Rate the conference bridge mixes at, in Hz.', format: int(8000, 48000, 100), default: 16000, effect: 'reopen', access: 'admin' },
    matchBridgeRate: {
      doc: 'Open the ALSA device at audio.bridgeRate when both PCMs take that rate as they are (a hw device that supports it; not through plug): nothing is resampled. Otherwise, or when false, the device runs at audio.rate and the engine resamples.',
      format: bool,
      default: false,
      effect: 'reopen',
      access: 'admin',
    },
    alsaConfig: {
      doc: "A private ALSA configuration file loaded instead of the system's; '' = the system's.",
      format: path({ optional: true }),
      default: '',
      effect: 'reopen',
      access: 'never',
    },
    captureChannels: { doc: 'Capture channels (the first one is used).', format: int(1, 8), default: 1, effect: 'reopen', access: 'admin' },
    playbackChannels: { doc: 'Playback channels (the mix is copied to each).', format: int(1, 8), default: 1, effect: 'reopen', access: 'admin' },
    bufferPeriods: {
      doc: 'ALSA buffer size in 10 ms periods (10 ms each whatever audio.periodMs is; at least two of its periods).',
      format: int(2, 32),
      default: 4,
      effect: 'reopen',
      access: 'admin',
    },
    prefillPeriods: {
      doc: 'Silent 10 ms periods written before playback starts (fewer than bufferPeriods; at least one audio.periodMs and a tick more): what is left of them when the audio thread wakes is the slack playback has against a late wakeup.',
      format: int(1, 31),
      default: 3,
      effect: 'reopen',
      access: 'admin',
    },
    periodMs: {
      doc: 'ALSA period in ms, in whole 10 ms ticks (the bridge still ticks every 10 ms): the audio thread wakes once a period and runs its ticks back to back. 20 wakes it half as often as 10 (docs/performance.md: what that saves) for up to 10 ms more on the way to the speaker and from the microphone; audio.prefillPeriods must then be at least periodMs / 10 + 1 (2 at 10 ms).',
      format: int(10, 40, 10),
      default: 20,
      effect: 'reopen',
      access: 'admin',
    },
    maxOutputDbfs: {
      doc: "Output peak ceiling in dBFS, applied before the echo canceller's reference tap (a limiter that keeps the loudspeaker out of its compression, so the echo path stays linear); 0 = the board profile's audio.maxOutputDbfs (leds.board), else none. Set it a little below where the loudspeaker starts to compress (e.g. -10 for one that compresses above 0.3 FS).",
      format: int(-60, 0),
      default: 0,
      effect: 'reopen',
      access: 'admin',
    },
    volume: {
      doc: 'Initial volume in percent, used until a volume has been persisted in the state file.',
      format: int(0, 100),
      default: 70,
      effect: 'live',
      access: 'control',
    },
  },
  aec: {
    enabled: { doc: 'Echo cancellation of the speaker in the microphone.', format: bool, default: true, effect: 'reopen', access: 'admin' },
    tailMs: { doc: 'Echo tail length in ms (room reverberation covered).', format: int(10, 1000), default: 250, effect: 'reopen', access: 'admin' },
    engine: {
      doc: "Echo engine: 'auto' (webrtc when this build has it on webrtc-audio-processing 0.3 and audio.bridgeRate is 8000, 16000, 32000 or 48000, else speex: webrtc is the one that keeps the user through double talk in a quiet room too, see docs/audio.md), 'speex' (speexdsp canceller and residual echo suppression; always built) or 'webrtc' (WebRTC audio processing: AEC2 with extended filter and delay-agnostic mode on webrtc-audio-processing 0.3, AEC3 on 1.x; only in builds that found the library: `speakerctl version` lists them; bridge rates 8000, 16000, 32000 or 48000). status shows the engine in use.",
      format: oneOf(['auto', 'speex', 'webrtc']),
      default: 'auto',
      effect: 'reopen',
      access: 'admin',
    },
    suppression: {
      doc: "WebRTC engine: how hard its residual echo suppressor works, 'low', 'moderate' or 'high' (higher removes more echo and more of the user talking over the speaker). AEC2 (webrtc-audio-processing 0.3) only: AEC3 (1.x, Yocto) has no levels. Not used by speex.",
      format: oneOf(['low', 'moderate', 'high']),
      default: 'low',
      effect: 'reopen',
      access: 'admin',
    },
    userMaxCutDb: {
      doc: "WebRTC engine on webrtc-audio-processing 0.3 (AEC2): the most its own echo suppressor may cut, in each frequency band, while the double-talk detector hears the user over the assistant's voice (dB, -60..0); -60 = as the library does it. AEC2 alone cuts a user talking over the assistant by 7-30 dB; eased, the linear canceller and ducking keep the echo down instead (docs/audio.md). Not used by speex or AEC3 (1.x); status shows audio.aec.userEase ('on', 'off', or 'unsupported' where the engine cannot).",
      format: int(-60, 0),
      default: -1,
      effect: 'reopen',
      access: 'admin',
    },
    delayMs: {
      doc: "Playback-to-capture delay of the echo path in ms; -1 = estimated from the audio while the speaker plays (the sound device's own figure until the estimate is confident; status shows both).",
      format: int(-1, 1000),
      default: -1,
      effect: 'reopen',
      access: 'admin',
    },
    maxDelayMs: { doc: 'Longest echo path delay the estimator searches, in ms.', format: int(10, 1000), default: 500, effect: 'reopen', access: 'admin' },
    marginMs: { doc: 'Safety margin subtracted from the measured delay, in ms.', format: int(0, 200), default: 20, effect: 'reopen', access: 'admin' },
    denoise: { doc: 'Noise suppression and residual echo suppression after the canceller.', format: bool, default: true, effect: 'reopen', access: 'admin' },
    suppressDb: {
      doc: 'Residual echo suppression (dB, <= 0) after the canceller while only the assistant talks, driven by the double-talk detector: it opens as soon as the user talks (alone or over the assistant); 0 = off.',
      format: int(-80, 0),
      default: -30,
      effect: 'reopen',
      access: 'admin',
    },
    agc: {
      doc: "AGC after the canceller: brings the user's speech to aec.agcTargetDbfs; it adapts only while the double-talk detector hears the user, so echo is never lifted.",
      format: bool,
      default: true,
      effect: 'reopen',
      access: 'admin',
    },
    agcTargetDbfs: { doc: "The AGC's target level of the user's speech, in dBFS.", format: int(-60, -3), default: -26, effect: 'reopen', access: 'admin' },
    duckDb: {
      doc: "Ducking depth in dB of a reply while the user talks over it (from 60 ms of detected speech until 300 ms after it); the service then decides whether to stop the reply. 0 = off. The default 12 dB kept the user over the reply within 2-3 dB in the room bench's enclosure, against about 6 dB without ducking (docs/audio.md).",
      format: int(0, 60),
      default: 12,
      effect: 'reopen',
      access: 'admin',
    },
  },
  ai: {
    backend: {
      doc: "AI backend: 'parrot' (local, no network: plays each utterance back), 'openai' (also OpenAI-compatible servers such as speaches with dialect beta), 'azure' (Azure OpenAI; ai.url names the resource), 'xai' (Grok voice), 'gemini' (Gemini Live; options in ai.gemini) or 'deepgram' (Deepgram Voice Agent; providers in ai.deepgram); 'elevenlabs' = ElevenLabs Agents (the agent in ai.elevenlabs).",
      format: oneOf(['parrot', 'openai', 'azure', 'xai', 'gemini', 'deepgram', 'elevenlabs']),
      default: 'parrot',
      effect: 'reconnect',
      access: 'never',
    },
    url: {
      doc: "Service endpoint (ws://, wss:// or local://); '' = the backend's default (openai: wss://api.openai.com/v1/realtime, xai: wss://api.x.ai/v1/realtime, gemini: wss://generativelanguage.googleapis.com/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent, deepgram: wss://agent.deepgram.com/v1/agent/converse, elevenlabs: wss://api.elevenlabs.io/v1/convai/conversation, parrot: local://parrot; azure has none: wss://<resource>.openai.azure.com/openai/v1/realtime).",
      format: serviceUrl,
      default: '',
      effect: 'reconnect',
      access: 'never',
    },
    model: {
      doc: "Model (azure: the deployment name), added to the URL as model=<name> when the URL carries none; '' = the backend's default (openai: gpt-realtime-1.5, xai: grok-voice-think-fast-1.0, gemini: gemini-2.5-flash-native-audio-preview-12-2025, a Live model with native audio). A deprecated OpenAI model is warned about at start.",
      format: str(200, /^[A-Za-z0-9._:/-]*$/, 'a model name'),
      default: '',
      effect: 'reconnect',
      access: 'admin',
    },
    dialect: {
      doc: "Protocol dialect: 'ga', 'beta', or 'auto' (from session.created).",
      format: oneOf(['ga', 'beta', 'auto']),
      default: 'ga',
      effect: 'reconnect',
      access: 'admin',
    },
    apiKeyFile: {
      doc: "File holding the API key (read whole, trimmed; must not be readable by group or others); '' = use the systemd credential.",
      format: path({ optional: true }),
      default: '',
      effect: 'reconnect',
      access: 'never',
      noEcho: true,
      hidden: true,
    },
    credential: {
      doc: "Name of the systemd credential holding the API key ($CREDENTIALS_DIRECTORY/<name>, LoadCredential=), used when apiKeyFile is ''; '' = none.",
      format: str(255, CREDENTIAL, 'a credential name (letters, digits, _ . @ -)'),
      default: 'ai-api-key',
      effect: 'reconnect',
      access: 'never',
      noEcho: true,
      hidden: true,
    },
    voice: {
      doc: "Voice of the assistant: a built-in name or a custom voice id (voice_…); '' = the service's default.",
      format: str(100, /^[A-Za-z0-9_.-]*$/, 'a voice name'),
      default: '',
      effect: 'live',
      access: 'control',
    },
    speed: {
      doc: 'Speaking speed of the assistant, 0.25 to 1.5 (applied between replies).',
      format: num(0.25, 1.5),
      default: 1.0,
      effect: 'live',
      access: 'control',
    },
    maxOutputTokens: {
      doc: 'Most output tokens per reply, 1 to 4096; 0 = no limit (the service maximum).',
      format: int(0, 4096),
      default: 0,
      effect: 'live',
      access: 'admin',
    },
    toolChoice: {
      doc: "How the model uses tools: 'auto', 'none' or 'required'.",
      format: oneOf(['auto', 'none', 'required']),
      default: 'auto',
      effect: 'live',
      access: 'admin',
    },
    truncation: {
      doc: "What the service does when the conversation outgrows the context window: 'auto' (drop old turns) or 'disabled' (fail the reply).",
      format: oneOf(['auto', 'disabled']),
      default: 'auto',
      effect: 'live',
      access: 'admin',
    },
    authScheme: {
      doc: "How the API key is sent in the handshake: 'bearer' (Authorization: Bearer), 'api-key' (api-key header; Azure) or 'token' (Authorization: Token); '' = the backend's. The key only goes to ai.url's host (redirects are not followed).",
      format: oneOf(['', 'bearer', 'api-key', 'token']),
      default: '',
      effect: 'reconnect',
      access: 'admin',
    },
    headers: {
      doc: "Extra handshake headers as 'Name: value' strings (e.g. 'OpenAI-Project: proj_…'); Authorization, api-key, Cookie, Host, Origin, Proxy-* and Sec-WebSocket-* are refused.",
      format: headerList,
      default: [],
      effect: 'reconnect',
      access: 'admin',
    },
    instructions: {
      doc: "System instructions for the model; '' = the service's default.",
      format: str(100000),
      default: '',
      effect: 'live',
      access: 'control',
    },
    turnDetection: {
      doc: "Who decides the end of a turn: 'server_vad', 'semantic_vad' or 'none' (push-to-talk).",
      format: oneOf(['server_vad', 'semantic_vad', 'none']),
      default: 'server_vad',
      effect: 'reconnect',
      access: 'admin',
    },
    vadThreshold: {
      doc: 'Server VAD threshold, 0 to 1 (higher = needs louder speech).',
      format: num(0, 1),
      default: 0.5,
      effect: 'reconnect',
      access: 'admin',
    },
    silenceDurationMs: { doc: 'Server VAD: silence in ms that ends a turn.', format: int(0, 10000), default: 500, effect: 'reconnect', access: 'admin' },
    transcriptionModel: {
      doc: "Model transcribing the user's speech; '' = no transcription.",
      format: str(200, /^[A-Za-z0-9._:/-]*$/, 'a model name'),
      default: '',
      effect: 'reconnect',
      access: 'admin',
    },
    transcriptionLanguage: {
      doc: "Language of the user's speech for the transcription, an ISO-639-1 code such as 'en'; '' = detected.",
      format: str(16, /^$|^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$/, "an ISO-639-1 code such as 'en'"),
      default: '',
      effect: 'live',
      access: 'control',
    },
    transcriptionPrompt: {
      doc: "Text guiding the transcription (expected words, style); '' = none.",
      format: str(4000),
      default: '',
      effect: 'live',
      access: 'admin',
    },
    noiseReduction: {
      doc: "Service-side input noise reduction: 'far_field', 'near_field' or 'none'.",
      format: oneOf(['far_field', 'near_field', 'none']),
      default: 'far_field',
      effect: 'reconnect',
      access: 'admin',
    },
    builtinTools: {
      doc: "Built-in tools offered to the model, from 'time', 'volume', 'mute'.",
      format: listOf(['time', 'volume', 'mute']),
      default: [],
      effect: 'reconnect',
      access: 'admin',
    },
    batchMs: { doc: 'Microphone audio per message, in ms.', format: int(10, 1000), default: 40, effect: 'reconnect', access: 'admin' },
    nativeSocket: {
      doc: "The service's socket (TCP and TLS) runs on the addon's own thread, which also sends the microphone (OpenAI, Azure, xAI) without waking JavaScript per message; false: Node's sockets, every message through JavaScript.",
      format: bool,
      default: true,
      effect: 'reconnect',
      access: 'admin',
    },
    prebufferMs: { doc: 'Reply audio buffered before playback starts, in ms.', format: int(0, 5000), default: 100, effect: 'reconnect', access: 'admin' },
    sessionLifetimeMs: {
      doc: 'A session is renewed proactively after this long, in ms (the service ends them at 60 min).',
      format: int(1000, 86400000),
      default: 3300000,
      effect: 'reconnect',
      access: 'admin',
    },
    deepgram: {
      listenModel: {
        doc: "Deepgram Voice Agent (ai.backend 'deepgram'): the speech-to-text model the agent listens with, e.g. 'nova-3' or 'flux-general-en' (flux-* use the V2 listen API); ai.transcriptionLanguage sets its language (Nova).",
        format: str(200, /^[A-Za-z0-9._:/-]+$/, 'a Deepgram listen model name'),
        default: 'nova-3',
        effect: 'reconnect',
        access: 'admin',
      },
      thinkProvider: {
        doc: "Deepgram Voice Agent: the LLM provider the agent thinks with, run with Deepgram's own keys: 'open_ai', 'anthropic', 'google' or 'groq'.",
        format: oneOf(['open_ai', 'anthropic', 'google', 'groq']),
        default: 'open_ai',
        effect: 'reconnect',
        access: 'admin',
      },
      thinkModel: {
        doc: "Deepgram Voice Agent: the LLM model of ai.deepgram.thinkProvider, e.g. 'gpt-4o-mini', 'gpt-4.1-mini', 'claude-3-5-haiku-latest', 'gemini-2.5-flash', 'openai/gpt-oss-20b' (groq). The prompt is ai.instructions.",
        format: str(200, /^[A-Za-z0-9._:/-]+$/, 'a model name'),
        default: 'gpt-4o-mini',
        effect: 'reconnect',
        access: 'admin',
      },
      speakModel: {
        doc: "Deepgram Voice Agent: the text-to-speech voice, an Aura ('aura-2-thalia-en') or Flux TTS ('flux-kit-en', the service's default) model; ai.voice, when set, takes its place.",
        format: str(200, /^[A-Za-z0-9._:/-]+$/, 'a Deepgram voice model name'),
        default: 'flux-kit-en',
        effect: 'reconnect',
        access: 'admin',
      },
    },
    gemini: {
      ephemeralTokens: {
        doc: "Gemini Live (ai.backend 'gemini'): before each new session, mint a single-use ephemeral token with the API key on ai.url's host (REST v1alpha/auth_tokens, locked to ai.model) and open the socket with it on the BidiGenerateContentConstrained endpoint; off: the key goes in the x-goog-api-key header of the WebSocket handshake.",
        format: bool,
        default: false,
        effect: 'reconnect',
        access: 'admin',
      },
      resumption: {
        doc: 'Gemini Live: ask for session resumption handles, so a reconnect after goAway (the ~10-minute connection cap) or a drop resumes the same session and the user notices nothing; off: each connection is a new session given the recent conversation as text.',
        format: bool,
        default: true,
        effect: 'reconnect',
        access: 'admin',
      },
      contextCompression: {
        doc: 'Gemini Live: context window compression (sliding window), so a session is not capped at ~15 minutes of audio.',
        format: bool,
        default: true,
        effect: 'reconnect',
        access: 'admin',
      },
      compressionTriggerTokens: {
        doc: "Gemini Live: context tokens that trigger the compression; 0 = the service's default (80 % of the context window). Needs ai.gemini.contextCompression.",
        format: int(0, 10000000),
        default: 0,
        effect: 'reconnect',
        access: 'admin',
      },
      inputTranscription: {
        doc: "Gemini Live: transcribe the user's speech (transcript events; ai.transcriptionLanguage is the language hint).",
        format: bool,
        default: true,
        effect: 'reconnect',
        access: 'admin',
      },
      outputTranscription: {
        doc: "Gemini Live: transcribe the assistant's speech (transcript events, and the conversation restored into a new session).",
        format: bool,
        default: true,
        effect: 'reconnect',
        access: 'admin',
      },
    },
    elevenlabs: {
      agentId: {
        doc: "ElevenLabs Agents (ai.backend 'elevenlabs'): the agent's id (agent_…, in the ElevenLabs dashboard under Agents); required with that backend.",
        format: str(128, /^[A-Za-z0-9_-]*$/, 'an agent id (agent_…)'),
        default: '',
        effect: 'reconnect',
        access: 'admin',
      },
      signedUrl: {
        doc: "ElevenLabs: a private agent (authentication enabled): before each conversation a signed URL is fetched with the API key (xi-api-key) from ai.url's host (GET <ai.url>/get-signed-url); the WebSocket never carries the key. false = a public agent, no key is sent.",
        format: bool,
        default: false,
        effect: 'reconnect',
        access: 'admin',
      },
      firstMessage: {
        doc: "ElevenLabs: overrides the agent's first message; '' = the agent's. The agent must allow this override (Security settings), else each conversation is refused (ERR_AI_CONFIG_REJECTED).",
        format: str(4000),
        default: '',
        effect: 'reconnect',
        access: 'control',
      },
      language: {
        doc: "ElevenLabs: overrides the agent's language, e.g. 'en', 'de', 'pt-br'; '' = the agent's. The agent must allow this override.",
        format: str(16, /^$|^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$/, "a language code such as 'en'"),
        default: '',
        effect: 'reconnect',
        access: 'control',
      },
    },
    tls: {
      caFile: {
        doc: "CA bundle (PEM) trusted for wss://; '' = the system's.",
        format: path({ optional: true }),
        default: '',
        effect: 'reconnect',
        access: 'never',
      },
      certFile: {
        doc: "Client certificate (PEM) for mutual TLS; '' = none. Needs keyFile.",
        format: path({ optional: true }),
        default: '',
        effect: 'reconnect',
        access: 'never',
      },
      keyFile: {
        doc: "Private key (PEM) of certFile; '' = none.",
        format: path({ optional: true }),
        default: '',
        effect: 'reconnect',
        access: 'never',
        hidden: true,
      },
      verify: { doc: "Verify the server's certificate (false only for tests).", format: bool, default: true, effect: 'reconnect', access: 'never' },
    },
  },
  control: {
    socket: {
      doc: 'Path of the control socket (newline-delimited JSON).',
      format: path({ optional: false, maxLength: 107 }),
      default: '/run/speakerd/control.sock',
      effect: 'restart',
      access: 'never',
    },
    group: {
      doc: "Group owning the control socket (name or gid); '' = the daemon's group.",
      format: str(32, GROUP, 'a group name or gid'),
      default: '',
      effect: 'restart',
      access: 'never',
    },
    mode: { doc: "Mode of the control socket, an octal string such as '0660'.", format: octalMode, default: '0660', effect: 'restart', access: 'never' },
    maxClients: { doc: 'Control clients connected at once; more are refused.', format: int(1, 1024), default: 64, effect: 'restart', access: 'never' },
    maxLineBytes: {
      doc: 'Longest request line in bytes; a longer one closes the connection.',
      format: int(1024, 16777216),
      default: 65536,
      effect: 'restart',
      access: 'never',
    },
    allowUids: {
      doc: "User ids allowed the 'control' level (mute, volume, say, safe config_set; checked with SO_PEERCRED); [] = everyone who can open the socket. Others may only read (status, events).",
      format: uidList(1024),
      default: [],
      effect: 'restart',
      access: 'never',
      itemType: 'number',
    },
    adminUids: {
      doc: "User ids given the 'admin' level besides uid 0 and the daemon's own: every key settable at run time, reload, the API key.",
      format: uidList(1024),
      default: [],
      effect: 'restart',
      access: 'never',
      itemType: 'number',
    },
    idleTimeoutMs: {
      doc: 'A client that sends nothing for this long and is not subscribed is disconnected, in ms.',
      format: int(1000, 86400000),
      default: 60000,
      effect: 'restart',
      access: 'never',
    },
  },
  earcons: {
    enabled: { doc: 'Play short sounds for ready, connection lost, error, mute and unmute.', format: bool, default: true, effect: 'live', access: 'control' },
    volume: { doc: 'Earcon volume, 0 to 1, relative to the device volume.', format: num(0, 1), default: 0.5, effect: 'live', access: 'control' },
    ready: wav('ready'),
    connectionLost: wav('a lost connection'),
    error: wav('an error'),
    mute: wav('mute'),
    unmute: wav('unmute'),
  },
  leds: {
    driver: {
      doc: "LEDs: 'auto' (the board profile's LEDs, none without a profile), 'none' (off) or 'console' (drawn on standard output, for development).",
      format: oneOf(['auto', 'none', 'console']),
      default: 'auto',
      effect: 'live',
      access: 'never',
    },
    board: {
      doc: "Board profile describing the LEDs and buttons: '' = none, a shipped name (respeaker-2mic, respeaker-4mic, sysfs-rgb, gpio-leds) or an absolute path to a JSON profile (docs/leds-buttons.md).",
      format: boardFormat,
      default: '',
      effect: 'live',
      access: 'never',
    },
    brightness: { doc: 'LED brightness, 0 to 1.', format: num(0, 1), default: 1.0, effect: 'live', access: 'control' },
    fps: {
      doc: 'Frames per second of animations on LED rings (single LEDs are written only when they change).',
      format: int(1, 60),
      default: 30,
      effect: 'live',
      access: 'admin',
    },
    night: {
      mode: {
        doc: "Night mode: 'off', 'on' (now) or 'schedule' (from start to end, local time). At night the idle light is off and the other states are dimmed.",
        format: oneOf(['off', 'on', 'schedule']),
        default: 'off',
        effect: 'live',
        access: 'control',
      },
      start: { doc: "Start of the night window, 'HH:MM' local time.", format: clockFormat, default: '22:00', effect: 'live', access: 'control' },
      end: { doc: "End of the night window, 'HH:MM' local time.", format: clockFormat, default: '07:00', effect: 'live', access: 'control' },
      brightness: {
        doc: 'Brightness factor at night of the states still shown (all but the idle light), 0 to 1.',
        format: num(0, 1),
        default: 0.2,
        effect: 'live',
        access: 'control',
      },
    },
    looks: {
      starting: look('starting and connecting', '#ffffff spin 1200'),
      listening: look('idle, listening', '#0040ff solid'),
      userSpeaking: look('the user speaking', '#00c0ff solid'),
      thinking: look('thinking (waiting for the reply)', '#00c0ff spin 1000'),
      speaking: look('speaking (level follows the reply)', '#00ff80 level'),
      offline: look('offline (reconnecting)', '#ff8000 breathe 3000'),
      error: look('a fatal error', '#ff0000 blink 1000'),
      volume: look('a volume change (level = volume), for 1.5 s', '#ffffff level'),
      // The privacy light: only an admin may change how it looks (a socket user must not be able to hide it).
      muted: look('mute, on the LEDs nearest the microphones, over every state but error, never dimmed below 20 %', '#ff0000 solid', 'admin'),
    },
  },
  buttons: {
    driver: {
      doc: "Buttons: 'auto' (the board profile's buttons and mute switch) or 'none'.",
      format: oneOf(['auto', 'none']),
      default: 'auto',
      effect: 'restart',
      access: 'never',
    },
    pushToTalk: {
      doc: "Hold the 'talk' button to talk: the microphone is silent unless it is held. Off: 'talk' interrupts the assistant.",
      format: bool,
      default: false,
      effect: 'live',
      access: 'admin',
    },
    longPressMs: {
      doc: 'A press held this long is a long press (e.g. reconnect); volume buttons start repeating after it, in ms.',
      format: int(200, 10000),
      default: 1000,
      effect: 'live',
      access: 'admin',
    },
    repeatMs: { doc: 'Interval of a held volume button, in ms.', format: int(50, 2000), default: 250, effect: 'live', access: 'admin' },
    debounceMs: {
      doc: 'GPIO buttons: a level must hold this long to count (contact bounce), in ms.',
      format: int(0, 500),
      default: 30,
      effect: 'restart',
      access: 'admin',
    },
    volumeStep: { doc: 'Volume change per press of a volume button, in percent.', format: int(1, 50), default: 5, effect: 'live', access: 'admin' },
  },
  log: {
    level: {
      doc: "Least severe level logged: 'debug', 'info', 'notice', 'warning' or 'error'.",
      format: oneOf(LEVELS),
      default: 'info',
      effect: 'live',
      access: 'control',
    },
  },
  state: {
    file: {
      doc: 'Where runtime changes (volume, mute) persist.',
      format: path({ optional: false }),
      default: '/var/lib/speakerd/state.json',
      effect: 'restart',
      access: 'never',
    },
  },
  watchdog: {
    maxLoopLagMs: {
      doc: 'How long the event loop may go without checking in before the systemd watchdog is no longer pinged, in ms; 0 = 0.8 × WatchdogSec. The pings themselves come from a native thread, so a loop that is slow but alive never delays one.',
      format: int(0, 600000),
      default: 0,
      effect: 'restart',
      access: 'never',
    },
  },
};

const flat = flattenSchema(SCHEMA as Record<string, unknown>);

/** Every key of the schema by dotted path, in schema order. */
export const KEYS: ReadonlyMap<string, KeySpec> = flat.keys;

/** Group paths ('' is the root) with the names of their children. */
export const GROUPS: ReadonlyMap<string, readonly string[]> = flat.groups;

/**
 * What a change of each key takes: 'live' (applied at once), 'reconnect' (new AI session),
 * 'reopen' (audio engine recreated) or 'restart' (kept until the daemon restarts).
 */
export const KEY_EFFECTS: Readonly<Record<string, KeyEffect>> = Object.freeze(Object.fromEntries([...flat.keys.values()].map((k) => [k.path, k.effect])));

/** Who may set each key at run time (see {@link KeyAccess}). */
export const KEY_ACCESS: Readonly<Record<string, KeyAccess>> = Object.freeze(
  Object.assign(Object.create(null) as Record<string, KeyAccess>, Object.fromEntries([...flat.keys.values()].map((k) => [k.path, k.access]))),
);

/** Default endpoint of each backend, used when `ai.url` is ''. */
export const DEFAULT_AI_URLS: Readonly<Record<SpeakerdConfig['ai']['backend'], string>> = {
  openai: 'wss://api.openai.com/v1/realtime',
  azure: '',
  xai: 'wss://api.x.ai/v1/realtime',
  gemini: 'wss://generativelanguage.googleapis.com/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent',
  deepgram: 'wss://agent.deepgram.com/v1/agent/converse',
  elevenlabs: 'wss://api.elevenlabs.io/v1/convai/conversation',
  parrot: 'local://parrot',
};
