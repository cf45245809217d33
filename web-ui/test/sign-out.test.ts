// Issue 15: signing out must forget the user in the page, and the next user in the same tab must
// start clean (no rooms, messages, presence or pending sends of the previous one, nothing joined
// or sent on their behalf).

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChatClient, LoginError } from '../src/client/chat';
import type { LoginResult } from '../src/client/protocol';
import { flush, harness, msg, type FakeSocket } from './fakes';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const roomOf = (f: object) => (f as { room?: string }).room;

/** localStorage stand-in. */
function memoryStorage() {
  const items = new Map<string, string>();
  return {
    items,
    getItem: (k: string) => items.get(k) ?? null,
    setItem: (k: string, v: string) => void items.set(k, v),
    removeItem: (k: string) => void items.delete(k),
  };
}

/** Answers the pending join of `room` and its first history page. */
async function answerJoin(s: FakeSocket, room: string, messages = [] as ReturnType<typeof msg>[], members = [] as { user: string; status: string }[]) {
  const join = s.all('join').find((f) => roomOf(f) === room && !s.answered.has(f.ref!))!;
  s.answered.add(join.ref!);
  s.deliver({ type: 'joined', ref: join.ref, room, lastSeq: messages.length, members });
  await flush();
  const hist = s.all('history').find((f) => roomOf(f) === room && !s.answered.has(f.ref!));
  if (hist) {
    s.answered.add(hist.ref!);
    s.deliver({ type: 'history', ref: hist.ref, room, messages, hasMore: false });
    await flush();
  }
}

/** Alice with a public room, a DM with bob, unread messages, typing, presence and sends in flight. */
async function aliceWithPrivateState() {
  const storage = memoryStorage();
  const sessions: (LoginResult | null)[] = [];
  const h = harness({ storage, onSession: (s) => void sessions.push(s) });
  const c = new ChatClient(h.deps);
  await c.start('alice');
  const s = h.socket();
  s.open('alice');
  await answerJoin(s, 'general', [msg('general', 1)], [{ user: 'bob', status: 'online' }]);
  c.open('secret-plans');
  await answerJoin(s, 'secret-plans', [msg('secret-plans', 1, 'alice', 'the plan')]);
  const dm = c.openDm('bob');
  await answerJoin(s, dm, [msg(dm, 1, 'bob', 'just between us')]);
  s.deliver(msg('secret-plans', 2, 'bob', 'unread for alice'));
  s.deliver({ type: 'typing', room: dm, user: 'bob' });
  s.deliver({ type: 'presence', user: 'bob', status: 'offline', lastSeen: '2026-01-01T00:00:00Z' });
  c.send(dm, 'pending to bob'); // no ack yet
  expect(c.rooms.get('secret-plans')!.unread).toBe(1);
  expect(storage.items.get('pulse.rooms.alice')).toContain('secret-plans');
  return { h, c, s, storage, sessions, dm };
}

