// One room over the connection, like phoenix.js's Channel: join (resuming with `since` once the
// newest page is loaded), history paging, and own sends. Sends go out one at a time in the order
// written, so that a refusal (rate_limited, with its retryAfterMs) never lets a later one overtake:
// they stay pending until acked, are resent with the same `id` after a rejoin (the server dedupes),
// and fail visibly only when refused. The room's data is RoomState.

import type { ChatMessage, ClientFrame, Member, ServerFrame } from './protocol';
import { RequestError } from './requests';
import { asMessage, RoomState } from './room';

/** What a channel needs from the client it belongs to. */
export interface ChannelHost {
  /** The signed-in user (own messages are recognised by it). */
  user(): string;
  /** Welcomed on an open socket. */
  isOpen(): boolean;
  request(frame: ClientFrame): Promise<ServerFrame>;
  /** A frame without a reply (typing). */
  push(frame: ClientFrame): void;
  now(): number;
  changed(): void;
  /** A member listed by `joined`, with their presence as the node knows it. */
  memberListed(member: Member): void;
  /** A user seen in the room (posting, typing) whose presence may be unknown yet. */
  memberSeen(user: string): void;
  /** One of the user's messages was acked (whoever writes has read the room up to there). */
  acked(): void;
  /** Messages the newest history page brought that this page had not seen (they may be unread). */
  caughtUp(messages: ChatMessage[]): void;
}

export const HISTORY_PAGE = 50;
export const TYPING_SEND_EVERY_MS = 1500;
const UNAVAILABLE_RETRIES = 5;
/** The shortest wait before a refused send goes again (a retryAfterMs of 0 must not spin). */
const MIN_PAUSE_MS = 100;

export class RoomChannel {
  readonly state: RoomState;
  private readonly host: ChannelHost;
  /** A `join` is in flight on the current socket (a second one would be refused). */
  private joining = false;
  /** Left while its join was on its way: leave as soon as the join is answered. */
  private leaveAfterJoin = false;
  private lastTypingSent = -Infinity;
  private typingTrailing: ReturnType<typeof setTimeout> | null = null;
  /** Set once the client has let go of this room: late replies and timers must not touch it. */
  private closed = false;
  /** The id of the send waiting for its answer (one at a time keeps the order). */
  private inFlight: string | null = null;
  /** Set while the queue waits (retryAfterMs, or a pause after `unavailable`). */
  private resendTimer: ReturnType<typeof setTimeout> | null = null;
  /** Waiting for the newest page ({@link ready}). */
  private readonly readyWaiters: (() => void)[] = [];

  constructor(name: string, host: ChannelHost) {
    this.state = new RoomState(name);
    this.host = host;
  }

  get name(): string {
    return this.state.name;
  }

  /** Joins, or rejoins with `since` after a reconnect; loads the newest page; resends pending messages. */
  async join(): Promise<void> {
    const r = this.state;
    if (this.joining) return;
    const since = r.loadedNewest ? r.streamSeq : undefined;
    let joined: ServerFrame;
    this.joining = true;
    try {
      joined = await this.host.request(since === undefined ? { type: 'join', room: r.name } : { type: 'join', room: r.name, since });
    } catch (e) {
      this.joining = false;
      if (e instanceof RequestError) {
        if (e.code === 'invalid' && since !== undefined) {
          // the node does not know our resume point (its history was reset): start over
          r.reset();
          if (this.host.isOpen()) void this.join();
          return;
        }
        r.error = e.message;
        this.host.changed();
      }
      return;
    }
    this.joining = false;
    if (joined.type === 'joined' && this.leaveAfterJoin && this.host.isOpen()) {
      this.host.request({ type: 'leave', room: this.name }).catch(() => undefined);
      return;
    }
    if (joined.type !== 'joined' || this.closed) return;
    r.joined = true;
    r.error = undefined;
    for (const m of joined.members ?? []) {
      r.members.add(m.user);
      if (m.user !== this.host.user()) this.host.memberListed(m);
    }
    this.host.changed();
    if (!r.loadedNewest) {
      try {
        const h = await this.host.request({ type: 'history', room: r.name, limit: HISTORY_PAGE });
        if (h.type === 'history') {
          const fresh = h.messages.flatMap((e) => (e.type === 'message' && !e.deleted && !r.has(e.seq) ? [asMessage(e)] : []));
          r.addHistory(h.messages, h.hasMore, true, this.host.user());
          this.host.caughtUp(fresh);
        }
      } catch {
        // a later reconnect loads it
      }
      this.host.changed();
    }
    if (r.loadedNewest) this.readyWaiters.splice(0).forEach((resolve) => resolve());
    this.pump();
  }

