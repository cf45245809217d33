// The chat client the view uses: a thin facade over one Connection (socket, heartbeat, reconnect,
// login), Requests (replies by `ref`) and a RoomChannel per room (join/resume, history, sends).
// It keeps what spans rooms: the active room, unread counts, presence and typing expiry.
// No DOM: the view subscribes to changes; tests drive it with a fake socket and fake timers.

import { RoomChannel } from './channel';
import { Connection, type ConnectionDeps, type ConnState, type WelcomeFrame } from './connection';
import {
  dmPeer,
  dmRoom,
  isDmRoom,
  isValidRoom,
  newMessageId,
  type ChatMessage,
  type DirectoryEntry,
  type Member,
  type RoomEntry,
  type SearchResult,
  type ServerFrame,
} from './protocol';
import { Requests } from './requests';
import { asMessage, type RoomState } from './room';

export { LoginError, type ConnState, type SocketLike } from './connection';
export { RequestError } from './requests';

export interface ChatDeps extends ConnectionDeps {
  requestTimeoutMs?: number;
  /** Where the joined rooms of each user are cached (localStorage in the browser); the server's list wins. */
  storage?: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
  /** Whether the person can see the page now (the tab is visible): only then does reading move the marker. */
  visible?: () => boolean;
  /** A DM or a mention arrived while the page is hidden (a desktop notification in the browser). */
  notify?: (title: string, body: string, room: string) => void;
}

/** A member as the view shows them: while this page is disconnected, others' presence is unknown. */
export interface ShownMember {
  user: string;
  status: Member['status'] | 'unknown';
  lastSeen?: string;
}

const TYPING_SHOW_MS = 4000;
/** Read markers go out at most this often per room while messages stream in. */
const READ_DEBOUNCE_MS = 1000;
/** How many older pages a search result's room loads at most to show the result. */
const REVEAL_PAGES = 20;

/** Names as people read them: digits as numbers, so u2 comes before u10. */
const NATURAL = new Intl.Collator('en', { numeric: true });

export class ChatClient {
  readonly presence = new Map<string, Member>();
  active: string | null = null;
  /** Version 1.1: the own message being edited in place, if any. */
  editing: { room: string; seq: number } | null = null;
  /** A message to bring into view and mark (a search result), once it is loaded. */
  highlight: { room: string; seq: number } | null = null;
  version = 0;

  private readonly deps: ChatDeps;
  private readonly conn: Connection;
  private readonly requests: Requests;
  private readonly channels = new Map<string, RoomChannel>();
  private typingTimer: ReturnType<typeof setTimeout> | null = null;
  /** The rooms the server listed last (version 1.1): a room that leaves this list was left on another device. */
  private serverRooms = new Set<string>();
  /** Whether a `rooms` frame came since the last welcome. */
  private roomsListed = false;
  /** What the user was typing in each room, kept while they look at another one. */
  private readonly drafts = new Map<string, string>();
  /** Every room a server list has named in this page's life, and the rooms opened here since the last welcome. */
  private readonly everListed = new Set<string>();
  /**
   * Rooms shown from this browser's cache until the server's first list: joined only if it lists
   * them (a room left on another device while this page was closed must not be joined back).
   */
  private readonly cachedOnly = new Set<string>();
  private readonly openedSinceWelcome = new Set<string>();
  /** The highest read marker sent (or heard of) per room, and rooms whose marker is due. */
  private readonly readSent = new Map<string, number>();
  private readonly readDue = new Set<string>();
  private readTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly listeners = new Set<() => void>();
  private notifyQueued = false;

  constructor(deps: ChatDeps) {
    this.deps = deps;
    this.conn = new Connection(deps, {
      welcomed: (f) => this.onWelcome(f),
      frame: (f) => this.onFrame(f),
      closed: (reason) => this.onClosed(reason),
      changed: () => this.changed(),
    });
    this.requests = new Requests(this.conn, deps.requestTimeoutMs);
  }

  // ---------------------------------------------------------------- connection state, for the view

  get state(): ConnState {
    return this.conn.state;
  }

  get user(): string {
    return this.conn.user;
  }

