/**
 * JSON parsing for configuration files with a location (line, column) for syntax errors. V8's own
 * messages quote a piece of the file, which could be a secret pasted into the wrong place, so the
 * error is located by a small scanner here and described without quoting the text.
 */

/** A syntax error at a 1-based line and column. */
export interface JsonSyntaxError {
  line: number;
  column: number;
  reason: string;
}

/** Parses `text` (a leading BOM is ignored); returns the value or where and why it is not JSON. */
export function parseJson(text: string): { ok: true; value: unknown } | { ok: false; error: JsonSyntaxError } {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return { ok: true, value: JSON.parse(body) as unknown };
  } catch {
    const { offset, reason } = locateError(body);
    const before = body.slice(0, offset);
    const line = before.split('\n').length;
    const column = offset - before.lastIndexOf('\n');
    return { ok: false, error: { line, column, reason } };
  }
}

class Stop extends Error {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

/** Finds the first syntax error of a text JSON.parse rejected. */
function locateError(text: string): { offset: number; reason: string } {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++;
  };
  const expect = (what: string): never => {
    throw new Stop(i, i >= text.length ? `unexpected end of file, expected ${what}` : `expected ${what}`);
  };
  const string = (): void => {
    i++;
    while (i < text.length && text[i] !== '"') {
      const c = text.charCodeAt(i);
      if (c < 0x20) throw new Stop(i, 'control character (such as a line break) inside a string');
      if (text[i] === '\\') {
        const esc = text[i + 1] ?? '';
        if (esc === 'u' ? !/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6)) : !'"\\/bfnrt'.includes(esc) || esc === '') {
          throw new Stop(i, 'invalid escape sequence in a string');
        }
        i += esc === 'u' ? 6 : 2;
      } else i++;
    }
    if (i >= text.length) expect('a closing quote');
    i++;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') return container('}', true);
    if (c === '[') return container(']', false);
    if (c === '"') return string();
    const literal = /^(true|false|null|-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?)/.exec(text.slice(i));
    if (!literal) expect('a value (string, number, true, false, null, object or array)');
    i += (literal as RegExpExecArray)[0].length;
  };
  const container = (close: string, object: boolean): void => {
    i++;
    ws();
    if (text[i] === close) {
      i++;
      return;
    }
    for (;;) {
      if (object) {
        ws();
        if (text[i] !== '"') expect('a double-quoted property name');
        string();
        ws();
        if (text[i] !== ':') expect("':'");
        i++;
      }
      value();
      ws();
      if (text[i] === ',') {
        i++;
        ws();
        if (text[i] === close) expect(object ? 'a property after the comma' : 'a value after the comma');
        continue;
      }
      if (text[i] === close) {
        i++;
        return;
      }
      expect(`',' or '${close}'`);
    }
  };
  try {
    value();
    ws();
    if (i < text.length) throw new Stop(i, 'unexpected text after the end of the JSON value');
    return { offset: text.length, reason: 'not valid JSON' };
  } catch (e) {
    if (e instanceof Stop) return { offset: e.offset, reason: e.reason };
    return { offset: 0, reason: 'not valid JSON (nested too deeply to locate the error)' };
  }
}
