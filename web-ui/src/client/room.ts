// The client's view of one room: messages keyed by seq (so replays and retries never duplicate),
// own messages still in flight (keyed by their `id`), the resume point, members and typing users.

import type { ChatMessage, MessageFrame, RoomEvent } from './protocol';

export type SendState = 'pending' | 'acked' | 'failed';

/** A message as the view shows it: confirmed (has a seq) or own and not yet confirmed. */
export interface DisplayMessage {
  key: string;
  id: string;
  seq?: number;
  from: string;
  text: string;
  ts: string;
  /** The names the text mentions (from the server's `mentions`). */
  mentions?: string[];
  /** Version 1.1: when the text was last edited. */
  editedAt?: string;
  /** Version 1.1: deleted (its text is gone). */
  deleted?: boolean;
  /** Version 1.1: each emoji with the users who reacted with it. */
  reactions?: Record<string, string[]>;
  /** Own messages only: pending until acked, failed when the server refused it or it timed out. */
  state?: SendState;
  error?: string;
}

export interface Outgoing {
  id: string;
  text: string;
  ts: string;
  state: 'pending' | 'failed';
  error?: string;
  attempts: number;
}

export class RoomState {
  readonly name: string;
  private readonly bySeq = new Map<number, ChatMessage>();
  private readonly ackedIds = new Set<string>();
  /** Seqs of the edits, deletions and reactions applied or loaded, so a replay applies none twice. */
  private readonly changesSeen = new Set<number>();
  /** Own sends not yet confirmed, in the order they were written. */
  readonly outgoing = new Map<string, Outgoing>();
  /**
   * Highest seq received through the room's ordered stream (live `message` frames, the `since`
   * replay, and the newest history page); what a rejoin sends as `since`. Acks do not move it: an
   * ack may overtake earlier messages of other users.
   */
  streamSeq = 0;
  /** True once the newest messages are loaded, so a rejoin can resume with `since`. */
  loadedNewest = false;
  /** Whether older messages than the oldest loaded one exist (unknown = true). */
  hasMore = true;
  loadingOlder = false;
  joined = false;
  /** Members by name (status lives in the client's presence map). */
  readonly members = new Set<string>();
  /** user → time (ms) when their typing indicator expires. */
  readonly typing = new Map<string, number>();
  unread = 0;
  /** Version 1.1: messages after the read marker that mention the user. */
  mentions = 0;
  /** Version 1.1: the user's read marker (on every device). */
  lastRead = 0;
  /** Where the "new messages" divider goes: the read marker when the room was last opened. */
  dividerAfter = 0;
  /** The room's lastSeq as the server's last `rooms` entry counted it: messages up to it are counted there. */
  listedSeq = 0;
  /** When the newest message shown here was written (ms; 0: none yet): the sidebar's "recent activity". */
  lastActivityAt = 0;
  error?: string;

  constructor(name: string) {
    this.name = name;
  }

  get size(): number {
    return this.bySeq.size;
  }

  oldestSeq(): number | undefined {
    let min: number | undefined;
    for (const seq of this.bySeq.keys()) if (min === undefined || seq < min) min = seq;
    return min;
  }

  has(seq: number): boolean {
    return this.bySeq.has(seq);
  }

  /**
   * Adds a message from the room's stream (live or replay). Returns true when it was new.
   * `me` is used to retire the matching own outgoing message.
   */
  addStreamed(m: ChatMessage, me: string): boolean {
    if (m.seq > this.streamSeq) this.streamSeq = m.seq;
    return this.put(m, me);
  }

  /**
   * Version 1.1: applies an edit, deletion or reaction from the room's stream to its message (when
   * loaded; a page loaded later shows the message as it is then). Returns true when it was new.
   */
  applyChange(e: Exclude<RoomEvent, { type: 'message' }>): boolean {
    if (e.seq > this.streamSeq) this.streamSeq = e.seq;
    if (this.changesSeen.has(e.seq)) return false;
    this.changesSeen.add(e.seq);
    const m = this.bySeq.get(e.target);
    if (!m) return true;
    if (e.type === 'edited') {
      if (!m.deleted) this.bySeq.set(m.seq, { ...m, text: e.text ?? '', editedAt: e.ts, mentions: undefined });
    } else if (e.type === 'deleted') {
      this.bySeq.set(m.seq, { ...m, text: '', deleted: true, reactions: undefined, mentions: undefined });
    } else {
      const users = (m.reactions?.[e.emoji] ?? []).filter((u) => u !== e.from);
      if (e.on) users.push(e.from);
      const reactions = { ...m.reactions, [e.emoji]: users };
      if (users.length === 0) delete reactions[e.emoji];
      this.bySeq.set(m.seq, { ...m, reactions });
    }
    return true;
  }

