/* eslint-disable @typescript-eslint/no-explicit-any */
// The chat client: one WebSocket to a node, reconnect with back-off, resume with `since`, requests
// by `ref`, optimistic sends retried with the same `id`, presence, typing and unread counts.
// No DOM: the view subscribes to changes; tests drive it with a fake socket and fake timers.

import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff';
import {
  dmRoom,
  isDmRoom,
  isValidRoom,
  newMessageId,
  parseFrame,
  type ChatMessage,
  type ClientFrame,
  type LoginResult,
  type Member,
  type ServerFrame,
} from './protocol';
import { RoomState } from './room';

export type ConnState = 'idle' | 'connecting' | 'online' | 'reconnecting' | 'offline';

/** The subset of the browser's WebSocket the client uses. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: any) => void) | null;
  onmessage: ((ev: { data: any }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: any) => void) | null;
}

export class LoginError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ChatDeps {
  /** POST /api/login; rejects with LoginError for 4xx answers and any other Error when unreachable. */
  login(user: string, password?: string): Promise<LoginResult>;
  openSocket(token: string): SocketLike;
  now?: () => number;
  random?: () => number;
  backoff?: BackoffOptions;
  /** Attempts after which the banner says "offline" rather than "reconnecting". */
  offlineAfter?: number;
  requestTimeoutMs?: number;
  /** Where the joined rooms of each user are remembered (localStorage in the browser). */
  storage?: Pick<Storage, 'getItem' | 'setItem'>;
}

