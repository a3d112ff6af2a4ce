/** A reference of every configuration key (for `--help`, docs and the example file's readers). */

import { KEYS } from './schema.js';

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/**
 * A Markdown table: key, default, environment variable, effect of a change, who may set it at run time
 * over the control socket (`config_set`), and the key's doc.
 */
export function configReference(): string {
  const rows = [...KEYS.values()].map(
    (k) => `| \`${k.path}\` | \`${cell(JSON.stringify(k.default))}\` | \`${k.env}\` | ${k.effect} | ${k.access} | ${cell(k.doc)} |`,
  );
  return ['| key | default | environment | change | config_set | description |', '|---|---|---|---|---|---|', ...rows, ''].join('\n');
}
