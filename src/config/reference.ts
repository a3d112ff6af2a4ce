/** A reference of every configuration key (for `--help`, docs and the example file's readers). */

import { KEYS } from './schema.js';

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** A Markdown table: key, default, environment variable, effect of a change, and the key's doc. */
export function configReference(): string {
  const rows = [...KEYS.values()].map(
    (k) => `| \`${k.path}\` | \`${cell(JSON.stringify(k.default))}\` | \`${k.env}\` | ${k.effect} | ${cell(k.doc)} |`,
  );
  return ['| key | default | environment | change | description |', '|---|---|---|---|---|', ...rows, ''].join('\n');
}
