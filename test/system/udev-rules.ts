// A small, strict reader of udev rules files (udev(7)), for testing systemd/60-speakerd.rules on hosts
// whose udevadm has no `verify` (it arrived in systemd 254; Debian 12 has 252 and no udev package here).

/** One `KEY{attr}OP"value"` pair of a rule. */
export interface UdevPair {
  key: string;
  /** The `{...}` part of ATTR{size}, ENV{ID_BUS} and the like, when the key takes one. */
  attr?: string;
  op: '==' | '!=' | '=' | '+=' | '-=' | ':=';
  value: string;
}

/** A rule: its 1-based line number in the file and its pairs, in order. */
export interface UdevRule {
  line: number;
  pairs: UdevPair[];
}

/** Keys that only compare (udev(7) "match keys" that cannot be assigned). */
const MATCH_ONLY = new Set([
  'ACTION',
  'DEVPATH',
  'KERNEL',
  'KERNELS',
  'SUBSYSTEM',
  'SUBSYSTEMS',
  'DRIVER',
  'DRIVERS',
  'ATTRS',
  'TAGS',
  'CONST',
  'TEST',
  'PROGRAM',
  'RESULT',
]);
/** Keys that only assign. */
const ASSIGN_ONLY = new Set(['OWNER', 'GROUP', 'MODE', 'SECLABEL', 'RUN', 'LABEL', 'GOTO', 'IMPORT', 'OPTIONS', 'WAIT_FOR']);
/** Keys that may do either. */
const BOTH = new Set(['NAME', 'SYMLINK', 'ATTR', 'SYSCTL', 'ENV', 'TAG']);
/** Keys written with a `{...}` part: required for these ... */
const ATTR_REQUIRED = new Set(['ATTR', 'ATTRS', 'SYSCTL', 'ENV', 'CONST', 'SECLABEL', 'IMPORT']);
/** ... and optional for these. */
const ATTR_OPTIONAL = new Set(['TEST', 'RUN']);

const PAIR = /^([A-Z_]+)(?:\{([^{}]+)\})?(==|!=|\+=|-=|:=|=)"((?:[^"\\]|\\.)*)"/;

/**
 * Parses a udev rules file strictly: `#` comments and blank lines are skipped, backslash-newline joins
 * lines, and every other line must be comma-separated `KEY{attr}OP"value"` pairs with a key udev knows,
 * an operator that key accepts (a match key compares with == or !=, an assignment key takes =, +=, -=
 * or :=), a `{attr}` exactly where the key takes one, and a double-quoted value. A rule that only
 * matches or only assigns is an error too (udev would ignore it or apply it to every device). Throws an
 * Error naming the line on the first problem.
 */
export function parseUdevRules(text: string): UdevRule[] {
  const rules: UdevRule[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const number = i + 1;
    let line = lines[i]!;
    while (line.endsWith('\\') && i + 1 < lines.length) line = line.slice(0, -1) + lines[++i]!;
    line = line.trim();
    if (line === '' || line.startsWith('#')) continue;
    const pairs: UdevPair[] = [];
    let rest = line;
    for (;;) {
      const m = PAIR.exec(rest);
      if (m === null) throw new Error(`line ${number}: expected KEY{attr}OP"value" at '${rest}'`);
      const [whole, key, attr, op, value] = m as unknown as [string, string, string | undefined, UdevPair['op'], string];
      if (!MATCH_ONLY.has(key) && !ASSIGN_ONLY.has(key) && !BOTH.has(key)) throw new Error(`line ${number}: unknown key ${key}`);
      const compares = op === '==' || op === '!=';
      if (MATCH_ONLY.has(key) && !compares) throw new Error(`line ${number}: ${key} only matches (== or !=), not ${op}`);
      if (ASSIGN_ONLY.has(key) && compares) throw new Error(`line ${number}: ${key} only assigns (=, +=, -=, :=), not ${op}`);
      if (ATTR_REQUIRED.has(key) && attr === undefined) throw new Error(`line ${number}: ${key} needs {attribute}`);
      if (attr !== undefined && !ATTR_REQUIRED.has(key) && !ATTR_OPTIONAL.has(key)) throw new Error(`line ${number}: ${key} takes no {attribute}`);
      pairs.push(attr === undefined ? { key, op, value } : { key, attr, op, value });
      rest = rest.slice(whole.length);
      if (rest.trim() === '') break;
      const comma = /^\s*,\s*/.exec(rest);
      if (comma === null || rest.slice(comma[0].length) === '') throw new Error(`line ${number}: expected ', KEY...' at '${rest}'`);
      rest = rest.slice(comma[0].length);
    }
    const matches = pairs.filter((p) => p.op === '==' || p.op === '!=');
    if (matches.length === 0) throw new Error(`line ${number}: no match key: the rule would apply to every device`);
    if (matches.length === pairs.length) throw new Error(`line ${number}: nothing assigned`);
    rules.push({ line: number, pairs });
  }
  return rules;
}

/** The value of the first pair with `key` and one of `ops` in `rule`, or undefined. */
export function udevValue(rule: UdevRule, key: string, ops: ReadonlyArray<UdevPair['op']> = ['==', '=']): string | undefined {
  return rule.pairs.find((p) => p.key === key && ops.includes(p.op))?.value;
}
