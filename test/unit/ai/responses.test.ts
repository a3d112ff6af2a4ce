import { describe, expect, it } from 'vitest';
import { ResponseSerializer } from '../../../src/ai/responses.js';

describe('ResponseSerializer', () => {
  it('asks for one reply at a time and makes the waiting requests as each reply ends', () => {
    const r = new ResponseSerializer();
    expect(r.request()).toBe(true);
    expect(r.busy).toBe(true);
    expect(r.request()).toBe(false);
    expect(r.request()).toBe(false);
    r.created('resp_1');
    expect(r.isActive).toBe(true);
    expect(r.done()).toBe(true);
    expect(r.request()).toBe(true);
    r.created('resp_2');
    expect(r.done()).toBe(true);
    expect(r.request()).toBe(true);
    r.created('resp_3');
    expect(r.done()).toBe(false);
    expect(r.busy).toBe(false);
  });

  it('turns a request the service refused as already active into a waiting one, and forgets everything at a session end', () => {
    const r = new ResponseSerializer();
    r.request();
    r.alreadyActive();
    expect(r.busy).toBe(false);
    expect(r.done()).toBe(true);
    r.request();
    r.reset();
    expect(r.busy).toBe(false);
    expect(r.done()).toBe(false);
  });
});