  /** The confirmed message with `seq`, if loaded. */
  message(seq: number): ChatMessage | undefined {
    return this.bySeq.get(seq);
  }

  /**
   * Adds a page of `history`. `newest` = the page was requested without `before`. Its messages are
   * as they are now (version 1.1), so the page's edits, deletions and reactions are only counted as
   * seen.
   */
  addHistory(events: RoomEvent[], hasMore: boolean, newest: boolean, me: string): number {
    let added = 0;
    let max = 0;
    for (const e of events) {
      if (e.type === 'message') {
        const m = asMessage(e);
        if (this.put(m, me)) added++;
        else this.bySeq.set(m.seq, m); // the page shows it as it is now: edited, deleted, reacted to
      } else {
        this.changesSeen.add(e.seq);
      }
      if (e.seq > max) max = e.seq;
    }
    const messages = events;
    if (newest) {
      if (max > this.streamSeq) this.streamSeq = max;
      this.loadedNewest = true;
      // the newest page decides hasMore only if nothing older is loaded yet
      const oldest = this.oldestSeq();
      if (oldest === undefined || messages.length === 0 || oldest >= messages[0].seq) this.hasMore = hasMore;
    } else {
      this.hasMore = hasMore;
    }
    return added;
  }

  /** The server acknowledged one of our sends. */
  ack(id: string, seq: number, ts: string, me: string): void {
    const out = this.outgoing.get(id);
    if (!out) return;
    this.outgoing.delete(id);
    this.put({ room: this.name, seq, id, from: me, text: out.text, ts }, me);
  }

  addOutgoing(id: string, text: string, ts: string): Outgoing {
    const out: Outgoing = { id, text, ts, state: 'pending', attempts: 0 };
    this.outgoing.set(id, out);
    this.touched(ts);
    return out;
  }

  fail(id: string, error: string): void {
    const out = this.outgoing.get(id);
    if (out) {
      out.state = 'failed';
      out.error = error;
    }
  }

  /** Forgets everything loaded (used when the server no longer knows our resume point). */
  reset(): void {
    this.bySeq.clear();
    this.ackedIds.clear();
    this.changesSeen.clear();
    this.streamSeq = 0;
    this.loadedNewest = false;
    this.hasMore = true;
  }

  /** Confirmed messages ascending by seq, then own messages in flight in the order written. */
  messages(me = ''): DisplayMessage[] {
    const confirmed = [...this.bySeq.values()].sort((a, b) => a.seq - b.seq);
    const out: DisplayMessage[] = confirmed.map((m) => ({
      key: `s${m.seq}`,
      id: m.id,
      seq: m.seq,
      from: m.from,
      text: m.text,
      ts: m.ts,
      mentions: m.mentions,
      editedAt: m.editedAt,
      deleted: m.deleted,
      reactions: m.reactions,
      state: this.ackedIds.has(m.id) ? 'acked' : undefined,
    }));
    for (const o of this.outgoing.values()) {
      out.push({ key: `o${o.id}`, id: o.id, from: me, text: o.text, ts: o.ts, state: o.state, error: o.error });
    }
    return out;
  }

  /** Confirmed messages of others after `seq`. */
  fromOthersAfter(seq: number, me: string): ChatMessage[] {
    return [...this.bySeq.values()].filter((m) => m.seq > seq && m.from !== me);
  }

  typingUsers(now: number): string[] {
    const users: string[] = [];
    for (const [user, until] of this.typing) if (until > now) users.push(user);
    return users.sort();
  }

  private put(m: ChatMessage, me: string): boolean {
    if (m.from === me && this.outgoing.has(m.id)) this.outgoing.delete(m.id);
    if (m.from === me) this.ackedIds.add(m.id);
    if (this.bySeq.has(m.seq)) return false;
    this.bySeq.set(m.seq, m);
    this.touched(m.ts);
    return true;
  }

  private touched(ts: string): void {
    const t = Date.parse(ts);
    if (t > this.lastActivityAt) this.lastActivityAt = t;
  }
}

/** A message frame as the room keeps it: a deleted message has the empty text. */
export function asMessage(f: MessageFrame & { type?: string }): ChatMessage {
  const { type: _type, ...m } = f;
  return { ...m, text: f.text ?? '' };
}
