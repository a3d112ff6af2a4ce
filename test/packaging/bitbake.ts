/**
 * A line-level reader of BitBake recipes and configuration files, for the checks that can run
 * without bitbake: assignment syntax, new-style overrides, variable values, and the bodies of shell
 * tasks with BitBake's ${VAR} expansion applied.
 */

export interface Assignment {
  name: string;
  /** The override/flag part as written: `RDEPENDS:${PN}` has name RDEPENDS:${PN}. */
  op: string;
  value: string;
  line: number;
}

export interface Recipe {
  assignments: Assignment[];
  inherits: string[];
  requires: string[];
  /** Shell functions (do_install, ...) by name, body without the braces. */
  shell: Map<string, { body: string; line: number }>;
  /** Python functions (def or python name()), by name. */
  python: Map<string, string>;
  errors: string[];
}

const ASSIGNMENT = /^(export\s+)?([A-Za-z0-9_${}:.\-/+~@]+)(\[[A-Za-z0-9_\-.]+\])?\s*(\?\?=|\?=|:=|\+=|=\+|\.=|=\.|=)\s*(.*)$/;

/** Parses `text`; unknown or malformed lines are reported in `errors` with their line numbers. */
export function parseRecipe(text: string): Recipe {
  const lines = text.split('\n');
  const recipe: Recipe = { assignments: [], inherits: [], requires: [], shell: new Map(), python: new Map(), errors: [] };
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    const line = raw.trimEnd();
    const n = i + 1;
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    if (/^(inherit|inherit_defer)\s+\S/.test(line)) {
      recipe.inherits.push(...line.split(/\s+/).slice(1));
      continue;
    }
    if (/^(require|include)\s+\S+$/.test(line)) {
      recipe.requires.push(line.split(/\s+/)[1] ?? '');
      continue;
    }
    const fn = /^(python\s+)?([A-Za-z0-9_${}:\-.]+)\s*\(\)\s*\{$/.exec(line);
    if (fn) {
      const body: string[] = [];
      let j = i + 1;
      while (j < lines.length && lines[j] !== '}') body.push(lines[j++] ?? '');
      if (j >= lines.length) recipe.errors.push(`line ${n}: function ${fn[2]} has no closing '}' at the start of a line`);
      if (fn[1]) recipe.python.set(fn[2] ?? '', body.join('\n'));
      else recipe.shell.set(fn[2] ?? '', { body: body.join('\n'), line: n });
      i = j;
      continue;
    }
    const def = /^def\s+([A-Za-z0-9_]+)\s*\(.*\)\s*:$/.exec(line);
    if (def) {
      const body: string[] = [];
      let j = i + 1;
      while (j < lines.length && (/^\s+\S/.test(lines[j] ?? '') || (lines[j] ?? '').trim() === '')) body.push(lines[j++] ?? '');
      recipe.python.set(def[1] ?? '', body.join('\n'));
      i = j - 1;
      continue;
    }
    const m = ASSIGNMENT.exec(line);
    if (!m) {
      recipe.errors.push(`line ${n}: not an assignment, inherit, include or function: ${line}`);
      continue;
    }
    // Continuation lines: a value ends with a backslash until the closing quote.
    let value = m[5] ?? '';
    let j = i;
    while (value.endsWith('\\') && j + 1 < lines.length) {
      j++;
      value = `${value.slice(0, -1)} ${(lines[j] ?? '').trim()}`;
    }
    i = j;
    const quoted = /^"([^"]*)"$/.exec(value.trim()) ?? /^'([^']*)'$/.exec(value.trim());
    if (!quoted) {
      recipe.errors.push(`line ${n}: the value of ${m[2]} is not one quoted string: ${value}`);
      continue;
    }
    recipe.assignments.push({ name: `${m[2]}${m[3] ?? ''}`, op: m[4] ?? '=', value: (quoted[1] ?? '').replace(/\s+/g, ' ').trim(), line: n });
  }
  return recipe;
}

/** Old-style override syntax (before honister): VAR_append, VAR_${PN}, do_install_append, VAR_pn-foo. */
export function oldStyleOverrides(text: string): string[] {
  const found: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trimStart().startsWith('#')) return;
    const name = /^\s*(?:export\s+|python\s+)?([A-Za-z0-9_${}:\-.]+)(?:\[[^\]]*\])?\s*(?:\?\?=|\?=|:=|\+=|=\+|\.=|=\.|=|\(\))/.exec(line)?.[1];
    if (!name) return;
    if (/_(append|prepend|remove)(\b|_|$)/.test(name) || /_\$\{PN\}/.test(name) || /_pn-/.test(name) || /_(class-(native|target|nativesdk))\b/.test(name)) {
      found.push(`line ${i + 1}: ${name}`);
    }
  });
  return found;
}

/** The value of `name` after the recipe's assignments (=, ?=, ??=, +=, .=), without BitBake expansion. */
export function valueOf(recipe: Recipe, name: string): string | undefined {
  let value: string | undefined;
  let weak: string | undefined;
  for (const a of recipe.assignments.filter((x) => x.name === name)) {
    if (a.op === '=' || a.op === ':=') value = a.value;
    else if (a.op === '?=') value ??= a.value;
    else if (a.op === '??=') weak = a.value;
    else if (a.op === '+=') value = `${value ?? ''} ${a.value}`.trim();
    else if (a.op === '=+') value = `${a.value} ${value ?? ''}`.trim();
    else if (a.op === '.=') value = `${value ?? ''}${a.value}`;
    else if (a.op === '=.') value = `${a.value}${value ?? ''}`;
  }
  return value ?? weak;
}

/**
 * A shell task's body as BitBake would run it: ${VAR} replaced by the recipe's value of VAR, or by a
 * placeholder path (/bitbake/VAR) for BitBake's own variables (D, S, bindir, ...); shell variables (set
 * in the body itself by `name=` or `for name in`) stay. ${@python} becomes a placeholder word.
 */
export function expandShell(recipe: Recipe, body: string): string {
  const shellVars = new Set<string>();
  for (const m of body.matchAll(/(?:^|[\s;])([A-Za-z_][A-Za-z0-9_]*)=/g)) shellVars.add(m[1] ?? '');
  for (const m of body.matchAll(/\bfor\s+([A-Za-z_][A-Za-z0-9_]*)\s+in\b/g)) shellVars.add(m[1] ?? '');
  return body.replace(/\$\{@[^}]*\}/g, 'bitbake-python-value').replace(/\$\{([A-Za-z0-9_:-]+)\}/g, (whole, name: string) => {
    if (shellVars.has(name)) return whole;
    const value = valueOf(recipe, name);
    return value !== undefined && !value.includes('${') ? value : `/bitbake/${name}`;
  });
}
