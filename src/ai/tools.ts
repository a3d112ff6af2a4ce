import type { ToolDefinition } from './types.js';

/** What the device lets the model change (supplied by the daemon; the port has defaults). */
export interface DeviceControls {
  /** Volume 0..100. */
  getVolume(): number;
  setVolume(volume: number): void;
  isMuted(): boolean;
  setMuted(muted: boolean): void;
}

/** A tool answered on the device: its definition and how to run it. */
export interface BuiltinTool {
  definition: ToolDefinition;
  run(args: Record<string, unknown>, controls: DeviceControls): Record<string, unknown>;
}

/** The device tools a configuration may enable. */
export const BUILTIN_TOOLS: Readonly<Record<'time' | 'volume' | 'mute', BuiltinTool>> = {
  time: {
    definition: {
      name: 'get_time',
      description: "The device's current local date and time.",
      parameters: { type: 'object', properties: {}, additionalProperties: false },
    },
    run: () => {
      const now = new Date();
      return { iso: now.toISOString(), local: now.toString(), timezone: Intl.DateTimeFormat().resolvedOptions().timeZone };
    },
  },
  volume: {
    definition: {
      name: 'set_volume',
      description: 'Set the speaker volume from 0 (silent) to 100 (loudest), or change it by a step.',
      parameters: {
        type: 'object',
        properties: { volume: { type: 'integer', minimum: 0, maximum: 100 }, change: { type: 'integer', minimum: -100, maximum: 100 } },
        additionalProperties: false,
      },
    },
    run: (args, controls) => {
      const current = controls.getVolume();
      const wanted = typeof args.volume === 'number' ? args.volume : current + (typeof args.change === 'number' ? args.change : 0);
      const volume = Math.max(0, Math.min(100, Math.round(wanted)));
      controls.setVolume(volume);
      return { volume };
    },
  },
  mute: {
    definition: {
      name: 'set_microphone_muted',
      description: "Mute or unmute the device's microphone.",
      parameters: { type: 'object', properties: { muted: { type: 'boolean' } }, required: ['muted'], additionalProperties: false },
    },
    run: (args, controls) => {
      if (typeof args.muted !== 'boolean') return { error: 'muted must be true or false' };
      controls.setMuted(args.muted);
      return { muted: controls.isMuted() };
    },
  },
};

/** Finds the built-in tool that answers `name` among the enabled ones. */
export function findBuiltin(enabled: readonly string[], name: string): BuiltinTool | undefined {
  return enabled.map((key) => BUILTIN_TOOLS[key as keyof typeof BUILTIN_TOOLS]).find((tool) => tool?.definition.name === name);
}

/**
 * The tool calls a session has issued and not yet answered. A result is accepted only for one of
 * them; a call is forgotten once answered or when its session ends.
 */
export class PendingCalls {
  private readonly ids = new Map<string, string>();
  private lastTaken: { callId: string; name: string } | null = null;

  /** Open calls kept at most; a service that opens more loses the oldest (a hostile server cannot grow it). */
  static readonly MAX_OPEN = 64;

  /** The service asked for `callId` (a call of tool `name`); false when the oldest open call had to go for it. */
  issued(callId: string, name = ''): boolean {
    let kept = true;
    if (!this.ids.has(callId) && this.ids.size >= PendingCalls.MAX_OPEN) {
      this.ids.delete(this.ids.keys().next().value as string);
      kept = false;
    }
    this.ids.set(callId, name);
    return kept;
  }

  /** Takes `callId` out for its answer; false when it was never issued or was already answered. */
  take(callId: string): boolean {
    const name = this.ids.get(callId);
    if (name === undefined) return false;
    this.lastTaken = { callId, name };
    return this.ids.delete(callId);
  }

  /** The tool name of a call just taken (Gemini and Deepgram answer with it). */
  nameOf(callId: string): string {
    return this.lastTaken?.callId === callId ? this.lastTaken.name : '';
  }

  /** The session ended: every call is forgotten. */
  clear(): void {
    this.ids.clear();
  }
}
