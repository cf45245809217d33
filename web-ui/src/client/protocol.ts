// Wire protocol v1 of Pulse (see protocol/PROTOCOL.md): frame types, names, and parsing.
// Plain TypeScript, no DOM: shared by the client logic and its unit tests.

export interface ChatMessage {
  room: string;
  seq: number;
  id: string;
  from: string;
  text: string;
  ts: string;
  /** Version 1.1: the names the text mentions, each once; absent when none. */
  mentions?: string[];
  /** Version 1.1, in history and replays: when the text was last edited. */
  editedAt?: string;
  /** Version 1.1: the message was deleted (its text is gone: '' here). */
  deleted?: boolean;
  /** Version 1.1: each emoji with the users who reacted with it. */
  reactions?: Record<string, string[]>;
}

/** A message as the wire carries it: without text once deleted. */
export type MessageFrame = Omit<ChatMessage, 'text'> & { text?: string };

/** Version 1.1: a message that matched a search, with its current text. */
export interface SearchResult {
  room: string;
  seq: number;
  from: string;
  text: string;
  ts: string;
}

/** Version 1.1: changes of a message, room events with their own seq. */
export interface EditedEvent {
  room: string;
  seq: number;
  target: number;
  from: string;
  /** Absent once the message is deleted. */
  text?: string;
  ts: string;
}

export interface DeletedEvent {
  room: string;
  seq: number;
  target: number;
  from: string;
  ts: string;
}

export interface ReactedEvent {
  room: string;
  seq: number;
  target: number;
  from: string;
  emoji: string;
  on: boolean;
  ts: string;
}

/** Everything that takes a seq in a room: what history pages and the room's stream carry. */
export type RoomEvent =
  | ({ type: 'message' } & MessageFrame)
  | ({ type: 'edited' } & EditedEvent)
  | ({ type: 'deleted' } & DeletedEvent)
  | ({ type: 'reacted' } & ReactedEvent);

export type Status = 'online' | 'offline' | (string & {});

export interface Member {
  user: string;
  status: Status;
  lastSeen?: string;
}

export interface LoginResult {
  token: string;
  user: string;
  expiresAt: string;
}

/** Version 1.1: one of the user's rooms, as the `rooms` frame lists it. */
export interface RoomEntry {
  room: string;
  lastSeq: number;
  lastRead: number;
  unread?: number;
  mentions?: number;
}

/** Version 1.1: a public room in the directory. */
export interface DirectoryEntry {
  room: string;
  members: number;
  lastSeq: number;
}

export type ServerFrame =
  | { type: 'welcome'; user: string; session: string; node: string; heartbeatMs: number; protocol: number }
  | { type: 'joined'; ref?: string; room: string; lastSeq: number; members?: Member[] }
  | { type: 'synced'; room: string; lastSeq: number }
  | { type: 'left'; ref?: string; room: string }
  | { type: 'ack'; ref?: string; room: string; id?: string; seq: number; ts: string }
  | { type: 'history'; ref?: string; room: string; messages: RoomEvent[]; hasMore: boolean }
  | RoomEvent
  | { type: 'typing'; room: string; user: string }
  | { type: 'member'; room: string; user: string; event: 'joined' | 'left' | (string & {}) }
  | { type: 'presence'; ref?: string; user?: string; status?: Status; lastSeen?: string; users?: Member[] }
  | { type: 'pong'; ref?: string }
  | { type: 'rooms'; rooms: RoomEntry[] }
  | { type: 'read'; ref?: string; room: string; seq: number }
  | { type: 'directory'; ref?: string; rooms: DirectoryEntry[] }
  | { type: 'search'; ref?: string; results: SearchResult[] }
  | { type: 'error'; ref?: string; code: string; message?: string; retryAfterMs?: number };

export type ClientFrame =
  | { type: 'join'; ref?: string; room: string; since?: number }
  | { type: 'leave'; ref?: string; room: string }
  | { type: 'send'; ref?: string; room: string; id: string; text: string }
  | { type: 'history'; ref?: string; room: string; before?: number; limit?: number }
  | { type: 'typing'; ref?: string; room: string }
  | { type: 'presence'; ref?: string; users: string[] }
  | { type: 'ping'; ref?: string }
  | { type: 'read'; ref?: string; room: string; seq: number }
  | { type: 'directory'; ref?: string; query: string; limit: number }
  | { type: 'search'; ref?: string; query: string; room?: string; limit: number }
  | { type: 'edit'; ref?: string; room: string; target: number; id?: string; text: string }
  | { type: 'delete'; ref?: string; room: string; target: number; id?: string }
  | { type: 'react'; ref?: string; room: string; target: number; id?: string; emoji: string; on: boolean };

export const USER_RE = /^[a-z0-9_.-]{1,32}$/;
export const ROOM_RE = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
export const MAX_TEXT = 4000;

export function isValidUser(name: string): boolean {
  return USER_RE.test(name);
}

export function isDmRoom(room: string): boolean {
  return room.startsWith('dm:');
}

export function isValidRoom(room: string): boolean {
  if (isDmRoom(room)) {
    const parts = room.split(':');
    return parts.length === 3 && isValidUser(parts[1]) && isValidUser(parts[2]) && parts[1] < parts[2];
  }
  return ROOM_RE.test(room);
}

/** The direct-message room of two different users: `dm:<a>:<b>` with the names sorted. */
export function dmRoom(a: string, b: string): string {
  if (a === b) throw new Error('a direct message needs two different users');
  const [x, y] = a < b ? [a, b] : [b, a];
  return `dm:${x}:${y}`;
}

/** The other user of a DM room, or null when `room` is not a DM of `me`. */
export function dmPeer(room: string, me: string): string | null {
  if (!isDmRoom(room)) return null;
  const [, a, b] = room.split(':');
  if (a === me) return b ?? null;
  if (b === me) return a ?? null;
  return null;
}

/** What a person types as a room or user name, in the form the server accepts ("#My Room" → "my-room"). */
export function normalizeName(input: string): string {
  return input.trim().replace(/^[#@]/, '').toLowerCase().replace(/\s+/g, '-');
}

/** Parses one text frame; null when it is not a JSON object with a string `type`. */
export function parseFrame(data: unknown): ServerFrame | null {
  if (typeof data !== 'string') return null;
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return null;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  if (typeof (value as { type?: unknown }).type !== 'string') return null;
  return value as ServerFrame;
}

/** A message id for `send`; unique enough and usable outside secure contexts too. */
export function newMessageId(random: () => number = Math.random): string {
  const c = (globalThis as { crypto?: Crypto }).crypto;
  if (c && typeof c.randomUUID === 'function') {
    try {
      return c.randomUUID();
    } catch {
      // not a secure context: fall through
    }
  }
  let s = 'm-';
  for (let i = 0; i < 24; i++) s += Math.floor(random() * 36).toString(36);
  return s;
}