  get node(): string {
    return this.conn.node;
  }

  /** Reconnect attempts since the last successful welcome. */
  get attempt(): number {
    return this.conn.attempt;
  }

  /** When the next reconnect attempt is due (ms), while reconnecting/offline. */
  get nextRetryAt(): number {
    return this.conn.nextRetryAt;
  }

  get lastError(): string {
    return this.conn.lastError;
  }

  /** Set when login itself is refused (the view returns to the sign-in form). */
  get authError() {
    return this.conn.authError;
  }

  get currentToken(): string {
    return this.conn.currentToken;
  }

  /** The rooms shown, in the order they were opened. */
  get rooms(): ReadonlyMap<string, RoomState> {
    return new Map([...this.channels].map(([name, ch]) => [name, ch.state]));
  }

  isOpen(): boolean {
    return this.conn.isOpen();
  }

  // ---------------------------------------------------------------- public API

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Signs in (or resumes with a stored token) and connects. */
  async start(
    user: string,
    opts: { token?: string; password?: string; register?: boolean; rooms?: string[] } = {},
  ): Promise<void> {
    // Another user in this tab (e.g. after the node refused the previous one) starts clean.
    if (this.user !== '' && this.user !== user) this.forget();
    const rooms = opts.rooms ?? this.loadRooms(user);
    for (const r of rooms) this.channel(r);
    if (opts.rooms === undefined) for (const r of rooms) this.cachedOnly.add(r);
    if (this.active === null || !this.channels.has(this.active)) this.active = rooms[0] ?? null;
    await this.conn.start(user, opts);
  }

  /**
   * Signs out: closes the socket, stops reconnecting, and forgets everything of the user in this
   * page (rooms and their messages, pending sends and requests, presence, typing, the active room,
   * unread counts, the stored room list and session), so that the next user of the tab starts clean.
   */
  signOut(): void {
    const user = this.user;
    this.conn.signOut(); // fails the requests in flight
    this.forget();
    try {
      if (user) this.deps.storage?.removeItem(`pulse.rooms.${user}`);
    } catch {
      // storage disabled
    }
  }

  /** Joins (or creates: rooms exist once used) a room and makes it active. */
  open(room: string): void {
    if (!isValidRoom(room)) throw new Error(`not a valid room name: ${room}`);
    this.openedSinceWelcome.add(room);
    this.cachedOnly.delete(room);
    const ch = this.channel(room);
    this.setActive(room);
    this.saveRooms();
    if (this.isOpen() && !ch.state.joined) void ch.join();
  }

  openDm(peer: string): string {
    const room = dmRoom(this.user, peer);
    this.open(room);
    return room;
  }

  /** Leaves a room and forgets it. */
  close(room: string): void {
    const ch = this.channels.get(room);
    if (!ch) return;
    this.channels.delete(room);
    this.forgetMarker(room);
    if (this.active === room) this.active = this.channels.keys().next().value ?? null;
    this.saveRooms();
    ch.leave();
    this.changed();
  }

  setActive(room: string): void {
    const switched = this.active !== room;
    this.active = room;
    if (switched) {
      this.highlight = null;
      this.editing = null;
    }
    const ch = this.channels.get(room);
    if (ch) {
      if (switched) ch.state.dividerAfter = ch.state.lastRead;
      ch.state.unread = 0;
      ch.state.mentions = 0;
      this.markRead(room);
    }
    this.changed();
  }

  /** The unsent text of `room`'s composer ('' when none). */
  draftOf(room: string): string {
    return this.drafts.get(room) ?? '';
  }

  setDraft(room: string, text: string): void {
    if (text === '') this.drafts.delete(room);
    else this.drafts.set(room, text);
  }

  /** The newest own message of `room` that can still be edited (confirmed, not deleted). */
  lastOwnMessage(room: string): number | undefined {
    const r = this.rooms.get(room);
    if (!r) return undefined;
    const own = r.messages(this.user).filter((m) => m.seq !== undefined && m.from === this.user && !m.deleted);
    return own.at(-1)?.seq;
  }

  startEditing(room: string, seq: number): void {
    this.editing = { room, seq };
    this.changed();
  }