  /** Resolves once the newest page is loaded (at once when it is). */
  ready(): Promise<void> {
    if (this.state.loadedNewest) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /** Leaves the room on the server (the client forgets it); a join on its way is left once it is answered. */
  leave(): void {
    if (this.host.isOpen() && this.state.joined) this.host.request({ type: 'leave', room: this.name }).catch(() => undefined);
    else if (this.joining) this.leaveAfterJoin = true;
    this.close();
  }

  /**
   * Lets go of the room without telling the server (sign-out): nothing of it is sent any more,
   * not a pending message nor a typing frame, even if another user's session is open by then.
   */
  close(): void {
    this.closed = true;
    this.readyWaiters.splice(0).forEach((resolve) => resolve());
    this.stopTyping();
    this.clearResendTimer();
  }

  /** The socket is gone: the room must be joined again on the next one. */
  disconnected(): void {
    this.joining = false;
    this.inFlight = null; // its request failed with the socket: it is sent again after the rejoin
    this.clearResendTimer();
    this.state.joined = false;
    this.state.typing.clear();
  }

  /** Loads the previous page of history; resolves when done (no-op when none is left). */
  async loadOlder(): Promise<void> {
    const r = this.state;
    if (!r.hasMore || r.loadingOlder || !r.joined || !r.loadedNewest) return;
    const before = r.oldestSeq();
    if (before === undefined || before <= 1) {
      r.hasMore = false;
      this.host.changed();
      return;
    }
    r.loadingOlder = true;
    this.host.changed();
    try {
      const h = await this.host.request({ type: 'history', room: r.name, before, limit: HISTORY_PAGE });
      if (h.type === 'history') r.addHistory(h.messages, h.hasMore, false, this.host.user());
    } catch {
      // leave hasMore as it is: the next scroll tries again
    } finally {
      r.loadingOlder = false;
      this.host.changed();
    }
  }

  /** Shows an own message at once (pending) and sends it when joined. */
  send(id: string, text: string): void {
    this.state.addOutgoing(id, text, new Date(this.host.now()).toISOString());
    if (this.typingTrailing) clearTimeout(this.typingTrailing);
    this.typingTrailing = null;
    this.host.changed();
    this.pump();
  }

  /** Sends a failed message again with the same id (the server dedupes it if it had landed). */
  retry(id: string): void {
    const out = this.state.outgoing.get(id);
    if (!out) return;
    out.state = 'pending';
    out.error = undefined;
    this.host.changed();
    this.pump();
  }

  /** Drops a failed message from the view. */
  discard(id: string): void {
    this.state.outgoing.delete(id);
    this.host.changed();
  }

  /** A `message` of the room's stream; true when it was new. */
  received(m: ChatMessage): boolean {
    const isNew = this.state.addStreamed(m, this.host.user());
    this.state.typing.delete(m.from);
    this.seen(m.from);
    return isNew;
  }

  /** Someone else is typing until `until` (ms). */
  typingSeen(user: string, until: number): void {
    this.state.typing.set(user, until);
    this.seen(user);
  }

  /**
   * Tells the room we are typing: at most one frame per TYPING_SEND_EVERY_MS (the node drops more
   * than one a second), with a trailing frame so typing right after a send is still announced.
   */
  typing(): void {
    if (!this.state.joined || !this.host.isOpen()) return;
    const now = this.host.now();
    const wait = this.lastTypingSent + TYPING_SEND_EVERY_MS - now;
    if (wait <= 0) {
      this.lastTypingSent = now;
      this.host.push({ type: 'typing', room: this.name });
      return;
    }
    if (this.typingTrailing) return;
    this.typingTrailing = setTimeout(() => {
      this.typingTrailing = null;
      this.typing();
    }, wait);
  }

  /** Cancels the trailing typing frame. */
  stopTyping(): void {
    if (this.typingTrailing) clearTimeout(this.typingTrailing);
    this.typingTrailing = null;
  }

  // ---------------------------------------------------------------- internals

  private seen(user: string): void {
    if (this.state.members.has(user)) return;
    this.state.members.add(user);
    this.host.memberSeen(user);
  }

  /** Sends the oldest pending message, unless one is waiting for its answer or the queue is paused. */
  private pump(): void {
    const r = this.state;
    if (this.inFlight !== null || this.resendTimer !== null || this.closed || !this.host.isOpen() || !r.joined) return;
    const out = [...r.outgoing.values()].find((o) => o.state === 'pending');
    if (!out) return;
    const id = out.id;
    this.inFlight = id;
    out.attempts++;
    const answered = () => {
      const mine = this.inFlight === id && !this.closed;
      if (mine) this.inFlight = null;
      return mine;
    };
    this.host
      .request({ type: 'send', room: r.name, id, text: out.text })
      .then((f) => {
        if (!answered()) return;
        if (f.type === 'ack') {
          r.ack(id, f.seq, f.ts, this.host.user()); // by our own id: the ack's is the same, or missing
          this.host.acked();
        } else {
          r.fail(id, `unexpected answer (${f.type})`); // else the queue would send it again at once
        }
        this.host.changed();
        this.pump();
      })
      .catch((e: unknown) => {
        if (!answered() || !r.outgoing.has(id)) return;
        if (e instanceof RequestError && e.code === 'rate_limited') {
          // the server says when: this one and all after it wait, then go in their order
          this.pauseQueue(e.retryAfterMs ?? 1000);
          return;
        }
        if (e instanceof RequestError && e.code === 'unavailable' && out.attempts < UNAVAILABLE_RETRIES) {
          this.pauseQueue(1000 * out.attempts);
          return;
        }
        if (e instanceof RequestError) r.fail(id, e.message);
        else if (this.host.isOpen()) r.fail(id, 'no answer');
        else return; // disconnected: stays pending and is sent again after the rejoin
        this.host.changed();
        this.pump();
      });
  }

  private pauseQueue(ms: number): void {
    this.clearResendTimer();
    this.resendTimer = setTimeout(() => {
      this.resendTimer = null;
      this.pump();
    }, Math.max(MIN_PAUSE_MS, ms));
  }

  private clearResendTimer(): void {
    if (this.resendTimer) clearTimeout(this.resendTimer);
    this.resendTimer = null;
  }
}
