import { describe, expect, it } from 'vitest';
import { LineReader, type FramedItem } from '../../../src/control/framing.js';

function feed(reader: LineReader, ...chunks: (string | Buffer)[]): (string | { code: string })[] {
  const out: (string | { code: string })[] = [];
  const emit = (item: FramedItem): void => {
    out.push('line' in item ? item.line : { code: item.error.code });
  };
  for (const c of chunks) reader.push(typeof c === 'string' ? Buffer.from(c) : c, emit);
  return out;
}

describe('LineReader', () => {
  it('splits lines and keeps an unfinished one', () => {
    const r = new LineReader(100);
    expect(feed(r, 'a\nbb\ncc')).toEqual(['a', 'bb']);
    expect(r.pendingBytes).toBe(2);
    expect(feed(r, 'c\n')).toEqual(['ccc']);
    expect(r.midLine).toBe(false);
  });

  it('joins a line fed one byte at a time', () => {
    const r = new LineReader(100);
    const text = '{"cmd":"ping"}\n';
    expect(feed(r, ...[...Buffer.from(text)].map((b) => Buffer.from([b])))).toEqual(['{"cmd":"ping"}']);
  });

  it('accepts CRLF and skips blank lines', () => {
    expect(feed(new LineReader(100), 'a\r\n\n\r\n   \nb\n')).toEqual(['a', 'b']);
  });

  it('accepts a line of exactly the limit and rejects one byte more', () => {
    expect(feed(new LineReader(5), '12345\n')).toEqual(['12345']);
    expect(feed(new LineReader(5), '123456\n')).toEqual([{ code: 'ERR_LINE_TOO_LONG' }]);
  });

  it('rejects an oversize line as soon as it passes the limit, then skips its rest without keeping it', () => {
    const r = new LineReader(10);
    expect(feed(r, 'x'.repeat(11))).toEqual([{ code: 'ERR_LINE_TOO_LONG' }]);
    expect(r.pendingBytes).toBe(0);
    expect(feed(r, 'x'.repeat(100000))).toEqual([]);
    expect(r.pendingBytes).toBe(0);
    expect(feed(r, 'xx\nok\n')).toEqual(['ok']);
  });

  it('reports one error per oversize line', () => {
    expect(feed(new LineReader(3), 'aaaa\nbbbb\nc\n')).toEqual([{ code: 'ERR_LINE_TOO_LONG' }, { code: 'ERR_LINE_TOO_LONG' }, 'c']);
  });

  it('rejects invalid UTF-8 and goes on', () => {
    expect(feed(new LineReader(100), Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a]), 'ok\n')).toEqual([{ code: 'ERR_BAD_UTF8' }, 'ok']);
    expect(feed(new LineReader(100), Buffer.from([0xc3, 0x0a]))).toEqual([{ code: 'ERR_BAD_UTF8' }]);
  });

  it('joins a multi-byte character split between chunks', () => {
    const bytes = Buffer.from('"é😀"\n');
    expect(feed(new LineReader(100), bytes.subarray(0, 2), bytes.subarray(2, 5), bytes.subarray(5))).toEqual(['"é😀"']);
  });

  it('handles a last line without newline at the end of the stream', () => {
    const r = new LineReader(100);
    const out: unknown[] = [];
    r.push(Buffer.from('a\nb'), (i) => void out.push(i));
    r.end((i) => void out.push('line' in i ? i.line : i.error.code));
    expect(out.slice(1)).toEqual(['b']);
  });

  it('drops the skipped rest of an oversize line at the end of the stream', () => {
    const r = new LineReader(2);
    const out: unknown[] = [];
    r.push(Buffer.from('abcdef'), (i) => void out.push(i));
    r.end((i) => void out.push(i));
    expect(out).toHaveLength(1);
  });

  it('stops after a line when told to, returning the bytes consumed', () => {
    const r = new LineReader(100);
    const seen: string[] = [];
    const chunk = Buffer.from('a\nbb\nccc\ndd');
    const used = r.push(chunk, (i) => {
      if ('line' in i) seen.push(i.line);
      return seen.length < 2;
    });
    expect(seen).toEqual(['a', 'bb']);
    expect(used).toBe(5);
    expect(feed(r, chunk.subarray(used), '\n')).toEqual(['ccc', 'dd']);
  });

  it('validates its limit', () => {
    expect(() => new LineReader(0)).toThrow(RangeError);
  });
});
