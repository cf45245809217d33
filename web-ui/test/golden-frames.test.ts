/// <reference types="node" />
// The golden frames of protocol/src/test/resources/golden-frames, which the Java codec must encode
// and decode exactly (GoldenFramesTest): here the browser client must read every server frame
// with the fields it expects, and build its own frames exactly like the client fixtures.
// A rename or reshape on either side fails one of the two suites.

import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChatClient } from '../src/client/chat';
import { parseFrame, type RoomEvent, type ServerFrame } from '../src/client/protocol';
import { Requests } from '../src/client/requests';
import { flush, harness, msg, type FakeSocket } from './fakes';

const DIR = new URL('../../protocol/src/test/resources/golden-frames/', import.meta.url);

type Frame = { type: string; ref?: string } & Record<string, unknown>;

function names(side: 'server' | 'client'): string[] {
  return readdirSync(new URL(`${side}/`, DIR))
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

function text(side: 'server' | 'client', name: string): string {
  return readFileSync(new URL(`${side}/${name}.json`, DIR), 'utf8');
}

function fixture(side: 'server' | 'client', name: string): Frame {
  return JSON.parse(text(side, name)) as Frame;
}

/** A server fixture as the node would send it in answer to the client's `ref`. */
function reply(name: string, ref: string | undefined): Frame {
  return { ...fixture('server', name), ref };
}

// ------------------------------------------------------------------------------------ server frames

/** What the client expects of each field; typed against ServerFrame so the table follows protocol.ts. */
type Kind =
  | 'string'
  | 'number'
  | 'boolean'
  | 'members'
  | 'messages'
  | 'strings'
  | 'roomEntries'
  | 'directoryEntries'
  | 'searchResults'
  | 'reactions'
  | 'decimal';
type Field = { kind: Kind; optional?: true };
type ShapeOf<F> = { [P in Exclude<keyof F, 'type'>]-?: Field };
type Shapes = { [T in ServerFrame['type']]: ShapeOf<Extract<ServerFrame, { type: T }>> };

const str: Field = { kind: 'string' };
const num: Field = { kind: 'number' };
const optStr: Field = { kind: 'string', optional: true };
const optNum: Field = { kind: 'number', optional: true };

const SHAPES: Shapes = {
  welcome: { user: str, session: str, node: str, heartbeatMs: num, protocol: { kind: 'decimal' } },
  joined: { ref: optStr, room: str, lastSeq: num, members: { kind: 'members', optional: true } },
  synced: { room: str, lastSeq: num },
  left: { ref: optStr, room: str },
  ack: { ref: optStr, room: str, id: optStr, seq: num, ts: str },
  history: { ref: optStr, room: str, messages: { kind: 'messages' }, hasMore: { kind: 'boolean' } },
  message: {
    room: str,
    seq: num,
    id: str,
    from: str,
    text: optStr,
    ts: str,
    mentions: { kind: 'strings', optional: true },
    editedAt: optStr,
    deleted: { kind: 'boolean', optional: true },
    reactions: { kind: 'reactions', optional: true },
  },
  edited: { room: str, seq: num, target: num, from: str, text: optStr, ts: str },
  deleted: { room: str, seq: num, target: num, from: str, ts: str },
  reacted: { room: str, seq: num, target: num, from: str, emoji: str, on: { kind: 'boolean' }, ts: str },
  typing: { room: str, user: str },
  member: { room: str, user: str, event: str },
  presence: { ref: optStr, user: optStr, status: optStr, lastSeen: optStr, users: { kind: 'members', optional: true } },
  pong: { ref: optStr },
  error: { ref: optStr, code: str, message: optStr, retryAfterMs: optNum },
  rooms: { rooms: { kind: 'roomEntries' } },
  read: { ref: optStr, room: str, seq: num },
  directory: { ref: optStr, rooms: { kind: 'directoryEntries' } },
  search: { ref: optStr, results: { kind: 'searchResults' } },
};

const ROOM_ENTRY: Record<string, Field> = { room: str, lastSeq: num, lastRead: num, unread: optNum, mentions: optNum };
const DIRECTORY_ENTRY: Record<string, Field> = { room: str, members: num, lastSeq: num };
const SEARCH_RESULT: Record<string, Field> = { room: str, seq: num, from: str, text: str, ts: str };

const MEMBER: Record<string, Field> = { user: str, status: str, lastSeen: optStr };
/** The shape of each room event a history page may hold. */
const ROOM_EVENTS: Record<string, Record<string, Field>> = {
  message: SHAPES.message,
  edited: SHAPES.edited,
  deleted: SHAPES.deleted,
  reacted: SHAPES.reacted,
};

/** Checks every field against its shape; fields the client does not know are reported too. */
function expectShape(value: Record<string, unknown>, shape: Record<string, Field>, where: string, ignore: string[] = []): void {
  for (const key of Object.keys(value)) {
    if (key === 'type' || ignore.includes(key)) continue;
    expect(shape, `${where}: field '${key}' is unknown to the browser client`).toHaveProperty(key);
  }
  for (const [key, field] of Object.entries(shape)) {
    const v = value[key];
    if (v === undefined) {
      expect(field.optional, `${where}: '${key}' is missing`).toBe(true);
      continue;
    }
    const at = `${where}.${key}`;
    switch (field.kind) {
      case 'members':
        expect(Array.isArray(v), at).toBe(true);
        (v as Record<string, unknown>[]).forEach((m, i) => expectShape(m, MEMBER, `${at}[${i}]`));
        break;
      case 'messages':
        expect(Array.isArray(v), at).toBe(true);
        (v as Record<string, unknown>[]).forEach((m, i) => {
          // every event of a page carries its type (version 1.1: edits, deletions and reactions too)
          expect(Object.keys(ROOM_EVENTS), `${at}[${i}].type`).toContain(m.type);
          expectShape(m, ROOM_EVENTS[m.type as string], `${at}[${i}]`);
        });
        break;
      case 'reactions':
        expect(typeof v, at).toBe('object');
        for (const [emoji, users] of Object.entries(v as Record<string, unknown>)) {
          expect(Array.isArray(users), `${at}.${emoji}`).toBe(true);
          (users as unknown[]).forEach((u) => expect(typeof u, `${at}.${emoji}`).toBe('string'));
        }
        break;
      case 'searchResults':
        expect(Array.isArray(v), at).toBe(true);
        (v as Record<string, unknown>[]).forEach((e, i) => expectShape(e, SEARCH_RESULT, `${at}[${i}]`));
        break;
      case 'roomEntries':
      case 'directoryEntries':
        expect(Array.isArray(v), at).toBe(true);
        (v as Record<string, unknown>[]).forEach((e, i) =>
          expectShape(e, field.kind === 'roomEntries' ? ROOM_ENTRY : DIRECTORY_ENTRY, `${at}[${i}]`),
        );
        break;
      case 'strings':
        expect(Array.isArray(v), at).toBe(true);
        (v as unknown[]).forEach((s, i) => expect(typeof s, `${at}[${i}]`).toBe('string'));
        break;
      case 'number':
        expect(Number.isInteger(v), `${at} is an integer`).toBe(true);
        break;
      case 'decimal':
        expect(typeof v, at).toBe('number');
        break;
      default:
        expect(typeof v, at).toBe(field.kind);
    }
  }
}

describe('golden server frames', () => {
  const all = names('server');

  it('are all there', () => {
    expect(all).toEqual(
      [
        'ack',
        'ack-change',
        'deleted',
        'directory',
        'edited',
        'error-invalid',
        'error-rate-limited',
        'history',
        'history-events',
        'joined',
        'left',
        'member',
        'message',
        'pong',
        'presence-list',
        'presence-push',
        'reacted',
        'read',
        'rooms',
        'search',
        'synced',
        'typing',
        'welcome',
      ].sort(),
    );
    const types = new Set(all.map((n) => fixture('server', n).type));
    expect([...types].sort()).toEqual(Object.keys(SHAPES).sort());
  });

  it.each(all)('parseFrame accepts server/%s.json with the fields the client reads', (name) => {
    const frame = parseFrame(text('server', name));
    expect(frame, `server/${name}.json`).not.toBeNull();
    expect(frame).toEqual(fixture('server', name));
    expectShape(frame as unknown as Record<string, unknown>, SHAPES[frame!.type], name);
  });
});

// ------------------------------------------------------------------------------------ the client on them

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** Alice's client in `general`, fed with the golden server frames (their refs set to the client's). */
async function fedWithFixtures() {
  const h = harness();
  const c = new ChatClient(h.deps);
  await c.start('alice', { rooms: ['general'] });
  const s = h.socket();
  s.readyState = 1;
  s.deliver(fixture('server', 'welcome'));
  const join = s.last('join')!;
  s.deliver(reply('joined', join.ref));
  await flush();
  const history = s.last('history')!;
  s.deliver(reply('history', history.ref));
  await flush();
  return { h, c, s, room: c.rooms.get('general')! };
}