interface PendingRequest {
  resolve(frame: ServerFrame): void;
  reject(err: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

export class RequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

const OPEN = 1;
const TYPING_SHOW_MS = 4000;
const TYPING_SEND_EVERY_MS = 1500;
const HISTORY_PAGE = 50;

export class ChatClient {
  state: ConnState = 'idle';
  user = '';
  node = '';
  /** Reconnect attempts since the last successful welcome. */
  attempt = 0;
  /** When the next reconnect attempt is due (ms), while reconnecting/offline. */
  nextRetryAt = 0;
  lastError = '';
  /** Set when login itself is refused (the view returns to the sign-in form). */
  authError: LoginError | null = null;
  readonly rooms = new Map<string, RoomState>();
  readonly presence = new Map<string, Member>();
  active: string | null = null;
  version = 0;

  private readonly deps: ChatDeps;
  private token = '';
  private password?: string;
  private tokenSuspect = false;
  private socket: SocketLike | null = null;
  private welcomed = false;
  private stopped = true;
  private refCounter = 0;
  private readonly requests = new Map<string, PendingRequest>();
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private heartbeatTimer: ReturnType<typeof setInterval> | null = null;
  private typingTimer: ReturnType<typeof setTimeout> | null = null;
  private lastFrameAt = 0;
  private heartbeatMs = 15000;
  private readonly lastTypingSent = new Map<string, number>();
  private readonly typingTrailing = new Map<string, ReturnType<typeof setTimeout>>();
  /** Rooms with a `join` in flight on the current socket (a second one would be refused). */
  private readonly joining = new Set<string>();
  private readonly listeners = new Set<() => void>();
  private notifyQueued = false;

  constructor(deps: ChatDeps) {
    this.deps = deps;
  }

  // ---------------------------------------------------------------- public API

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Signs in (or resumes with a stored token) and connects. */
  async start(user: string, opts: { token?: string; password?: string; rooms?: string[] } = {}): Promise<void> {
    this.stopped = false;
    this.user = user;
    this.password = opts.password;
    this.authError = null;
    const rooms = opts.rooms ?? this.loadRooms();
    for (const r of rooms) this.room(r);
    if (this.active === null || !this.rooms.has(this.active)) this.active = rooms[0] ?? null;
    if (opts.token) {
      this.token = opts.token;
    } else {
      await this.login();
    }
    this.connect();
  }

  /** Signs out: closes the socket and stops reconnecting. */
  stop(): void {
    this.stopped = true;
    this.clearTimers();
    const s = this.socket;
    this.socket = null;
    if (s) {
      s.onclose = null;
      s.close(1000, 'signed out');
    }
    this.failRequests('signed out');
    this.state = 'idle';
    this.changed();
  }

  get currentToken(): string {
    return this.token;
  }

  /** Joins (or creates: rooms exist once used) a room and makes it active. */
  open(room: string): void {
    if (!isValidRoom(room)) throw new Error(`not a valid room name: ${room}`);
    const r = this.room(room);
    this.setActive(room);
    this.saveRooms();
    if (this.isOpen() && !r.joined) this.joinRoom(r);
  }

  openDm(peer: string): string {
    const room = dmRoom(this.user, peer);
    this.open(room);
    return room;
  }

  /** Leaves a room and forgets it. */
  close(room: string): void {
    const r = this.rooms.get(room);
    if (!r) return;
    this.rooms.delete(room);
    if (this.active === room) this.active = this.rooms.keys().next().value ?? null;
    this.saveRooms();
    if (this.isOpen() && r.joined) this.request({ type: 'leave', room }).catch(() => undefined);
    this.changed();
  }

  setActive(room: string): void {
    this.active = room;
    const r = this.rooms.get(room);
    if (r) r.unread = 0;
    this.changed();
  }

  /** Sends a message optimistically; returns its id. */
  send(room: string, text: string): string {
    const r = this.room(room);
    const id = newMessageId(this.deps.random);
    r.addOutgoing(id, text, new Date(this.now()).toISOString());
    const trailing = this.typingTrailing.get(room);
    if (trailing) clearTimeout(trailing);
    this.typingTrailing.delete(room);
    this.changed();
    this.transmit(r, id);
    return id;
  }

  /** Sends a failed message again with the same id (the server dedupes it if it had landed). */
  retry(room: string, id: string): void {
    const r = this.rooms.get(room);
    const out = r?.outgoing.get(id);
    if (!r || !out) return;
    out.state = 'pending';
    out.error = undefined;
    this.changed();
    this.transmit(r, id);
  }

  /** Drops a failed message from the view. */
  discard(room: string, id: string): void {
    this.rooms.get(room)?.outgoing.delete(id);
    this.changed();
  }

  /** Loads the previous page of history; resolves when done (no-op when none is left). */
  async loadOlder(room: string): Promise<void> {
    const r = this.rooms.get(room);
    if (!r || !r.hasMore || r.loadingOlder || !r.joined || !r.loadedNewest) return;
    const before = r.oldestSeq();
    if (before === undefined || before <= 1) {
      r.hasMore = false;
      this.changed();
      return;
    }
    r.loadingOlder = true;
    this.changed();
    try {
      const h = await this.request({ type: 'history', room, before, limit: HISTORY_PAGE });
      if (h.type === 'history') r.addHistory(h.messages, h.hasMore, false, this.user);
    } catch {
      // leave hasMore as it is: the next scroll tries again
    } finally {
      r.loadingOlder = false;
      this.changed();
    }
  }

  /**
   * Tells the room we are typing: at most one frame per TYPING_SEND_EVERY_MS (the node drops more
   * than one a second), with a trailing frame so typing right after a send is still announced.
   */
  typing(room: string): void {
    const r = this.rooms.get(room);
    if (!r || !r.joined || !this.isOpen()) return;
    const now = this.now();
    const wait = (this.lastTypingSent.get(room) ?? -Infinity) + TYPING_SEND_EVERY_MS - now;
    if (wait <= 0) {
      this.lastTypingSent.set(room, now);
      this.sendFrame({ type: 'typing', room });
      return;
    }
    if (this.typingTrailing.has(room)) return;
    this.typingTrailing.set(
      room,
      setTimeout(() => {
        this.typingTrailing.delete(room);
        this.typing(room);
      }, wait),
    );
  }

  /** Reconnects now instead of waiting for the back-off. */
  retryNow(): void {
    if (this.stopped || this.isOpen() || this.state === 'connecting') return;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    void this.reconnect();
  }

  /** The browser says the network is gone. */
  networkLost(): void {
    if (this.stopped) return;
    if (this.state !== 'online') {
      this.state = 'offline';
      this.changed();
    }
  }

  membersOf(room: string): Member[] {
    const r = this.rooms.get(room);
    if (!r) return [];
    const names = new Set(r.members);
    names.add(this.user);
    const peer = isDmRoom(room) ? room.split(':').find((u, i) => i > 0 && u !== this.user) : undefined;
    if (peer) names.add(peer);
    return [...names]
      .map((user) => this.presence.get(user) ?? { user, status: user === this.user && this.isOpen() ? 'online' : 'offline' })
      .sort((a, b) => (a.status === b.status ? a.user.localeCompare(b.user) : a.status === 'online' ? -1 : 1));
  }

  isOpen(): boolean {
    return this.socket !== null && this.welcomed && this.socket.readyState === OPEN;
  }

  // ---------------------------------------------------------------- connection

  private async login(): Promise<void> {
    const res = await this.deps.login(this.user, this.password);
    this.token = res.token;
    this.user = res.user;
    this.tokenSuspect = false;
  }

  private connect(): void {
    if (this.stopped) return;
    this.state = this.attempt === 0 && this.state !== 'reconnecting' && this.state !== 'offline' ? 'connecting' : this.state;
    this.welcomed = false;
    this.changed();
    let s: SocketLike;
    try {
      s = this.deps.openSocket(this.token);
    } catch (e) {
      this.lastError = String(e);
      this.scheduleReconnect();
      return;
    }
    this.socket = s;
    s.onmessage = (ev) => {
      if (this.socket !== s) return;
      this.lastFrameAt = this.now();
      const frame = parseFrame(ev.data);
      if (frame) this.onFrame(frame);
    };
    s.onclose = (ev) => {
      if (this.socket !== s) return;
      this.lastError = ev.reason || (ev.code ? `closed (${ev.code})` : 'closed');
      this.onDisconnect();
    };
    s.onerror = () => undefined; // onclose follows
  }

  private onDisconnect(): void {
    if (!this.welcomed) this.tokenSuspect = true; // maybe a token the node no longer accepts
    this.socket = null;
    this.welcomed = false;
    this.stopHeartbeat();
    this.failRequests('disconnected');
    this.joining.clear();
    for (const r of this.rooms.values()) {
      r.joined = false;
      r.typing.clear();
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    this.attempt++;
    const delay = backoffDelay(this.attempt, this.deps.random, this.deps.backoff ?? DEFAULT_BACKOFF);
    this.nextRetryAt = this.now() + delay;
    this.state = this.attempt > (this.deps.offlineAfter ?? 4) ? 'offline' : 'reconnecting';
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.reconnect();
    }, delay);
    this.changed();
  }

  private async reconnect(): Promise<void> {
    if (this.stopped) return;
    if (this.tokenSuspect) {
      try {
        await this.login();
      } catch (e) {
        if (e instanceof LoginError) {
          // the node refuses this user now (e.g. a password was set): back to the sign-in form
          this.authError = e;
          this.stop();
          return;
        }
        this.lastError = e instanceof Error ? e.message : String(e);
        this.scheduleReconnect();
        return;
      }
    }
    this.connect();
  }

  private onFrame(f: ServerFrame): void {
    if ('ref' in f && f.ref !== undefined && this.requests.has(f.ref)) {
      const p = this.requests.get(f.ref)!;
      this.requests.delete(f.ref);
      clearTimeout(p.timer);
      if (f.type === 'error') p.reject(new RequestError(f.code, f.message ?? f.code, f.retryAfterMs));
      else p.resolve(f);
      // replies also carry state (joined, ack, history): handled by the awaiting code
      return;
    }
    switch (f.type) {
      case 'welcome':
        this.onWelcome(f);
        break;
      case 'message':
        this.onMessage(f);
        break;
      case 'typing': {
        const r = this.rooms.get(f.room);
        if (r && f.user !== this.user) {
          r.typing.set(f.user, this.now() + TYPING_SHOW_MS);
          this.addMember(r, f.user);
          this.scheduleTypingExpiry();
          this.changed();
        }
        break;
      }
      case 'presence':
        if (f.user && f.status) {
          this.presence.set(f.user, { user: f.user, status: f.status, lastSeen: f.lastSeen });
          this.changed();
        }
        break;
      case 'synced':
        this.changed();
        break;
      default:
        break;
    }
  }

  private onWelcome(f: Extract<ServerFrame, { type: 'welcome' }>): void {
    this.welcomed = true;
    this.tokenSuspect = false;
    this.attempt = 0;
    this.nextRetryAt = 0;
    this.lastError = '';
    this.state = 'online';
    this.node = f.node;
    this.user = f.user;
    this.heartbeatMs = f.heartbeatMs > 0 ? f.heartbeatMs : 15000;
    this.presence.set(this.user, { user: this.user, status: 'online' });
    this.startHeartbeat();
    for (const r of this.rooms.values()) this.joinRoom(r);
    this.changed();
  }

  private onMessage(m: ChatMessage): void {
    const r = this.rooms.get(m.room);
    if (!r) return;
    const isNew = r.addStreamed(m, this.user);
    r.typing.delete(m.from);
    this.addMember(r, m.from);
    if (isNew && m.from !== this.user && this.active !== m.room) r.unread++;
    this.changed();
  }

  private async joinRoom(r: RoomState): Promise<void> {
    if (this.joining.has(r.name)) return;
    const since = r.loadedNewest ? r.streamSeq : undefined;
    let joined: ServerFrame;
    this.joining.add(r.name);
    try {
      joined = await this.request(since === undefined ? { type: 'join', room: r.name } : { type: 'join', room: r.name, since });
    } catch (e) {
      this.joining.delete(r.name);
      if (e instanceof RequestError) {
        if (e.code === 'invalid' && since !== undefined) {
          // the node does not know our resume point (its history was reset): start over
          r.reset();
          if (this.isOpen()) void this.joinRoom(r);
          return;
        }
        r.error = e.message;
        this.changed();
      }
      return;
    }
    this.joining.delete(r.name);
    if (joined.type !== 'joined' || this.rooms.get(r.name) !== r) return;
    r.joined = true;
    r.error = undefined;
    for (const m of joined.members ?? []) {
      r.members.add(m.user);
      if (m.user !== this.user) this.presence.set(m.user, m);
    }
    this.changed();
    if (!r.loadedNewest) {
      try {
        const h = await this.request({ type: 'history', room: r.name, limit: HISTORY_PAGE });
        if (h.type === 'history') r.addHistory(h.messages, h.hasMore, true, this.user);
      } catch {
        // a later reconnect loads it
      }
      this.changed();
    }
    for (const out of r.outgoing.values()) if (out.state === 'pending') this.transmit(r, out.id);
  }

  private transmit(r: RoomState, id: string): void {
    const out = r.outgoing.get(id);
    if (!out || !this.isOpen() || !r.joined) return; // sent on (re)join
    out.attempts++;
    this.request({ type: 'send', room: r.name, id, text: out.text })
      .then((f) => {
        if (f.type === 'ack') {
          r.ack(f.id, f.seq, f.ts, this.user);
          this.changed();
        }
      })
      .catch((e: unknown) => {
        if (!r.outgoing.has(id)) return;
        if (e instanceof RequestError) {
          if (e.code === 'unavailable' && out.attempts < 5) {
            setTimeout(() => this.transmit(r, id), 1000 * out.attempts);
            return;
          }
          r.fail(id, e.code === 'rate_limited' ? 'sending too fast' : e.message);
        } else if (this.isOpen()) {
          r.fail(id, 'no answer');
        }
        // disconnected: stays pending and is sent again after the rejoin
        this.changed();
      });
  }

  private request(frame: ClientFrame): Promise<ServerFrame> {
    return new Promise((resolve, reject) => {
      if (!this.socket || this.socket.readyState !== OPEN) {
        reject(new Error('not connected'));
        return;
      }
      const ref = String(++this.refCounter);
      const timer = setTimeout(() => {
        this.requests.delete(ref);
        reject(new Error('timed out'));
      }, this.deps.requestTimeoutMs ?? 15000);
      this.requests.set(ref, { resolve, reject, timer });
      this.sendFrame({ ...frame, ref } as ClientFrame);
    });
  }

  private sendFrame(frame: ClientFrame): void {
    try {
      this.socket?.send(JSON.stringify(frame));
    } catch {
      // the close handler takes over
    }
  }

  private failRequests(reason: string): void {
    for (const [, p] of this.requests) {
      clearTimeout(p.timer);
      p.reject(new Error(reason));
    }
    this.requests.clear();
  }

  private startHeartbeat(): void {
    this.stopHeartbeat();
    this.lastFrameAt = this.now();
    this.heartbeatTimer = setInterval(() => {
      const s = this.socket;
      if (!s) return;
      if (this.now() - this.lastFrameAt > 2 * this.heartbeatMs) {
        // the node went silent (half-open connection): give up on this socket
        this.socket = null;
        s.onclose = null;
        try {
          s.close(4000, 'heartbeat timeout');
        } catch {
          // ignore
        }
        this.lastError = 'no answer from the server';
        this.onDisconnect();
        return;
      }
      this.sendFrame({ type: 'ping' });
    }, Math.max(1000, Math.floor(this.heartbeatMs / 2)));
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  private scheduleTypingExpiry(): void {
    if (this.typingTimer) return;
    this.typingTimer = setTimeout(() => {
      this.typingTimer = null;
      const now = this.now();
      let left = false;
      for (const r of this.rooms.values()) {
        for (const [u, until] of r.typing) if (until <= now) r.typing.delete(u);
        if (r.typing.size > 0) left = true;
      }
      this.changed();
      if (left) this.scheduleTypingExpiry();
    }, 1000);
  }

  private clearTimers(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    if (this.typingTimer) clearTimeout(this.typingTimer);
    this.typingTimer = null;
    for (const t of this.typingTrailing.values()) clearTimeout(t);
    this.typingTrailing.clear();
    this.stopHeartbeat();
  }

  // ---------------------------------------------------------------- state helpers

  private room(name: string): RoomState {
    let r = this.rooms.get(name);
    if (!r) {
      r = new RoomState(name);
      this.rooms.set(name, r);
    }
    return r;
  }

  private addMember(r: RoomState, user: string): void {
    if (r.members.has(user)) return;
    r.members.add(user);
    if (!this.presence.has(user)) this.presence.set(user, { user, status: 'online' });
  }

  private loadRooms(): string[] {
    try {
      const raw = this.deps.storage?.getItem(`pulse.rooms.${this.user}`);
      const list = raw ? (JSON.parse(raw) as unknown) : null;
      if (Array.isArray(list)) {
        const rooms = list.filter((x): x is string => typeof x === 'string' && isValidRoom(x));
        if (rooms.length > 0) return rooms;
      }
    } catch {
      // ignore broken storage
    }
    return ['general'];
  }

  private saveRooms(): void {
    try {
      this.deps.storage?.setItem(`pulse.rooms.${this.user}`, JSON.stringify([...this.rooms.keys()]));
    } catch {
      // storage full or disabled
    }
  }

  private now(): number {
    return this.deps.now ? this.deps.now() : Date.now();
  }

  private changed(): void {
    this.version++;
    if (this.notifyQueued) return;
    this.notifyQueued = true;
    queueMicrotask(() => {
      this.notifyQueued = false;
      for (const fn of this.listeners) fn();
    });
  }
}