describe('signing out', () => {
  it('forgets rooms, messages, presence, typing, the active room, unread counts and stored rooms', async () => {
    const { c, s, storage, sessions } = await aliceWithPrivateState();
    c.setDraft('secret-plans', 'half a secret');
    c.signOut();
    expect(c.draftOf('secret-plans')).toBe('');
    expect(s.closed).toBe(true);
    expect(c.state).toBe('idle');
    expect(c.rooms.size).toBe(0);
    expect(c.active).toBeNull();
    expect(c.presence.size).toBe(0);
    expect(c.user).toBe('');
    expect(c.node).toBe('');
    expect(c.currentToken).toBe('');
    expect(storage.items.has('pulse.rooms.alice')).toBe(false);
    expect(sessions.at(-1)).toBeNull();
    // a reply that was in flight changes nothing
    s.deliver({ type: 'ack', ref: s.last('send')!.ref, room: 'dm:alice:bob', id: 'x', seq: 2, ts: '2026-01-01T00:00:00Z' });
    expect(c.rooms.size).toBe(0);
  });

  it('lets the next user in the tab start clean: joins only their rooms and sends nothing of the previous user', async () => {
    const { h, c, storage, sessions } = await aliceWithPrivateState();
    c.signOut();
    await c.start('carol');
    expect([...c.rooms.keys()]).toEqual([]);
    const s2 = h.socket();
    s2.open('carol'); // a new user: the server lists no rooms, so carol starts in general
    expect([...c.rooms.keys()]).toEqual(['general']);
    expect(c.active).toBe('general');
    expect(s2.all('join').map(roomOf)).toEqual(['general']);
    await answerJoin(s2, 'general');
    const general = c.rooms.get('general')!;
    expect(general.messages()).toEqual([]);
    expect(general.unread).toBe(0);
    expect(c.membersOf('general').map((m) => m.user)).toEqual(['carol']);
    expect(c.presence.has('bob')).toBe(false);
    // alice's pending message must not go out as carol's
    vi.advanceTimersByTime(30_000);
    await flush();
    expect(s2.all('send')).toEqual([]);
    expect(s2.sent.map((f) => JSON.stringify(f)).join()).not.toMatch(/secret-plans|dm:alice:bob|pending to bob/);
    c.open('random');
    expect(JSON.parse(storage.items.get('pulse.rooms.carol')!)).toEqual(['general', 'random']);
    expect(sessions.at(-1)).toMatchObject({ user: 'carol' });
  });

  it('does not resend a message of the previous user after the server said unavailable', async () => {
    const storage = memoryStorage();
    const h = harness({ storage });
    const c = new ChatClient(h.deps);
    await c.start('alice');
    const s = h.socket();
    s.open('alice');
    await answerJoin(s, 'general');
    c.send('general', 'alice only');
    s.deliver({ type: 'error', ref: s.last('send')!.ref, code: 'unavailable', message: 'try again' });
    await flush(); // a resend is now scheduled in 1 s
    c.signOut();
    await c.start('carol');
    const s2 = h.socket();
    s2.open('carol');
    await answerJoin(s2, 'general');
    vi.advanceTimersByTime(10_000);
    await flush();
    expect(s2.all('send')).toEqual([]);
  });

  it('drops a login of the previous user that answers after the sign-out', async () => {
    const answers: ((r: LoginResult) => void)[] = [];
    const sessions: (LoginResult | null)[] = [];
    const h = harness({
      login: (user) =>
        user === 'alice'
          ? new Promise<LoginResult>((resolve) => answers.push(resolve))
          : Promise.resolve({ user, token: `token-${user}`, expiresAt: '2999-01-01T00:00:00Z' }),
      onSession: (s) => void sessions.push(s),
    });
    const c = new ChatClient(h.deps);
    await c.start('alice', { token: 'token-alice-old' });
    h.socket().drop(); // refused before welcome: the reconnect logs in again, and waits
    vi.advanceTimersByTime(1000);
    await flush();
    expect(answers).toHaveLength(1);
    c.signOut();
    await c.start('carol');
    answers[0]({ user: 'alice', token: 'token-alice-new', expiresAt: '2999-01-01T00:00:00Z' });
    await flush();
    vi.advanceTimersByTime(9_000); // within carol's wait for welcome: no socket but hers
    await flush();
    expect(c.user).toBe('carol');
    expect(h.sockets.map((s) => s.token)).toEqual(['token-alice-old', 'token-carol']);
    expect(sessions.map((s) => s?.user ?? null)).toEqual([null, 'carol']);
  });
});

describe('a different user after the node refused the previous one', () => {
  it('starts clean too, though nothing was signed out', async () => {
    const storage = memoryStorage();
    let refuse = false;
    const h = harness({
      storage,
      login: async (user) => {
        if (refuse && user === 'alice') throw new LoginError(401, 'unauthorized', 'password required');
        return { user, token: `token-${user}`, expiresAt: '2999-01-01T00:00:00Z' };
      },
    });
    const c = new ChatClient(h.deps);
    await c.start('alice');
    h.socket().open('alice');
    c.open('secret-plans');
    refuse = true;
    h.socket().drop(1008, 'token expired');
    vi.advanceTimersByTime(1000);
    await flush();
    h.socket().drop(); // refused before welcome: re-login is refused
    vi.advanceTimersByTime(2000);
    await flush();
    expect(c.authError?.status).toBe(401);
    await c.start('carol');
    h.socket().open('carol');
    expect([...c.rooms.keys()]).toEqual(['general']);
    expect(h.socket().all('join').map(roomOf)).toEqual(['general']);
    // alice did not sign out: her room list stays for her next sign-in
    expect(storage.items.get('pulse.rooms.alice')).toContain('secret-plans');
  });
});

describe('the cached room list', () => {
  it('joins a cached room only once the server lists it, and forgets one left elsewhere meanwhile', async () => {
    const storage = memoryStorage();
    storage.setItem('pulse.rooms.alice', JSON.stringify(['general', 'left-on-phone']));
    const h = harness({ storage });
    const c = new ChatClient(h.deps);
    await c.start('alice');
    expect([...c.rooms.keys()]).toEqual(['general', 'left-on-phone']); // shown at once, from the cache
    const s = h.socket();
    s.open('alice', '127.0.0.1:7355', [{ room: 'general', lastSeq: 0, lastRead: 0 }]);
    await flush();
    expect(s.all('join').map((f) => (f as { room: string }).room)).toEqual(['general']);
    expect([...c.rooms.keys()]).toEqual(['general']);
    expect(JSON.parse(storage.items.get('pulse.rooms.alice')!)).toEqual(['general']);
  });
});
