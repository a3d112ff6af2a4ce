import type { AiPortParam } from '../ai/types.js';
import type { SpeakerdConfig } from '../config/types.js';
import { loadBoardProfile, type AudioProfile } from '../leds/board.js';
import type { AudioEngineOptions } from '../media/engine.js';

/**
 * The engine's options from `audio.*` and `aec.*`; `board` is the board profile's audio section, whose
 * output ceiling applies when audio.maxOutputDbfs is 0.
 */
export function engineOptions(config: SpeakerdConfig, board: AudioProfile | null = null): AudioEngineOptions {
  const a = config.audio;
  const device: AudioEngineOptions['device'] =
    a.device === 'alsa'
      ? {
          type: 'alsa',
          capture: a.capture,
          playback: a.playback,
          rate: a.rate,
          matchBridgeRate: a.matchBridgeRate,
          captureChannels: a.captureChannels,
          playbackChannels: a.playbackChannels,
          bufferPeriods: a.bufferPeriods,
          prefillPeriods: a.prefillPeriods,
          periodMs: a.periodMs,
          ...(a.alsaConfig ? { alsaConfig: a.alsaConfig } : {}),
        }
      : { type: 'null', rate: a.rate };
  return {
    device,
    bridgeRate: a.bridgeRate,
    aec: {
      enabled: config.aec.enabled,
      engine: config.aec.engine,
      suppression: config.aec.suppression,
      nearTalkMaxCutDb: config.aec.userMaxCutDb,
      tailMs: config.aec.tailMs,
      delayMs: config.aec.delayMs,
      maxDelayMs: config.aec.maxDelayMs,
      marginMs: config.aec.marginMs,
      denoise: config.aec.denoise,
      suppressDb: config.aec.suppressDb,
      agc: config.aec.agc,
      agcTargetDbfs: config.aec.agcTargetDbfs,
      duckDb: config.aec.duckDb,
      maxOutputDbfs: a.maxOutputDbfs !== 0 ? a.maxOutputDbfs : (board?.maxOutputDbfs ?? 0),
    },
  };
}

/**
 * The audio section of the board profile `leds.board` names; null without a board or when its profile
 * cannot be read (the LED and button extension reports that).
 */
export async function boardAudio(board: string, dir?: string): Promise<AudioProfile | null> {
  if (board === '') return null;
  return loadBoardProfile(board, dir).then(
    (profile) => profile.audio ?? null,
    () => null,
  );
}

/** The AI port's parameters from `ai.*` (no secrets: the key goes to connect()). */
export function aiParam(config: SpeakerdConfig): AiPortParam {
  const ai = config.ai;
  const param: AiPortParam = {
    backend: ai.backend,
    ...(ai.model ? { model: ai.model } : {}),
    dialect: ai.dialect,
    batchMs: ai.batchMs,
    nativeSocket: ai.nativeSocket,
    prebufferMs: ai.prebufferMs,
    sessionLifetimeMs: ai.sessionLifetimeMs,
    builtinTools: [...ai.builtinTools],
    noiseReduction: ai.noiseReduction === 'none' ? null : ai.noiseReduction,
    turnDetection:
      ai.turnDetection === 'none'
        ? null
        : ai.turnDetection === 'semantic_vad'
          ? { type: 'semantic_vad' }
          : { type: 'server_vad', threshold: ai.vadThreshold, silenceDurationMs: ai.silenceDurationMs },
  };
  if (ai.voice) param.voice = ai.voice;
  if (ai.instructions) param.instructions = ai.instructions;
  if (ai.transcriptionModel) {
    param.inputTranscription = {
      model: ai.transcriptionModel,
      ...(ai.transcriptionLanguage ? { language: ai.transcriptionLanguage } : {}),
      ...(ai.transcriptionPrompt ? { prompt: ai.transcriptionPrompt } : {}),
    };
  }
  if (ai.backend === 'deepgram') {
    param.deepgram = { ...ai.deepgram };
    // The agent's listen model takes the language without a separate transcription model.
    if (ai.transcriptionLanguage && !param.inputTranscription)
      param.inputTranscription = { model: ai.deepgram.listenModel, language: ai.transcriptionLanguage };
  }
  if (ai.backend === 'gemini') {
    param.gemini = { ...ai.gemini };
    // Gemini transcribes with its own model: the language alone is its hint.
    if (ai.transcriptionLanguage && !param.inputTranscription) param.inputTranscription = { model: '', language: ai.transcriptionLanguage };
  }
  if (ai.backend === 'elevenlabs') {
    const el = ai.elevenlabs;
    param.elevenlabs = {
      agentId: el.agentId,
      signedUrl: el.signedUrl,
      ...(el.firstMessage ? { firstMessage: el.firstMessage } : {}),
      ...(el.language ? { language: el.language } : {}),
    };
  }
  Object.assign(param, aiSessionOptions(config));
  const tls = ai.tls;
  if (tls.caFile || tls.certFile || tls.keyFile || !tls.verify) {
    param.tls = {
      verify: tls.verify,
      ...(tls.caFile ? { caFile: tls.caFile } : {}),
      ...(tls.certFile ? { certFile: tls.certFile } : {}),
      ...(tls.keyFile ? { keyFile: tls.keyFile } : {}),
    };
  }
  return param;
}

/** Session options and handshake settings from `ai.*` (service defaults left out). */
function aiSessionOptions(config: SpeakerdConfig): AiPortParam {
  const ai = config.ai;
  const out: AiPortParam = {};
  if (ai.speed !== 1) out.speed = ai.speed;
  if (ai.maxOutputTokens > 0) out.maxOutputTokens = ai.maxOutputTokens;
  if (ai.toolChoice !== 'auto') out.toolChoice = ai.toolChoice;
  if (ai.truncation !== 'auto') out.truncation = ai.truncation;
  if (ai.authScheme) out.authScheme = ai.authScheme;
  if (ai.headers.length > 0) {
    out.headers = Object.fromEntries(
      ai.headers.map((h) => {
        const at = h.indexOf(':');
        return [h.slice(0, at).trim(), h.slice(at + 1).trim()];
      }),
    );
  }
  return out;
}

/** The service URL: `ai.url`, or the backend's default. */
export function aiUrl(config: SpeakerdConfig, defaults: Readonly<Record<string, string>>): string {
  return config.ai.url || defaults[config.ai.backend] || '';
}