  stopEditing(): void {
    this.editing = null;
    this.changed();
  }

  /**
   * Opens `room` at message `seq` (a search result): loads older pages until it is there (at most
   * REVEAL_PAGES of them), then marks it for the view to scroll to. False when it is older than that.
   */
  async reveal(room: string, seq: number): Promise<boolean> {
    this.setActive(room);
    const r = this.rooms.get(room);
    if (!r) return false;
    for (let pages = 0; !r.has(seq) && pages < REVEAL_PAGES; pages++) {
      if (r.loadedNewest && !r.hasMore) break;
      await (r.loadedNewest ? this.loadOlder(room) : this.channel(room).ready());
    }
    if (!r.has(seq)) return false;
    this.highlight = { room, seq };
    this.changed();
    return true;
  }

  /** The page became visible again: what the active room shows now counts as read. */
  pageShown(): void {
    if (this.active) this.setActive(this.active);
  }

  /** Public rooms whose name contains `query`, most members first (version 1.1 directory). */
  async browse(query: string, limit = 50): Promise<DirectoryEntry[]> {
    const reply = await this.requests.request({ type: 'directory', query, limit });
    return reply.type === 'directory' ? reply.rooms : [];
  }

  /** Version 1.1: messages whose current text has every word of `query`, newest first; in `room`, or in all of the user's. */
  async search(query: string, room?: string, limit = 20): Promise<SearchResult[]> {
    const reply = await this.requests.request({ type: 'search', query, ...(room ? { room } : {}), limit });
    return reply.type === 'search' ? reply.results : [];
  }

  /**
   * Version 1.1: replaces the text of one's own message `seq`. Resolves once the server committed it
   * (the room's `edited` event updates the view); rejects with the server's error.
   */
  async edit(room: string, seq: number, text: string): Promise<void> {
    await this.requests.request({ type: 'edit', room, target: seq, id: newMessageId(this.deps.random), text });
  }

  /** Version 1.1: deletes one's own message `seq`. */
  async deleteMessage(room: string, seq: number): Promise<void> {
    await this.requests.request({ type: 'delete', room, target: seq });
  }

  /** Version 1.1: sets (`on`) or removes one's reaction `emoji` to message `seq`. */
  async react(room: string, seq: number, emoji: string, on: boolean): Promise<void> {
    await this.requests.request({ type: 'react', room, target: seq, emoji, on });
  }

  /** Sends a message optimistically; returns its id. */
  send(room: string, text: string): string {
    const id = newMessageId(this.deps.random);
    this.channel(room).send(id, text);
    return id;
  }

  /** Sends a failed message again with the same id (the server dedupes it if it had landed). */
  retry(room: string, id: string): void {
    this.channels.get(room)?.retry(id);
  }

  /** Drops a failed message from the view. */
  discard(room: string, id: string): void {
    this.channels.get(room)?.discard(id);
  }

  /** Loads the previous page of history; resolves when done (no-op when none is left). */
  async loadOlder(room: string): Promise<void> {
    await this.channels.get(room)?.loadOlder();
  }

  /** Tells the room we are typing (throttled by the channel). */
  typing(room: string): void {
    this.channels.get(room)?.typing();
  }

  /** Reconnects now instead of waiting for the back-off. */
  retryNow(): void {
    this.conn.retryNow();
  }

  /** The browser says the network is gone: the socket is given up and reconnecting waits for networkBack(). */
  networkLost(): void {
    this.conn.networkLost();
  }

  /** The browser says the network is back: reconnect now (pending sends go out after the rejoin). */
  networkBack(): void {
    this.conn.networkBack();
  }

  /** Reconnecting waits for the browser to be online again. */
  get waitingForNetwork(): boolean {
    return this.conn.waitingForNetwork;
  }

