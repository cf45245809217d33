import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Connection, LoginError, type ConnectionHandler, type WelcomeFrame } from '../src/client/connection';
import type { ServerFrame } from '../src/client/protocol';
import { flush, harness } from './fakes';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A connection whose handler records what it is told. */
function connection(opts: Parameters<typeof harness>[0] = {}) {
  const h = harness(opts);
  const seen = { welcomes: [] as WelcomeFrame[], frames: [] as ServerFrame[], closed: [] as string[] };
  const handler: ConnectionHandler = {
    welcomed: (f) => void seen.welcomes.push(f),
    frame: (f) => void seen.frames.push(f),
    closed: (reason) => void seen.closed.push(reason),
    changed: () => undefined,
  };
  return { h, seen, conn: new Connection(h.deps, handler) };
}

describe('Connection', () => {
  it('logs in, opens the socket with the token and is online after welcome', async () => {
    const { h, seen, conn } = connection();
    await conn.start('alice');
    expect(h.logins).toEqual(['alice']);
    expect(h.socket().token).toBe('t1');
    expect(conn.state).toBe('connecting');
    expect(conn.isOpen()).toBe(false);
    h.socket().open('alice', '10.0.0.1:7355');
    expect(conn.state).toBe('online');
    expect(conn.node).toBe('10.0.0.1:7355');
    expect(conn.isOpen()).toBe(true);
    expect(seen.welcomes).toHaveLength(1);
    // welcome is the connection's; every other frame goes to the handler
    h.socket().deliver({ type: 'pong', ref: '1' });
    h.socket().onmessage?.({ data: 'not json' });
    expect(seen.frames.filter((f) => f.type !== 'rooms')).toEqual([{ type: 'pong', ref: '1' }]);
  });

  it('uses a stored token without logging in', async () => {
    const { h, conn } = connection();
    await conn.start('alice', { token: 'stored' });
    expect(h.logins).toEqual([]);
    expect(h.socket().token).toBe('stored');
    expect(conn.currentToken).toBe('stored');
  });

  it('pings every half heartbeat while frames arrive, and drops a socket whose ping goes unanswered', async () => {
    const { h, seen, conn } = connection();
    await conn.start('alice');
    const s = h.socket();
    s.open(); // heartbeatMs 15000: a ping every 7.5 s
    for (let i = 0; i < 8; i++) {
      vi.advanceTimersByTime(7500);
      s.deliver({ type: 'pong' });
    }
    expect(s.all('ping')).toHaveLength(8);
    expect(s.closed).toBe(false);
    vi.advanceTimersByTime(7500 + 4000); // a ping, and no answer within the probe timeout
    expect(s.closed).toBe(true);
    expect(seen.closed).toEqual(['disconnected']);
    expect(conn.state).toBe('reconnecting');
    expect(conn.lastError).toBe('no answer from the server');
    vi.advanceTimersByTime(500);
    await flush();
    expect(h.sockets).toHaveLength(2);
    // it had been welcomed, so the token still holds: no new login
    expect(h.logins).toHaveLength(1);
  });

  it('probes a request left unanswered and drops the socket within seconds when the probe is not answered', async () => {
    const { h, seen, conn } = connection();
    await conn.start('alice');
    const s = h.socket();
    s.open();
    conn.send({ type: 'history', ref: '9', room: 'general' });
    vi.advanceTimersByTime(1500); // the answer is late: a ping asks whether anyone is there
    expect(s.all('ping')).toHaveLength(1);
    s.deliver({ type: 'pong' }); // someone is: the request is merely slow
    vi.advanceTimersByTime(5000);
    expect(s.closed).toBe(false);
    conn.send({ type: 'history', ref: '10', room: 'general' });
    vi.advanceTimersByTime(1500 + 4000); // no answer to the request nor to the ping
    expect(s.closed).toBe(true);
    expect(seen.closed).toEqual(['disconnected']);
    expect(conn.lastError).toBe('no answer from the server');
  });

  it('gives up a socket that opens but never says welcome', async () => {
    const { h, conn } = connection();
    await conn.start('alice', { token: 't' });
    const s = h.socket();
    s.readyState = 1; // open, but the node says nothing
    vi.advanceTimersByTime(9_999);
    expect(s.closed).toBe(false);
    vi.advanceTimersByTime(1);
    expect(s.closed).toBe(true);
    expect(conn.lastError).toBe('no welcome from the server');
    await vi.advanceTimersByTimeAsync(1000);
    expect(h.sockets).toHaveLength(2);
    h.socket().open();
    expect(conn.state).toBe('online');
  });

  it('gives the socket up when the browser goes offline, and reconnects when it is back', async () => {
    const { h, seen, conn } = connection();
    await conn.start('alice');
    const s = h.socket();
    s.open();
    conn.networkLost();
    expect(s.closed).toBe(true);
    expect(seen.closed).toEqual(['disconnected']);
    expect(conn.state).toBe('offline');
    expect(conn.waitingForNetwork).toBe(true);
    vi.advanceTimersByTime(29_000); // no attempt while the browser says offline, but for a rare one
    await flush();
    expect(h.sockets).toHaveLength(1);
    conn.networkBack();
    await flush();
    expect(h.sockets).toHaveLength(2);
    h.socket().open();
    expect(conn.state).toBe('online');
    expect(conn.waitingForNetwork).toBe(false);
  });

  it('still tries now and then while the browser says offline, in case it is wrong', async () => {
    const { h, conn } = connection();
    await conn.start('alice');
    h.socket().open();
    conn.networkLost();
    vi.advanceTimersByTime(29_999);
    await flush();
    expect(h.sockets).toHaveLength(1);
    vi.advanceTimersByTime(1);
    await flush();
    expect(h.sockets).toHaveLength(2);
    h.socket().open();
    expect(conn.state).toBe('online');
  });

  it('reconnects with back-off, logging in again only when the socket closed before welcome', async () => {
    const { h, seen, conn } = connection();
    await conn.start('alice');
    h.socket().drop(1006); // refused before welcome
    expect(conn.state).toBe('reconnecting');
    expect(conn.attempt).toBe(1);
    expect(conn.nextRetryAt - Date.now()).toBe(375);
    expect(seen.closed).toEqual(['disconnected']);
    vi.advanceTimersByTime(375);
    await flush();
    expect(h.logins).toEqual(['alice', 'alice']);
    expect(h.socket().token).toBe('t2');
    h.socket().open();
    expect(conn.attempt).toBe(0);
    // frames of a replaced socket are ignored
    h.sockets[0].deliver({ type: 'pong', ref: 'old' });
    expect(seen.frames.filter((f) => f.type !== 'rooms')).toEqual([]);
  });

  it('retries at once when asked', async () => {
    const { h, conn } = connection();
    await conn.start('alice', { token: 't' });
    h.socket().open();
    h.socket().drop();
    expect(h.sockets).toHaveLength(1);
    conn.retryNow();
    await flush();
    expect(h.sockets).toHaveLength(2);
  });

  it('stops: closes the socket as signed out and never reconnects', async () => {
    const { h, seen, conn } = connection();
    await conn.start('alice');
    const s = h.socket();
    s.open();
    conn.stop();
    expect(s.closed).toBe(true);
    expect(seen.closed).toEqual(['signed out']);
    expect(conn.state).toBe('idle');
    expect(conn.isOpen()).toBe(false);
    vi.advanceTimersByTime(60_000);
    await flush();
    expect(h.sockets).toHaveLength(1);
    expect(s.all('ping')).toHaveLength(0);
  });

  it('gives up with authError when the node refuses the user on re-login', async () => {
    let calls = 0;
    const { h, conn } = connection({
      login: async (user) => {
        if (++calls > 1) throw new LoginError(401, 'unauthorized', 'password required');
        return { user, token: 't', expiresAt: '2999-01-01T00:00:00Z' };
      },
    });
    await conn.start('alice');
    h.socket().drop();
    vi.advanceTimersByTime(1000);
    await flush();
    expect(conn.authError?.status).toBe(401);
    expect(conn.state).toBe('idle');
    vi.advanceTimersByTime(60_000);
    await flush();
    expect(h.sockets).toHaveLength(1);
  });
});
