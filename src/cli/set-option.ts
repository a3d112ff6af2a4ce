/** The `--set KEY=VALUE` option of speakerd and speakerd-aidemo. */

/** Adds each `KEY=VALUE` to `overrides`; throws TypeError for a pair without a key or '='. */
export function addSetPairs(pairs: readonly string[], overrides: Record<string, unknown>): void {
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new TypeError(`--set takes KEY=VALUE, got '${pair}'`);
    overrides[pair.slice(0, at)] = pair.slice(at + 1);
  }
}
