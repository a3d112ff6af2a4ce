/**
 * The resampler quality measurement of the bench, through the addon's own resampler: its figures
 * order the qualities as speexdsp's filters do, and the defaults (5 both ways) stay flat across the
 * bridge's band and leave no image or alias a listener or a service could hear.
 */
import { describe, expect, it } from 'vitest';
import { resamplerQuality } from '../../../bench/resampler-quality.js';
import { loadNativeBinding } from '../../../src/media/native-binding.js';

const binding = loadNativeBinding();

describe('resampler quality at the device edge', () => {
  it('sees the short filter of quality 3: 3 dB down at 7 kHz on capture and its images 7 dB over those of quality 5', () => {
    const q3 = resamplerQuality(binding, 3);
    const q5 = resamplerQuality(binding, 5);
    expect(q3.captureDroop7kDb).toBeLessThan(-2.5);
    expect(q3.playbackImagesDb).toBeGreaterThan(q5.playbackImagesDb + 5);
    expect(q3.captureAliasDb).toBeGreaterThan(q5.captureAliasDb);
  });

  it('keeps the defaults flat and clean: within 0.3 dB at 7 kHz, images and aliases 80 dB under the tone', () => {
    const q5 = resamplerQuality(binding, 5);
    expect(Math.abs(q5.playbackDroop7kDb)).toBeLessThan(0.3);
    expect(Math.abs(q5.captureDroop7kDb)).toBeLessThan(0.3);
    expect(q5.playbackImagesDb).toBeLessThan(-80);
    expect(q5.captureAliasDb).toBeLessThan(-80);
    // Quality 8 is not audibly better: its images sit at the 16-bit floor, 5 dB or so under quality 5's.
    expect(resamplerQuality(binding, 8).playbackImagesDb).toBeGreaterThan(q5.playbackImagesDb - 8);
  });
});