describe('the client reads the golden server frames', () => {
  it('welcome, joined, history, message, ack, synced, typing and presence', async () => {
    const { c, s, room } = await fedWithFixtures();
    expect(c.state).toBe('online');
    expect(c.node).toBe('127.0.0.1:7355');
    expect(c.membersOf('general').map((m) => [m.user, m.status, m.lastSeen])).toEqual([
      ['alice', 'online', undefined],
      ['bob', 'online', undefined],
      ['carol', 'offline', '2026-11-29T04:40:12.518Z'],
    ]);
    expect(room.messages().map((m) => [m.seq, m.from, m.text])).toEqual([
      [56, 'bob', 'morning!'],
      [57, 'carol', 'naïve café ☕ <b>not bold</b>\nsecond line'],
    ]);
    expect(room.hasMore).toBe(true);

    const id = fixture('client', 'send').id as string;
    vi.spyOn(globalThis.crypto, 'randomUUID').mockReturnValue(id as ReturnType<Crypto['randomUUID']>);
    expect(c.send('general', 'hi')).toBe(id);
    s.deliver(reply('ack', s.last('send')!.ref));
    await flush();
    s.deliver(fixture('server', 'message'));
    s.deliver(fixture('server', 'synced'));
    expect(room.messages().at(-1)).toMatchObject({ seq: 58, id, from: 'alice', text: 'hi', state: 'acked' });
    expect(room.streamSeq).toBe(58);

    s.deliver(fixture('server', 'typing'));
    expect(room.typingUsers(Date.now())).toEqual(['bob']);
    s.deliver(fixture('server', 'presence-push'));
    expect(c.presence.get('bob')).toEqual({ user: 'bob', status: 'offline', lastSeen: '2026-11-29T04:47:21.330Z' });
  });

  it('edited, reacted and deleted change the messages they target, once', async () => {
    const { s, room } = await fedWithFixtures();
    s.deliver(fixture('server', 'message'));
    s.deliver(fixture('server', 'edited'));
    expect(room.message(58)).toMatchObject({ text: 'hi!', editedAt: '2026-11-29T04:46:10.500Z' });
    s.deliver(fixture('server', 'reacted'));
    s.deliver(fixture('server', 'reacted')); // a replay applies nothing twice
    expect(room.message(57)?.reactions).toEqual({ '👍': ['bob'] });
    s.deliver(fixture('server', 'deleted'));
    expect(room.message(58)).toMatchObject({ text: '', deleted: true });
    expect(room.streamSeq).toBe(62);
  });

  it('history-events: a page shows each message as it is now', async () => {
    const { room } = await fedWithFixtures();
    const page = fixture('server', 'history-events') as unknown as { messages: RoomEvent[] };
    room.addHistory(page.messages, true, false, 'alice');
    expect(room.message(57)).toMatchObject({ text: 'ship it @alice', editedAt: '2026-11-29T04:46:20.000Z' });
    expect(room.message(57)?.reactions).toEqual({ '👍': ['bob', 'alice'], '🎉': ['dave'] });
    expect(room.message(58)).toMatchObject({ text: '', deleted: true });
    expect(room.messages().map((m) => m.seq)).toEqual([56, 57, 58]);
  });

  it('error: a rate-limited send stays pending and goes again after retryAfterMs', async () => {
    const { c, s, room } = await fedWithFixtures();
    const id = c.send('general', 'too fast');
    const first = s.last('send')!;
    s.deliver(reply('error-rate-limited', first.ref)); // retryAfterMs 480
    await flush();
    expect(room.messages().at(-1)).toMatchObject({ id, state: 'pending' });
    vi.advanceTimersByTime(479);
    expect(s.last('send')!.ref).toBe(first.ref);
    vi.advanceTimersByTime(1);
    expect(s.last('send')).toMatchObject({ id, text: 'too fast' });
    expect(s.last('send')!.ref).not.toBe(first.ref);
  });

  it('left and pong settle their requests', async () => {
    const sent: Frame[] = [];
    const reqs = new Requests({ canSend: () => true, send: (f) => void sent.push(f as Frame) });
    const left = reqs.request({ type: 'leave', room: 'general' });
    const pong = reqs.request({ type: 'ping' });
    expect(reqs.settle(parseFrame(JSON.stringify(reply('left', sent[0].ref)))!)).toBe(true);
    expect(reqs.settle(parseFrame(JSON.stringify(reply('pong', sent[1].ref)))!)).toBe(true);
    await expect(left).resolves.toMatchObject({ type: 'left', room: 'general' });
    await expect(pong).resolves.toMatchObject({ type: 'pong' });
    const list = reqs.request({ type: 'presence', users: ['bob', 'carol'] });
    reqs.settle(reply('presence-list', sent[2].ref) as unknown as ServerFrame);
    await expect(list).resolves.toMatchObject({ users: [{ user: 'bob' }, { user: 'carol', status: 'offline' }] });
  });
});

