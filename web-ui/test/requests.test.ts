import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ClientFrame } from '../src/client/protocol';
import { RequestError, Requests } from '../src/client/requests';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function transport(open = true) {
  const sent: (ClientFrame & { ref?: string })[] = [];
  return { sent, canSend: () => open, send: (f: ClientFrame) => void sent.push(f) };
}

describe('Requests', () => {
  it('gives every request its own ref and resolves it with the reply that echoes it', async () => {
    const t = transport();
    const reqs = new Requests(t);
    const a = reqs.request({ type: 'join', room: 'general' });
    const b = reqs.request({ type: 'ping' });
    expect(t.sent).toHaveLength(2);
    const [ja, jb] = t.sent;
    expect(ja).toMatchObject({ type: 'join', room: 'general' });
    expect(ja.ref).toBeTruthy();
    expect(jb.ref).not.toBe(ja.ref);
    expect(reqs.size).toBe(2);

    // replies may come in any order; each settles its own request only
    expect(reqs.settle({ type: 'pong', ref: jb.ref })).toBe(true);
    expect(reqs.settle({ type: 'joined', ref: ja.ref, room: 'general', lastSeq: 3, members: [] })).toBe(true);
    await expect(b).resolves.toEqual({ type: 'pong', ref: jb.ref });
    await expect(a).resolves.toMatchObject({ type: 'joined', lastSeq: 3 });
    expect(reqs.size).toBe(0);
  });

  it('leaves pushes and replies to unknown refs to the caller', () => {
    const reqs = new Requests(transport());
    void reqs.request({ type: 'ping' });
    expect(reqs.settle({ type: 'message', room: 'general', seq: 1, id: 'x', from: 'bob', text: 'hi', ts: '2026-01-01T00:00:00Z' })).toBe(false);
    expect(reqs.settle({ type: 'pong', ref: 'not-ours' })).toBe(false);
    expect(reqs.settle({ type: 'pong' })).toBe(false);
    expect(reqs.size).toBe(1);
  });

  it('rejects with the error code and retry hint of an error reply', async () => {
    const t = transport();
    const reqs = new Requests(t);
    const p = reqs.request({ type: 'send', room: 'general', id: 'm1', text: 'hi' });
    reqs.settle({ type: 'error', ref: t.sent[0].ref, code: 'rate_limited', message: 'slow down', retryAfterMs: 700 });
    const err = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RequestError);
    expect(err).toMatchObject({ code: 'rate_limited', message: 'slow down', retryAfterMs: 700 });
  });

  it('refuses to send while not connected', async () => {
    const t = transport(false);
    const reqs = new Requests(t);
    await expect(reqs.request({ type: 'ping' })).rejects.toThrow('not connected');
    expect(t.sent).toHaveLength(0);
    expect(reqs.size).toBe(0);
  });

  it('times out, and a reply that comes later settles nothing', async () => {
    const t = transport();
    const reqs = new Requests(t, 1000);
    const p = reqs.request({ type: 'ping' });
    const outcome = p.then(
      () => 'resolved',
      (e: Error) => e.message,
    );
    vi.advanceTimersByTime(999);
    expect(reqs.size).toBe(1);
    vi.advanceTimersByTime(1);
    expect(await outcome).toBe('timed out');
    expect(reqs.settle({ type: 'pong', ref: t.sent[0].ref })).toBe(false);
  });

  it('fails every waiting request at once, and their timers with them', async () => {
    const t = transport();
    const reqs = new Requests(t, 1000);
    const all = [reqs.request({ type: 'ping' }), reqs.request({ type: 'join', room: 'a' })].map((p) => p.catch((e: Error) => e.message));
    reqs.failAll('disconnected');
    expect(reqs.size).toBe(0);
    expect(await Promise.all(all)).toEqual(['disconnected', 'disconnected']);
    expect(vi.getTimerCount()).toBe(0);
  });
});