  /**
   * The room's members with their presence, online first. While disconnected nobody's presence is
   * known (the last word may be minutes old): the others are 'unknown' and the user is offline.
   */
  membersOf(room: string): ShownMember[] {
    const r = this.channels.get(room)?.state;
    if (!r) return [];
    const names = new Set(r.members);
    names.add(this.user);
    const peer = isDmRoom(room) ? room.split(':').find((u, i) => i > 0 && u !== this.user) : undefined;
    if (peer) names.add(peer);
    const open = this.isOpen();
    const rank = (m: ShownMember) => (m.status === 'online' ? 0 : m.status === 'unknown' ? 1 : 2);
    return [...names]
      .map((user): ShownMember => {
        if (user === this.user) return { user, status: open ? 'online' : 'offline' };
        const known = this.presence.get(user);
        if (!open) return { user, status: 'unknown', lastSeen: known?.lastSeen };
        return known ?? { user, status: 'offline' };
      })
      // online first, then names in natural order (u2 before u10)
      .sort((a, b) => rank(a) - rank(b) || NATURAL.compare(a.user, b.user));
  }

  // ---------------------------------------------------------------- connection events

  private onWelcome(_f: WelcomeFrame): void {
    this.presence.set(this.user, { user: this.user, status: 'online' });
    this.serverRooms = new Set();
    this.roomsListed = false;
    this.openedSinceWelcome.clear();
    for (const ch of this.channels.values()) if (!this.cachedOnly.has(ch.name)) void ch.join();
    if (this.readDue.size > 0) this.scheduleReads();
    this.changed();
  }

  private onClosed(reason: string): void {
    this.requests.failAll(reason);
    for (const ch of this.channels.values()) ch.disconnected();
  }

