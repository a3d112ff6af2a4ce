import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../src/config/load.js';
import { engineOptions } from '../../../src/service/media-options.js';

describe('engine options from the configuration', () => {
  it('passes the post filter and playback keys to the engine, with their defaults', () => {
    const config = defaultConfig();
    expect(engineOptions(config).aec).toMatchObject({ suppressDb: -30, agc: true, agcTargetDbfs: -26, duckDb: 0, maxOutputDbfs: 0 });
    config.aec.suppressDb = -20;
    config.aec.agc = false;
    config.aec.agcTargetDbfs = -30;
    config.aec.duckDb = 9;
    config.audio.maxOutputDbfs = -12;
    expect(engineOptions(config).aec).toMatchObject({ suppressDb: -20, agc: false, agcTargetDbfs: -30, duckDb: 9, maxOutputDbfs: -12 });
  });
});