// ------------------------------------------------------------------------------------ client frames

/**
 * The frame the browser client sends equals the fixture. The client allocates its own refs, so a
 * request is compared with its ref replaced by the fixture's (after checking it has one); field
 * order is not compared, as the node reads fields by name.
 */
function expectSameFrame(sent: Frame | undefined, name: string): void {
  const fx = fixture('client', name);
  expect(sent, `the client sent no ${fx.type} frame`).toBeDefined();
  if (fx.ref === undefined) {
    expect(sent).toEqual(fx);
  } else {
    expect(typeof sent!.ref).toBe('string');
    expect({ ...sent, ref: fx.ref }).toEqual(fx);
  }
}

const last = (s: FakeSocket, type: string) => s.last(type) as Frame | undefined;

/** How the browser client builds each client fixture. */
const BUILDERS: Record<string, () => Promise<void>> = {
  async join() {
    const h = harness();
    await new ChatClient(h.deps).start('alice', { rooms: ['general'] });
    h.socket().open();
    expectSameFrame(last(h.socket(), 'join'), 'join');
  },
  async 'join-since'() {
    // a room whose newest loaded message is 42 resumes from there after a reconnect
    const h = harness();
    await new ChatClient(h.deps).start('alice', { rooms: ['general'] });
    const s = h.socket();
    s.open();
    const join = last(s, 'join')!;
    s.deliver({ type: 'joined', ref: join.ref, room: 'general', lastSeq: 42, members: [] });
    await flush();
    const newest = last(s, 'history')!;
    s.deliver({ type: 'history', ref: newest.ref, room: 'general', messages: [msg('general', 41), msg('general', 42)], hasMore: true });
    await flush();
    s.drop();
    vi.advanceTimersByTime(1000);
    await flush();
    h.socket().open();
    expectSameFrame(last(h.socket(), 'join'), 'join-since');
  },
  async leave() {
    const { c, s } = await fedWithFixtures();
    c.close('general');
    expectSameFrame(last(s, 'leave'), 'leave');
  },
  async send() {
    const { c, s } = await fedWithFixtures();
    const fx = fixture('client', 'send');
    vi.spyOn(globalThis.crypto, 'randomUUID').mockReturnValue(fx.id as ReturnType<Crypto['randomUUID']>);
    c.send('general', fx.text as string);
    expectSameFrame(last(s, 'send'), 'send');
  },
  async 'history-newest'() {
    const h = harness();
    await new ChatClient(h.deps).start('alice', { rooms: ['general'] });
    const s = h.socket();
    s.open();
    const join = last(s, 'join')!;
    s.deliver({ type: 'joined', ref: join.ref, room: 'general', lastSeq: 100, members: [] });
    await flush();
    expectSameFrame(last(s, 'history'), 'history-newest');
  },
  async history() {
    const h = harness();
    const c = new ChatClient(h.deps);
    await c.start('alice', { rooms: ['general'] });
    const s = h.socket();
    s.open();
    const join = last(s, 'join')!;
    s.deliver({ type: 'joined', ref: join.ref, room: 'general', lastSeq: 107, members: [] });
    await flush();
    const newest = last(s, 'history')!;
    const page = Array.from({ length: 50 }, (_, i) => msg('general', 58 + i));
    s.deliver({ type: 'history', ref: newest.ref, room: 'general', messages: page, hasMore: true });
    await flush();
    void c.loadOlder('general');
    expectSameFrame(last(s, 'history'), 'history');
  },
  async typing() {
    const { c, s } = await fedWithFixtures();
    c.typing('general');
    expectSameFrame(last(s, 'typing'), 'typing');
  },
  async presence() {
    // the browser client does not ask for presence yet; this is the frame its request path writes
    const sent: Frame[] = [];
    const reqs = new Requests({ canSend: () => true, send: (f) => void sent.push(f as Frame) });
    void reqs.request({ type: 'presence', users: ['bob', 'carol'] });
    expectSameFrame(sent[0], 'presence');
  },
  async read() {
    // the marker of the room being looked at goes out once its newest message is shown
    const h = harness();
    const c = new ChatClient(h.deps);
    await c.start('alice', { rooms: ['general'] });
    const s = h.socket();
    s.open();
    s.deliver({ type: 'joined', ref: last(s, 'join')!.ref, room: 'general', lastSeq: 57, members: [] });
    await flush();
    s.deliver({ type: 'history', ref: last(s, 'history')!.ref, room: 'general', messages: [msg('general', 57)], hasMore: true });
    await flush();
    c.setActive('general');
    vi.advanceTimersByTime(1000);
    expectSameFrame(last(s, 'read'), 'read');
  },
  async directory() {
    const { c, s } = await fedWithFixtures();
    void c.browse('dev');
    expectSameFrame(last(s, 'directory'), 'directory');
  },
  async search() {
    const { c, s } = await fedWithFixtures();
    void c.search('deploy', 'general');
    expectSameFrame(last(s, 'search'), 'search');
  },
  async edit() {
    const { c, s } = await fedWithFixtures();
    const fx = fixture('client', 'edit');
    vi.spyOn(globalThis.crypto, 'randomUUID').mockReturnValue(fx.id as ReturnType<Crypto['randomUUID']>);
    void c.edit('general', 58, 'hi!');
    expectSameFrame(last(s, 'edit'), 'edit');
  },
  async delete() {
    const { c, s } = await fedWithFixtures();
    void c.deleteMessage('general', 58);
    expectSameFrame(last(s, 'delete'), 'delete');
  },
  async react() {
    const { c, s } = await fedWithFixtures();
    void c.react('general', 58, '👍', true);
    expectSameFrame(last(s, 'react'), 'react');
  },
  async ping() {
    // the heartbeat ping carries no ref: its pong is not awaited, any frame proves the node alive
    const { s } = await fedWithFixtures();
    vi.advanceTimersByTime(7500);
    const { ref, ...fx } = fixture('client', 'ping');
    expect(ref).toBeDefined();
    expect(last(s, 'ping')).toEqual(fx);
  },
};

describe('golden client frames', () => {
  it('each has a builder here', () => {
    expect(names('client')).toEqual(Object.keys(BUILDERS).sort());
  });

  it.each(Object.keys(BUILDERS))('the client builds client/%s.json', async (name) => {
    await BUILDERS[name]();
  });
});