  private onFrame(f: ServerFrame): void {
    // replies also carry state (joined, ack, history): handled by the awaiting code
    if (this.requests.settle(f)) return;
    switch (f.type) {
      case 'message': {
        const ch = this.channels.get(f.room);
        if (!ch) return;
        const m = asMessage(f);
        const isNew = ch.received(m);
        if (isNew) this.counted(ch.state, m);
        this.changed();
        break;
      }
      case 'edited':
      case 'deleted':
      case 'reacted': {
        const ch = this.channels.get(f.room);
        if (ch?.state.applyChange(f)) this.changed();
        break;
      }
      case 'rooms':
        this.onRooms(f.rooms);
        break;
      case 'read':
        this.onRead(f.room, f.seq);
        break;
      case 'typing': {
        const ch = this.channels.get(f.room);
        if (ch && f.user !== this.user) {
          ch.typingSeen(f.user, this.now() + TYPING_SHOW_MS);
          this.scheduleTypingExpiry();
          this.changed();
        }
        break;
      }
      case 'member': {
        // version 1.1: someone joined the room (their first session there) or left it
        const ch = this.channels.get(f.room);
        if (!ch || f.user === this.user) break;
        if (f.event === 'joined') {
          ch.state.members.add(f.user);
          this.presence.set(f.user, { user: f.user, status: 'online' });
        } else if (f.event === 'left') {
          ch.state.members.delete(f.user);
        }
        this.changed();
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

  // ---------------------------------------------------------------- the user's rooms (version 1.1)

  /**
   * The server's list of the user's rooms: rooms it lists that this page lacks are opened (a DM that
   * just arrived, a room joined on another device) with the server's counts; a room that was listed
   * before and is not any more was left on another device and goes. Rooms this page opened that the
   * server does not list yet are kept: their join is on its way.
   */
  private onRooms(entries: RoomEntry[]): void {
    const listed = new Set(entries.map((e) => e.room));
    const first = !this.roomsListed;
    this.roomsListed = true;
    for (const room of [...this.channels.keys()]) {
      if (listed.has(room)) continue;
      if (this.serverRooms.has(room)) {
        this.dropChannel(room); // left on another device
      } else if (first && this.everListed.has(room) && !this.openedSinceWelcome.has(room)) {
        // Left on another device while this page was away: our automatic rejoin put it back; undo that.
        this.channels.get(room)?.leave();
        this.dropChannel(room);
      }
    }
    for (const room of this.cachedOnly) {
      if (listed.has(room)) {
        const ch = this.channels.get(room);
        if (ch && !ch.state.joined && this.isOpen()) void ch.join();
      } else {
        this.dropChannel(room); // left on another device while this page was closed
      }
    }
    this.cachedOnly.clear();
    this.serverRooms = listed;
    for (const room of listed) this.everListed.add(room);
    if (first && entries.length === 0 && this.channels.size === 0) {
      this.open('general'); // a user with no rooms anywhere starts where everyone is
      return;
    }
    for (const e of entries) {
      if (!isValidRoom(e.room)) continue;
      const isNewHere = !this.channels.has(e.room);
      const ch = this.channel(e.room);
      this.applyEntry(ch.state, e, isNewHere);
      if (isNewHere && this.isOpen()) void ch.join();
    }
    if (this.active === null) this.active = this.channels.keys().next().value ?? null;
    this.saveRooms();
    this.changed();
  }

  /**
   * The server's counts for a room, as of its `lastSeq` then. Messages this page has seen beyond that
   * are added (the frame may have been composed before them), a marker this page knows to be newer
   * wins, and later messages up to that `lastSeq` (a replay after a reconnect) are not counted again.
   */
  private applyEntry(r: RoomState, e: RoomEntry, isNewHere: boolean): void {
    this.readSent.set(e.room, e.lastRead);
    const lastRead = Math.max(r.lastRead, e.lastRead);
    r.lastRead = lastRead;
    r.listedSeq = Math.max(r.listedSeq, e.lastSeq);
    if (this.active === e.room) {
      r.unread = 0;
      r.mentions = 0;
      return;
    }
    const newer = r.fromOthersAfter(Math.max(e.lastSeq, lastRead), this.user);
    const stale = lastRead > e.lastRead;
    r.unread = (stale ? Math.max(0, e.lastSeq - lastRead) : (e.unread ?? 0)) + newer.length;
    r.mentions = (stale ? 0 : (e.mentions ?? 0)) + newer.filter((m) => (m.mentions ?? []).includes(this.user)).length;
    if (isNewHere) {
      r.dividerAfter = e.lastRead;
      const peer = dmPeer(e.room, this.user);
      if (peer !== null && r.unread > 0 && !this.visible()) {
        this.deps.notify?.(`Message from ${peer}`, 'A new conversation', e.room);
      }
    }
  }

  /** Another device of the user read `room` up to `seq`. */
  private onRead(room: string, seq: number): void {
    const ch = this.channels.get(room);
    if (!ch) return;
    const r = ch.state;
    if (seq <= r.lastRead) return;
    r.lastRead = seq;
    if ((this.readSent.get(room) ?? 0) < seq) this.readSent.set(room, seq);
    r.unread = this.active === room ? 0 : Math.max(0, r.streamSeq - seq);
    if (seq >= r.streamSeq) r.mentions = 0;
    this.changed();
  }

  /**
   * A new message: read at once when it is being looked at; else it counts for the badges (and the
   * title), and a DM or a mention notifies while the page is hidden.
   */
  private counted(r: RoomState, m: ChatMessage): void {
    if (this.active === m.room && this.visible()) {
      this.markRead(m.room);
      return;
    }
    if (m.from === this.user || m.seq <= r.listedSeq) return; // a replay the server's count covers

    const mentionsMe = (m.mentions ?? []).includes(this.user);
    r.unread++;
    if (mentionsMe) r.mentions++;
    if (!this.visible() && (mentionsMe || dmPeer(m.room, this.user) !== null)) {
      this.deps.notify?.(mentionsMe ? `${m.from} mentioned you` : `Message from ${m.from}`, m.text, m.room);
    }
  }

  /**
   * The newest page loaded after a join: what it holds beyond the server's count (`listedSeq`, e.g.
   * a DM's second message written while its first was being listed) is unread like a live message.
   * Only once the server has listed the rooms: before that there is no count to go beyond.
   */
  private caughtUp(room: string, messages: ChatMessage[]): void {
    const r = this.channels.get(room)?.state;
    if (!r || !this.roomsListed) return;
    for (const m of messages) if (m.seq > r.lastRead) this.counted(r, m);
  }

  /** Sends the room's read marker (its newest message) soon, at most once per READ_DEBOUNCE_MS. */
  private markRead(room: string): void {
    this.readDue.add(room);
    this.scheduleReads();
  }

  private scheduleReads(): void {
    if (this.readTimer) return;
    this.readTimer = setTimeout(() => {
      this.readTimer = null;
      if (!this.isOpen()) return; // still due: sent after the next welcome
      for (const due of this.readDue) {
        const r = this.channels.get(due)?.state;
        if (!r) continue;
        const seq = r.streamSeq;
        if (seq <= (this.readSent.get(due) ?? 0)) continue;
        this.readSent.set(due, seq);
        r.lastRead = Math.max(r.lastRead, seq);
        // a room not in the user's list yet (its join is on its way) answers not_found: nothing to do
        this.requests.request({ type: 'read', room: due, seq }).catch(() => this.readSent.delete(due));
      }
      this.readDue.clear();
    }, READ_DEBOUNCE_MS);
  }

  private visible(): boolean {
    return this.deps.visible ? this.deps.visible() : true;
  }

  /** A room left starts again from 0 on the server: so does what this page sent of it. */
  private forgetMarker(room: string): void {
    this.readSent.delete(room);
    this.readDue.delete(room);
  }

  /** Forgets a room left on another device (no leave: the server has left it already). */
  private dropChannel(room: string): void {
    const ch = this.channels.get(room);
    if (!ch) return;
    this.channels.delete(room);
    this.forgetMarker(room);
    ch.close();
    if (this.active === room) this.active = this.channels.keys().next().value ?? null;
  }

  // ---------------------------------------------------------------- rooms

  /** Drops all state of the current user from memory; their channels send nothing any more. */
  private forget(): void {
    if (this.typingTimer) clearTimeout(this.typingTimer);
    this.typingTimer = null;
    if (this.readTimer) clearTimeout(this.readTimer);
    this.readTimer = null;
    this.readDue.clear();
    this.readSent.clear();
    this.everListed.clear();
    this.cachedOnly.clear();
    this.openedSinceWelcome.clear();
    this.drafts.clear();
    this.editing = null;
    this.highlight = null;
    this.serverRooms = new Set();
    for (const ch of this.channels.values()) ch.close();
    this.channels.clear();
    this.presence.clear();
    this.active = null;
    this.changed();
  }

  private channel(name: string): RoomChannel {
    let ch = this.channels.get(name);
    if (!ch) {
      ch = new RoomChannel(name, {
        user: () => this.user,
        isOpen: () => this.isOpen(),
        request: (frame) => this.requests.request(frame),
        push: (frame) => this.conn.send(frame),
        now: () => this.now(),
        changed: () => this.changed(),
        memberListed: (m) => this.presence.set(m.user, m),
        memberSeen: (user) => {
          if (!this.presence.has(user)) this.presence.set(user, { user, status: 'online' });
        },
        // the server counts the user's own messages after the marker as unread: move it past them
        acked: () => {
          if (this.active === name) this.markRead(name);
        },
        caughtUp: (messages) => this.caughtUp(name, messages),
      });
      this.channels.set(name, ch);
    }
    return ch;
  }

  private scheduleTypingExpiry(): void {
    if (this.typingTimer) return;
    this.typingTimer = setTimeout(() => {
      this.typingTimer = null;
      const now = this.now();
      let left = false;
      for (const ch of this.channels.values()) {
        const typing = ch.state.typing;
        for (const [u, until] of typing) if (until <= now) typing.delete(u);
        if (typing.size > 0) left = true;
      }
      this.changed();
      if (left) this.scheduleTypingExpiry();
    }, 1000);
  }

  private loadRooms(user: string): string[] {
    try {
      const raw = this.deps.storage?.getItem(`pulse.rooms.${user}`);
      const list = raw ? (JSON.parse(raw) as unknown) : null;
      if (Array.isArray(list)) {
        const rooms = list.filter((x): x is string => typeof x === 'string' && isValidRoom(x));
        if (rooms.length > 0) return rooms;
      }
    } catch {
      // ignore broken storage
    }
    return []; // the server's list comes right after welcome (a brand-new user starts in general)
  }

  private saveRooms(): void {
    try {
      this.deps.storage?.setItem(`pulse.rooms.${this.user}`, JSON.stringify([...this.channels.keys()]));
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
