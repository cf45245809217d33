import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChatClient, LoginError } from '../src/client/chat';
import { flush, harness, msg } from './fakes';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** Signs alice in, opens the socket, answers the join of `general` (lastSeq) and the first history page. */
async function connected(lastSeq = 0, history = [] as ReturnType<typeof msg>[]) {
  const h = harness();
  const c = new ChatClient(h.deps);
  await c.start('alice', { rooms: ['general'] });
  const s = h.socket();
  s.open();
  const join = s.last('join')!;
  expect(join).toMatchObject({ room: 'general' });
  expect(join).not.toHaveProperty('since');
  s.deliver({ type: 'joined', ref: join.ref, room: 'general', lastSeq, members: [{ user: 'bob', status: 'online' }] });
  await flush();
  const hist = s.last('history')!;
  expect(hist).toMatchObject({ room: 'general' });
  expect(hist).not.toHaveProperty('before');
  s.deliver({ type: 'history', ref: hist.ref, room: 'general', messages: history, hasMore: history.length > 0 && history[0].seq > 1 });
  await flush();
  return { h, c, s, room: c.rooms.get('general')! };
}

describe('ChatClient', () => {
  it('connects, joins, loads the newest page and tracks the node', async () => {
    const { c, room } = await connected(2, [msg('general', 1), msg('general', 2)]);
    expect(c.state).toBe('online');
    expect(c.node).toBe('127.0.0.1:7355');
    expect(room.messages().map((m) => m.seq)).toEqual([1, 2]);
    expect(room.streamSeq).toBe(2);
    expect(c.membersOf('general').map((m) => [m.user, m.status])).toEqual([
      ['alice', 'online'],
      ['bob', 'online'],
    ]);
  });

  it('lists members online first, names in natural order', async () => {
    const { c, s } = await connected(0);
    for (const user of ['u10', 'u2', 'zed', 'u1']) s.deliver({ type: 'member', room: 'general', user, event: 'joined' });
    s.deliver({ type: 'presence', user: 'u1', status: 'offline', lastSeen: '2026-01-01T00:00:00.000Z' });
    expect(c.membersOf('general').map((m) => m.user)).toEqual(['alice', 'bob', 'u2', 'u10', 'zed', 'u1']);
  });

  it('shows nobody online while disconnected, and presence again after the rejoin', async () => {
    const { h, c, s } = await connected();
    s.deliver({ type: 'presence', user: 'carol', status: 'offline', lastSeen: '2026-01-01T00:00:00Z' });
    s.deliver({ type: 'member', room: 'general', user: 'carol', event: 'joined' });
    s.deliver({ type: 'presence', user: 'carol', status: 'offline', lastSeen: '2026-01-01T00:00:00Z' });
    s.drop();
    expect(c.membersOf('general').map((m) => [m.user, m.status])).toEqual([
      ['bob', 'unknown'],
      ['carol', 'unknown'],
      ['alice', 'offline'],
    ]);
    expect(c.membersOf('general').find((m) => m.user === 'carol')?.lastSeen).toBe('2026-01-01T00:00:00Z');
    vi.advanceTimersByTime(1000);
    await flush();
    const s2 = h.socket();
    s2.open();
    const join = s2.last('join')!;
    s2.deliver({ type: 'joined', ref: join.ref, room: 'general', lastSeq: 0, members: [{ user: 'bob', status: 'offline', lastSeen: '2026-01-02T00:00:00Z' }] });
    await flush();
    expect(c.membersOf('general').map((m) => [m.user, m.status])).toEqual([
      ['alice', 'online'],
      ['bob', 'offline'],
      ['carol', 'offline'],
    ]);
  });

  it('keeps the member list live with member frames', async () => {
    const { c, s } = await connected(0);
    s.deliver({ type: 'member', room: 'general', user: 'carol', event: 'joined' });
    expect(c.membersOf('general').map((m) => [m.user, m.status])).toEqual([
      ['alice', 'online'],
      ['bob', 'online'],
      ['carol', 'online'],
    ]);
    s.deliver({ type: 'member', room: 'general', user: 'bob', event: 'left' });
    s.deliver({ type: 'member', room: 'elsewhere', user: 'dave', event: 'joined' });
    expect(c.membersOf('general').map((m) => m.user)).toEqual(['alice', 'carol']);
  });

  it('keeps the names a message mentions, live and from history', async () => {
    const { s, room } = await connected(1, [{ ...msg('general', 1, 'bob', 'hi @alice'), mentions: ['alice'] }]);
    s.deliver({ ...msg('general', 2, 'bob', '@carol and @alice'), mentions: ['carol', 'alice'] });
    s.deliver(msg('general', 3));
    expect(room.messages().map((m) => m.mentions)).toEqual([['alice'], ['carol', 'alice'], undefined]);
  });

  it('dedupes messages by seq whatever the path they come by', async () => {
    const { s, room } = await connected(2, [msg('general', 1), msg('general', 2)]);
    s.deliver(msg('general', 2));
    s.deliver(msg('general', 3));
    s.deliver(msg('general', 3));
    expect(room.messages().map((m) => m.seq)).toEqual([1, 2, 3]);
  });

  it('shows own messages at once, pending until acked, and never twice', async () => {
    const { c, s, room } = await connected();
    const id = c.send('general', 'hello');
    expect(room.messages()).toMatchObject([{ id, text: 'hello', state: 'pending' }]);
    const send = s.last('send')!;
    expect(send).toMatchObject({ room: 'general', id, text: 'hello' });
    s.deliver({ type: 'ack', ref: send.ref, room: 'general', id, seq: 1, ts: '2026-01-01T00:00:00Z' });
    await flush();
    s.deliver(msg('general', 1, 'alice', 'hello', id));
    const shown = room.messages();
    expect(shown).toHaveLength(1);
    expect(shown[0]).toMatchObject({ seq: 1, id, state: 'acked' });
  });

  it('marks a refused send failed and retries it with the same id', async () => {
    const { c, s, room } = await connected();
    const id = c.send('general', 'hello');
    const first = s.last('send')!;
    s.deliver({ type: 'error', ref: first.ref, code: 'forbidden', message: 'not yours' });
    await flush();
    expect(room.messages()[0]).toMatchObject({ id, state: 'failed', error: 'not yours' });
    c.retry('general', id);
    const second = s.last('send')!;
    expect(second.ref).not.toBe(first.ref);
    expect(second).toMatchObject({ id, text: 'hello' });
    expect(room.messages()[0].state).toBe('pending');
  });

  it('retires an own message by its own id, also when the ack leaves the id out', async () => {
    const { c, s, room } = await connected();
    const id = c.send('general', 'hello');
    s.deliver({ type: 'ack', ref: s.last('send')!.ref, room: 'general', seq: 1, ts: '2026-01-01T00:00:00Z' });
    await flush();
    expect(room.messages()).toMatchObject([{ seq: 1, id, text: 'hello', state: 'acked' }]);
  });

  it('fails a send answered by anything but an ack, rather than sending it again and again', async () => {
    const { c, s, room } = await connected();
    const id = c.send('general', 'hello');
    s.deliver({ type: 'pong', ref: s.last('send')!.ref });
    await flush();
    expect(room.messages()).toMatchObject([{ id, state: 'failed' }]);
    expect(s.all('send')).toHaveLength(1);
  });

  it('sends one message at a time, in the order written', async () => {
    const { c, s, room } = await connected();
    const ids = ['one', 'two', 'three'].map((t) => c.send('general', t));
    expect(s.all('send').map((f) => (f as { id: string }).id)).toEqual([ids[0]]);
    for (let i = 0; i < 3; i++) {
      s.deliver({ type: 'ack', ref: s.last('send')!.ref, room: 'general', id: ids[i], seq: i + 1, ts: '2026-01-01T00:00:00Z' });
      await flush();
    }
    expect(s.all('send').map((f) => (f as { id: string }).id)).toEqual(ids);
    expect(room.messages().map((m) => [m.seq, m.text, m.state])).toEqual([
      [1, 'one', 'acked'],
      [2, 'two', 'acked'],
      [3, 'three', 'acked'],
    ]);
  });

  it('on rate_limited waits retryAfterMs, then sends the refused message and the later ones in order', async () => {
    const { c, s, room } = await connected();
    const ids = ['a', 'b', 'c'].map((t) => c.send('general', t));
    s.deliver({ type: 'ack', ref: s.last('send')!.ref, room: 'general', id: ids[0], seq: 1, ts: '2026-01-01T00:00:00Z' });
    await flush();
    const refused = s.last('send')!;
    expect(refused).toMatchObject({ id: ids[1] });
    s.deliver({ type: 'error', ref: refused.ref, code: 'rate_limited', message: 'slow down', retryAfterMs: 700 });
    await flush();
    // nothing is failed, and nothing overtakes the refused one while it waits
    expect(room.messages().map((m) => m.state)).toEqual(['acked', 'pending', 'pending']);
    vi.advanceTimersByTime(699);
    expect(s.all('send')).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(s.last('send')).toMatchObject({ id: ids[1] });
    s.deliver({ type: 'ack', ref: s.last('send')!.ref, room: 'general', id: ids[1], seq: 2, ts: '2026-01-01T00:00:00Z' });
    await flush();
    expect(s.last('send')).toMatchObject({ id: ids[2] });
    expect(s.all('send').map((f) => (f as { id: string }).id)).toEqual([ids[0], ids[1], ids[1], ids[2]]);
  });

  it('reconnects with back-off and resumes each room with since = highest seq seen', async () => {
    const { h, c, s, room } = await connected(2, [msg('general', 1), msg('general', 2)]);
    s.deliver(msg('general', 3));
    s.drop(1001, 'going away');
    expect(c.state).toBe('reconnecting');
    expect(h.sockets).toHaveLength(1);
    vi.advanceTimersByTime(499); // attempt 1: 250–500 ms (random 0.5 → 375)
    await flush();
    expect(h.sockets).toHaveLength(2);
    const s2 = h.socket();
    s2.open();
    expect(c.state).toBe('online');
    const join = s2.last('join')!;
    expect(join).toMatchObject({ room: 'general', since: 3 });
    s2.deliver({ type: 'joined', ref: join.ref, room: 'general', lastSeq: 5, members: [] });
    // replay 4..5, with a duplicate of 3 for good measure
    s2.deliver(msg('general', 3));
    s2.deliver(msg('general', 4));
    s2.deliver(msg('general', 5));
    s2.deliver({ type: 'synced', room: 'general', lastSeq: 5 });
    await flush();
    expect(room.messages().map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(s2.all('history')).toHaveLength(0); // nothing to reload
  });

  it('does not move the resume point on an ack that overtakes earlier messages', async () => {
    const { h, c, s, room } = await connected(2, [msg('general', 1), msg('general', 2)]);
    const id = c.send('general', 'mine');
    const send = s.last('send')!;
    s.deliver({ type: 'ack', ref: send.ref, room: 'general', id, seq: 4, ts: '2026-01-01T00:00:00Z' });
    await flush();
    s.drop();
    vi.advanceTimersByTime(1000);
    await flush();
    const s2 = h.socket();
    s2.open();
    expect(s2.last('join')).toMatchObject({ since: 2 }); // 3 (bob's) was not received yet
    expect(room.messages().map((m) => m.seq)).toEqual([1, 2, 4]);
  });

  it('resends pending messages with the same id after reconnecting', async () => {
    const { h, c, s, room } = await connected();
    const id = c.send('general', 'in flight');
    expect(s.all('send')).toHaveLength(1);
    s.drop();
    await flush();
    expect(room.messages()[0].state).toBe('pending');
    const late = c.send('general', 'written while offline');
    vi.advanceTimersByTime(1000);
    await flush();
    const s2 = h.socket();
    s2.open();
    const join = s2.last('join')!;
    s2.deliver({ type: 'joined', ref: join.ref, room: 'general', lastSeq: 1, members: [] });
    await flush();
    // the oldest first; the next one once it is answered
    expect(s2.all('send').map((f) => (f as { id: string }).id)).toEqual([id]);
    // the first one had landed before the drop: the server answers with the same seq
    s2.deliver({ type: 'ack', ref: s2.last('send')!.ref, room: 'general', id, seq: 1, ts: '2026-01-01T00:00:00Z' });
    s2.deliver(msg('general', 1, 'alice', 'in flight', id));
    await flush();
    expect(s2.all('send').map((f) => (f as { id: string }).id)).toEqual([id, late]);
    expect(room.messages().map((m) => [m.seq, m.text])).toEqual([
      [1, 'in flight'],
      [undefined, 'written while offline'],
    ]);
  });

  it('keeps a send pending through a network drop and resends it with its id when the network is back', async () => {
    const { h, c, s, room } = await connected();
    c.networkLost();
    const id = c.send('general', 'written offline');
    vi.advanceTimersByTime(20_000); // longer than any request timeout: still pending, never failed
    await flush();
    expect(room.messages()[0]).toMatchObject({ id, state: 'pending' });
    expect(s.all('send')).toHaveLength(0);
    c.networkBack();
    await flush();
    const s2 = h.socket();
    s2.open();
    const join = s2.last('join')!;
    s2.deliver({ type: 'joined', ref: join.ref, room: 'general', lastSeq: 0, members: [] });
    await flush();
    expect(s2.last('send')).toMatchObject({ id, text: 'written offline' });
  });

  it('does not fail a send whose answer is lost with the connection, and sends it again with its id', async () => {
    const { h, c, s, room } = await connected();
    const id = c.send('general', 'into the void');
    vi.advanceTimersByTime(1500 + 4000); // neither the send nor the probe is answered: the socket is dead
    await flush();
    expect(s.closed).toBe(true);
    expect(room.messages()[0]).toMatchObject({ id, state: 'pending' });
    vi.advanceTimersByTime(1000);
    await flush();
    const s2 = h.socket();
    expect(s2).not.toBe(s);
    s2.open();
    const join = s2.last('join')!;
    s2.deliver({ type: 'joined', ref: join.ref, room: 'general', lastSeq: 1, members: [] });
    await flush();
    const again = s2.last('send')!;
    expect(again).toMatchObject({ id });
    // it had landed: the server acks it again with the same seq, and it is shown once
    s2.deliver({ type: 'ack', ref: again.ref, room: 'general', id, seq: 1, ts: '2026-01-01T00:00:00Z' });
    await flush();
    expect(room.messages().map((m) => [m.seq, m.state])).toEqual([[1, 'acked']]);
  });

  it('backs off exponentially and reports offline after repeated failures', async () => {
    const h = harness();
    const c = new ChatClient({ ...h.deps, offlineAfter: 3 });
    await c.start('alice', { rooms: ['general'] });
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      const before = Date.now();
      h.socket().drop(); // refused before welcome
      const due = c.nextRetryAt - before;
      delays.push(due);
      vi.advanceTimersByTime(due);
      await flush();
    }
    expect(delays).toEqual([375, 750, 1500, 3000, 6000]);
    expect(c.state).toBe('offline');
    // failed before welcome: the token may be stale, so each attempt logs in again
    expect(h.logins.length).toBeGreaterThan(1);
    h.socket().open();
    expect(c.state).toBe('online');
    expect(c.attempt).toBe(0);
  });

  it('goes back to sign-in when the node refuses the user on re-login', async () => {
    const h = harness();
    let calls = 0;
    const c = new ChatClient({
      ...h.deps,
      login: async (user) => {
        if (++calls > 1) throw new LoginError(401, 'unauthorized', 'password required');
        return { user, token: 't', expiresAt: '2999-01-01T00:00:00Z' };
      },
    });
    await c.start('alice');
    h.socket().drop();
    vi.advanceTimersByTime(1000);
    await flush();
    expect(c.authError?.status).toBe(401);
    expect(c.state).toBe('idle');
  });

  it('starts over when the node does not know the resume point', async () => {
    const { h, s, room } = await connected(2, [msg('general', 1), msg('general', 2)]);
    s.drop();
    vi.advanceTimersByTime(1000);
    await flush();
    const s2 = h.socket();
    s2.open();
    const join = s2.last('join')!;
    s2.deliver({ type: 'error', ref: join.ref, code: 'invalid', message: 'since beyond lastSeq' });
    await flush();
    const rejoin = s2.last('join')!;
    expect(rejoin.ref).not.toBe(join.ref);
    expect(rejoin).not.toHaveProperty('since');
    expect(room.size).toBe(0);
  });

  it('counts unread messages of other rooms and clears them when opened', async () => {
    const { c, s } = await connected();
    c.open('random');
    const join = s.last('join')!;
    s.deliver({ type: 'joined', ref: join.ref, room: 'random', lastSeq: 0, members: [] });
    await flush();
    c.setActive('general');
    s.deliver(msg('random', 1));
    s.deliver(msg('random', 2));
    s.deliver(msg('random', 2));
    s.deliver(msg('random', 3, 'alice'));
    expect(c.rooms.get('random')!.unread).toBe(2);
    c.setActive('random');
    expect(c.rooms.get('random')!.unread).toBe(0);
  });

  it('opens a DM the server lists, with its badge, without any click', async () => {
    const { c, s } = await connected();
    s.deliver({ type: 'rooms', rooms: [{ room: 'general', lastSeq: 0, lastRead: 0 }] });
    s.deliver({
      type: 'rooms',
      rooms: [
        { room: 'dm:alice:bob', lastSeq: 1, lastRead: 0, unread: 1 },
        { room: 'general', lastSeq: 0, lastRead: 0 },
      ],
    });
    expect(c.rooms.get('dm:alice:bob')!.unread).toBe(1);
    expect(s.last('join')).toMatchObject({ room: 'dm:alice:bob' });
    expect(c.active).toBe('general');
  });

  it('counts as unread what the first page of a listed DM holds beyond the listed count', async () => {
    const { c, s } = await connected();
    s.deliver({ type: 'rooms', rooms: [{ room: 'dm:alice:bob', lastSeq: 1, lastRead: 0, unread: 1 }, { room: 'general', lastSeq: 0, lastRead: 0 }] });
    const join = s.last('join')!;
    s.deliver({ type: 'joined', ref: join.ref, room: 'dm:alice:bob', lastSeq: 2, members: [] });
    await flush();
    // bob's second message was written while the first was being listed
    s.deliver({ type: 'history', ref: s.last('history')!.ref, room: 'dm:alice:bob', messages: [msg('dm:alice:bob', 1), msg('dm:alice:bob', 2)], hasMore: false });
    await flush();
    expect(c.rooms.get('dm:alice:bob')!.unread).toBe(2);
  });

  it('drops a room left on another device, and keeps one whose join is on its way', async () => {
    const { c, s } = await connected();
    s.deliver({ type: 'rooms', rooms: [{ room: 'general', lastSeq: 0, lastRead: 0 }, { room: 'random', lastSeq: 3, lastRead: 0, unread: 3 }] });
    expect([...c.rooms.keys()].sort()).toEqual(['general', 'random']);
    c.open('fresh'); // not listed by the server yet
    const sentBefore = s.sent.length;
    s.deliver({ type: 'rooms', rooms: [{ room: 'general', lastSeq: 0, lastRead: 0 }] });
    expect([...c.rooms.keys()].sort()).toEqual(['fresh', 'general']);
    expect(s.sent.slice(sentBefore).filter((f) => f.type === 'leave')).toEqual([]);
  });

  it('sends the read marker of the room looked at, and follows markers moved on another device', async () => {
    const { c, s } = await connected(2, [msg('general', 1), msg('general', 2)]);
    s.deliver({ type: 'rooms', rooms: [{ room: 'general', lastSeq: 2, lastRead: 0, unread: 2 }, { room: 'random', lastSeq: 5, lastRead: 0, unread: 5, mentions: 1 }] });
    c.setActive('general');
    vi.advanceTimersByTime(1000);
    expect(s.last('read')).toMatchObject({ room: 'general', seq: 2 });
    s.deliver({ type: 'read', ref: s.last('read')!.ref, room: 'general', seq: 2 });
    const random = c.rooms.get('random')!;
    expect([random.unread, random.mentions]).toEqual([5, 1]);
    random.streamSeq = 5;
    s.deliver({ type: 'read', room: 'random', seq: 5 });
    expect([random.unread, random.mentions, random.lastRead]).toEqual([0, 0, 5]);
    s.deliver({ type: 'read', room: 'random', seq: 3 }); // never backwards
    expect(random.lastRead).toBe(5);
  });

  it('moves the read marker past an own message in the room looked at', async () => {
    const { c, s } = await connected(2, [msg('general', 1), msg('general', 2)]);
    const id = c.send('general', 'mine');
    s.deliver({ type: 'ack', ref: s.last('send')!.ref, room: 'general', id, seq: 3, ts: '2026-01-01T00:00:00Z' });
    await flush();
    s.deliver(msg('general', 3, 'alice', 'mine', id));
    vi.advanceTimersByTime(1000);
    expect(s.last('read')).toMatchObject({ room: 'general', seq: 3 });
  });

  it('does not count a replay the server already counted, nor undo a newer read', async () => {
    const { c, s } = await connected();
    s.deliver({ type: 'rooms', rooms: [{ room: 'general', lastSeq: 0, lastRead: 0 }, { room: 'random', lastSeq: 7, lastRead: 5, unread: 2 }] });
    const random = c.rooms.get('random')!;
    for (const seq of [6, 7]) s.deliver(msg('random', seq, 'bob')); // the replay of what the 2 count
    expect(random.unread).toBe(2);
    s.deliver(msg('random', 8, 'bob'));
    expect(random.unread).toBe(3);
    // a frame composed before message 8 arrives after it: 8 still counts
    s.deliver({ type: 'rooms', rooms: [{ room: 'general', lastSeq: 0, lastRead: 0 }, { room: 'random', lastSeq: 7, lastRead: 5, unread: 2 }] });
    expect(random.unread).toBe(3);
    // another device read it all; a frame composed before that read changes nothing
    s.deliver({ type: 'read', room: 'random', seq: 8 });
    s.deliver({ type: 'rooms', rooms: [{ room: 'general', lastSeq: 0, lastRead: 0 }, { room: 'random', lastSeq: 8, lastRead: 5, unread: 3 }] });
    expect(random.unread).toBe(0);
  });

  it('sends the marker of a room left and joined again from 0', async () => {
    const { c, s } = await connected(2, [msg('general', 1), msg('general', 2)]);
    s.deliver({ type: 'rooms', rooms: [{ room: 'general', lastSeq: 2, lastRead: 0, unread: 2 }] });
    c.setActive('general');
    vi.advanceTimersByTime(1000);
    expect(s.all('read')).toHaveLength(1);
    c.close('general');
    c.open('general');
    const join = s.last('join')!;
    s.deliver({ type: 'joined', ref: join.ref, room: 'general', lastSeq: 2, members: [] });
    await flush();
    s.deliver({ type: 'history', ref: s.last('history')!.ref, room: 'general', messages: [msg('general', 1), msg('general', 2)], hasMore: false });
    await flush();
    c.setActive('general');
    vi.advanceTimersByTime(1000);
    expect(s.all('read')).toHaveLength(2);
  });

  it('drops, after a reconnect, a room left on another device while away', async () => {
    const { h, c, s } = await connected();
    s.deliver({ type: 'rooms', rooms: [{ room: 'general', lastSeq: 0, lastRead: 0 }, { room: 'random', lastSeq: 0, lastRead: 0 }] });
    expect([...c.rooms.keys()].sort()).toEqual(['general', 'random']);
    s.drop();
    vi.advanceTimersByTime(1000);
    await flush();
    const s2 = h.socket();
    s2.open('alice', '127.0.0.1:7355', [{ room: 'general', lastSeq: 0, lastRead: 0 }]);
    expect([...c.rooms.keys()]).toEqual(['general']);
    // the page's automatic rejoin of random was on its way: once answered, it is left again
    const rejoin = s2.all('join').find((f) => (f as { room: string }).room === 'random')!;
    expect(s2.all('leave')).toEqual([]);
    s2.deliver({ type: 'joined', ref: rejoin.ref, room: 'random', lastSeq: 0, members: [] });
    await flush();
    expect(s2.all('leave').map((f) => (f as { room: string }).room)).toEqual(['random']);
  });

  it('notifies of a DM or a mention only while the page is hidden', async () => {
    const notes: string[] = [];
    let shown = true;
    const h = harness();
    const c = new ChatClient({ ...h.deps, visible: () => shown, notify: (title) => void notes.push(title) });
    await c.start('alice', { rooms: ['general', 'dm:alice:bob'] });
    const s = h.socket();
    s.open();
    s.deliver({ ...msg('general', 1, 'bob'), text: 'hi @alice', mentions: ['alice'] });
    s.deliver(msg('dm:alice:bob', 1, 'bob'));
    expect(notes).toEqual([]);
    expect(c.rooms.get('dm:alice:bob')!.unread).toBe(1);
    shown = false;
    s.deliver({ ...msg('general', 2, 'bob'), text: 'and @alice again', mentions: ['alice'] });
    s.deliver(msg('general', 3, 'bob'));
    s.deliver(msg('dm:alice:bob', 2, 'bob'));
    expect(notes).toEqual(['bob mentioned you', 'Message from bob']);
    expect([c.rooms.get('general')!.unread, c.rooms.get('general')!.mentions]).toEqual([2, 1]);
    shown = true;
    c.pageShown();
    expect(c.rooms.get('general')!.unread).toBe(0);
  });

  it('opens DMs under the sorted room name', async () => {
    const { c, s } = await connected();
    expect(c.openDm('aaron')).toBe('dm:aaron:alice');
    expect(s.last('join')).toMatchObject({ room: 'dm:aaron:alice' });
    expect(c.membersOf('dm:aaron:alice').map((m) => m.user).sort()).toEqual(['aaron', 'alice']);
  });

  it('loads older pages through history with before = oldest seq', async () => {
    const page = Array.from({ length: 50 }, (_, i) => msg('general', 51 + i));
    const { c, s, room } = await connected(100, page);
    expect(room.hasMore).toBe(true);
    const p = c.loadOlder('general');
    const req = s.last('history')!;
    expect(req).toMatchObject({ before: 51, limit: 50 });
    s.deliver({ type: 'history', ref: req.ref, room: 'general', messages: Array.from({ length: 50 }, (_, i) => msg('general', 1 + i)), hasMore: false });
    await p;
    expect(room.size).toBe(100);
    expect(room.hasMore).toBe(false);
    expect(room.streamSeq).toBe(100);
  });

  it('shows typing users for a few seconds, and presence changes', async () => {
    const { c, s, room } = await connected();
    s.deliver({ type: 'typing', room: 'general', user: 'bob' });
    expect(room.typingUsers(Date.now())).toEqual(['bob']);
    vi.advanceTimersByTime(5000);
    expect(room.typingUsers(Date.now())).toEqual([]);
    s.deliver({ type: 'presence', user: 'bob', status: 'offline', lastSeen: '2026-01-01T00:00:00Z' });
    expect(c.membersOf('general').find((m) => m.user === 'bob')).toMatchObject({ status: 'offline', lastSeen: '2026-01-01T00:00:00Z' });
  });

  it('throttles its own typing frames, with a trailing one', async () => {
    const { c, s } = await connected();
    c.typing('general');
    c.typing('general');
    c.typing('general');
    expect(s.all('typing')).toHaveLength(1);
    vi.advanceTimersByTime(1499);
    expect(s.all('typing')).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(s.all('typing')).toHaveLength(2); // the trailing one, 1.5 s after the first
    vi.advanceTimersByTime(5000);
    expect(s.all('typing')).toHaveLength(2);
  });

  it('drops the trailing typing frame when the message is sent', async () => {
    const { c, s } = await connected();
    c.typing('general');
    c.typing('general');
    c.send('general', 'done');
    vi.advanceTimersByTime(5000);
    expect(s.all('typing')).toHaveLength(1);
  });

  it('pings on a heartbeat and drops a connection whose ping goes unanswered', async () => {
    const { h, c, s } = await connected();
    vi.advanceTimersByTime(7500);
    expect(s.all('ping').length).toBeGreaterThanOrEqual(1);
    vi.advanceTimersByTime(4000); // the ping is not answered within the probe timeout
    expect(s.closed).toBe(true);
    expect(c.state).toBe('reconnecting');
    vi.advanceTimersByTime(1000);
    await flush();
    expect(h.sockets).toHaveLength(2);
  });
});
