import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '../../../src/config/load.js';
import { loadBoardProfile } from '../../../src/leds/board.js';
import { boardAudio, engineOptions } from '../../../src/service/media-options.js';

describe('engine options from the configuration', () => {
  it('passes the post filter and playback keys to the engine, with their defaults', () => {
    const config = defaultConfig();
    expect(engineOptions(config).aec).toMatchObject({ suppressDb: -30, agc: true, agcTargetDbfs: -26, duckDb: 12, maxOutputDbfs: 0, nearTalkMaxCutDb: -1 });
    config.aec.suppressDb = -20;
    config.aec.userMaxCutDb = -3;
    config.aec.agc = false;
    config.aec.agcTargetDbfs = -30;
    config.aec.duckDb = 9;
    config.audio.maxOutputDbfs = -12;
    expect(engineOptions(config).aec).toMatchObject({ suppressDb: -20, agc: false, agcTargetDbfs: -30, duckDb: 9, maxOutputDbfs: -12, nearTalkMaxCutDb: -3 });
  });
});

describe('output ceiling from the board profile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'speakerd-board-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function profile(name: string, body: object): string {
    const file = join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify({ name, ...body }));
    chmodSync(file, 0o644);
    return file;
  }

  it("applies the board's ceiling unless audio.maxOutputDbfs sets one", async () => {
    const audio = await boardAudio(profile('enclosure', { audio: { maxOutputDbfs: -10 } }));
    expect(audio).toEqual({ maxOutputDbfs: -10 });
    const config = defaultConfig();
    expect(engineOptions(config, audio).aec?.maxOutputDbfs).toBe(-10);
    config.audio.maxOutputDbfs = -6;
    expect(engineOptions(config, audio).aec?.maxOutputDbfs).toBe(-6);
  });

  it('has no ceiling without a board, with a board that sets none, or with an unreadable profile', async () => {
    expect(await boardAudio('')).toBeNull();
    expect(await boardAudio(profile('plain', {}))).toBeNull();
    expect(await boardAudio('respeaker-2mic')).toBeNull();
    expect(await boardAudio(join(dir, 'missing.json'))).toBeNull();
  });

  it('names the field of a bad audio section', async () => {
    await expect(loadBoardProfile(profile('loud', { audio: { maxOutputDbfs: 3 } }))).rejects.toThrow(/audio\.maxOutputDbfs must be an integer from -60 to 0/);
    await expect(loadBoardProfile(profile('extra', { audio: { gain: 1 } }))).rejects.toThrow(/audio\.gain/);
  });
});
