/* eslint-disable @typescript-eslint/no-explicit-any */
// One WebSocket to a node, like phoenix.js's Socket: login, the socket itself, heartbeat pings with
// dead-socket detection, and reconnecting with back-off. It knows nothing of rooms or requests:
// frames go to a handler, which also hears when the socket becomes usable and when it is gone.

import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff';
import { parseFrame, type ClientFrame, type LoginResult, type ServerFrame } from './protocol';

export type ConnState = 'idle' | 'connecting' | 'online' | 'reconnecting' | 'offline';

export type WelcomeFrame = Extract<ServerFrame, { type: 'welcome' }>;

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

export interface ConnectionDeps {
  /** POST /api/login; rejects with LoginError for 4xx answers and any other Error when unreachable. */
  login(user: string, password?: string): Promise<LoginResult>;
  /** POST /api/register (version 1.1), answered like login. */
  register?(user: string, password: string): Promise<LoginResult>;
  /** POST /api/ticket (version 1.1): a single-use ticket to open the socket with instead of the token. */
  ticket?(token: string): Promise<string>;
  /** POST /api/logout (version 1.1): the token is refused everywhere from now on. */
  logout?(token: string): void;
  /** Opens /ws with the ticket when there is one, else with the token. */
  openSocket(token: string, ticket?: string): SocketLike;
  now?: () => number;
  random?: () => number;
  backoff?: BackoffOptions;
  /** Attempts after which the state says "offline" rather than "reconnecting". */
  offlineAfter?: number;
  /** How long a ping may go unanswered before the socket counts as dead (ms). */
  probeTimeoutMs?: number;
  /** Told each login the connection goes on with, and null on sign-out (the tab's stored session). */
  onSession?: (session: LoginResult | null) => void;
}

export interface ConnectionHandler {
  /** The node said welcome: the socket is usable (rooms can be joined). */
  welcomed(frame: WelcomeFrame): void;
  /** Every other frame from the node. */
  frame(frame: ServerFrame): void;
  /** The socket is gone: dropped, found dead, or closed by stop() ('signed out'). */
  closed(reason: 'disconnected' | 'signed out'): void;
  /** Something the view shows changed (state, node, retry time). */
  changed(): void;
}

const OPEN = 1;
/** A ping unanswered this long means the socket is dead: a few seconds, not heartbeats' tens. */
export const PROBE_TIMEOUT_MS = 4000;
/** A request unanswered this long makes the connection probe itself with a ping. */
export const ANSWER_PATIENCE_MS = 1500;
const WATCH_EVERY_MS = 500;
/** How long an open socket may wait for welcome before it is given up. */
export const WELCOME_TIMEOUT_MS = 10_000;
/** While the browser says it is offline, attempts are this far apart (the online event comes first). */
export const OFFLINE_RETRY_MS = 30_000;

export class Connection {
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

  private readonly deps: ConnectionDeps;
  private readonly handler: ConnectionHandler;
  private token = '';
  private password?: string;
  /** The socket closed before welcome: the token may be one the node no longer accepts. */
  private tokenSuspect = false;
  private socket: SocketLike | null = null;
  private welcomed = false;
  private stopped = true;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private welcomeTimer: ReturnType<typeof setTimeout> | null = null;
  private heartbeatTimer: ReturnType<typeof setInterval> | null = null;
  private lastPingAt = 0;
  /** When the unanswered ping was sent (null: none is); any frame from the node answers it. */
  private probeAt: number | null = null;
  /** When the oldest request sent since the node's last frame went out (null: none waits). */
  private awaitingSince: number | null = null;
  private heartbeatMs = 15000;
  /** The browser said it is offline: attempts wait for it to say online again (but for a rare one). */
  private browserOffline = false;
  /**
   * Bumped by every start and stop: a login that answers after it (the user signed out, maybe
   * another one signed in) belongs to a session that is over and is dropped.
   */
  private epoch = 0;

  constructor(deps: ConnectionDeps, handler: ConnectionHandler) {
    this.deps = deps;
    this.handler = handler;
  }

  get currentToken(): string {
    return this.token;
  }

  /** Signs in (or registers first, or uses a stored token) and connects. */
  async start(user: string, opts: { token?: string; password?: string; register?: boolean } = {}): Promise<void> {
    this.epoch++;
    this.stopped = false;
    this.user = user;
    this.password = opts.password;
    this.authError = null;
    if (opts.token) {
      this.token = opts.token;
    } else if (!(await this.login(opts.register === true))) {
      return;
    }
    void this.connect();
  }

  /** Closes the socket and stops reconnecting. */
  stop(): void {
    this.epoch++;
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.stopWatching();
    const s = this.socket;
    this.socket = null;
    this.welcomed = false;
    if (s) {
      s.onclose = null;
      s.close(1000, 'signed out');
    }
    this.handler.closed('signed out');
    this.state = 'idle';
    this.handler.changed();
  }

  /** Stops and forgets the user: token (revoked on the server), password, node, errors and the tab's stored session. */
  signOut(): void {
    this.stop();
    if (this.token) this.deps.logout?.(this.token);
    this.token = '';
    this.password = undefined;
    this.tokenSuspect = false;
    this.user = '';
    this.node = '';
    this.attempt = 0;
    this.nextRetryAt = 0;
    this.lastError = '';
    this.authError = null;
    this.deps.onSession?.(null);
    this.handler.changed();
  }

  /** Reconnects now instead of waiting for the back-off. */
  retryNow(): void {
    if (this.stopped || this.isOpen() || this.state === 'connecting') return;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    void this.reconnect();
  }

  /**
   * The browser says the network is gone: the socket is given up at once (what it still carries
   * would be lost unseen; pending sends are resent with their ids on the next one), and attempts
   * wait for networkBack() (but for a rare one, OFFLINE_RETRY_MS apart).
   */
  networkLost(): void {
    if (this.stopped) return;
    this.browserOffline = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    if (this.socket) this.dropSocket('the network is down');
    else this.scheduleReconnect();
  }

  /** The browser says the network is back: reconnect now. */
  networkBack(): void {
    this.browserOffline = false;
    this.retryNow();
  }

  /** True while reconnecting waits for the browser to be online again. */
  get waitingForNetwork(): boolean {
    return this.browserOffline && !this.stopped && !this.isOpen();
  }

  /** Welcomed on an open socket: frames will be answered. */
  isOpen(): boolean {
    return this.socket !== null && this.welcomed && this.socket.readyState === OPEN;
  }

  /** The socket is open (maybe not welcomed yet): frames can be written. */
  canSend(): boolean {
    return this.socket !== null && this.socket.readyState === OPEN;
  }

  send(frame: ClientFrame): void {
    // a request (it has a ref) expects an answer: the watchdog notices when none comes
    if ('ref' in frame && frame.ref !== undefined && this.awaitingSince === null) this.awaitingSince = this.now();
    try {
      this.socket?.send(JSON.stringify(frame));
    } catch {
      // the close handler takes over
    }
  }

  // ---------------------------------------------------------------- internals

  /** Logs in; false when the answer came too late (stopped or restarted meanwhile) and was dropped. */
  private async login(register = false): Promise<boolean> {
    const epoch = this.epoch;
    const res =
      register && this.deps.register
        ? await this.deps.register(this.user, this.password ?? '')
        : await this.deps.login(this.user, this.password);
    if (epoch !== this.epoch) return false;
    this.token = res.token;
    this.user = res.user;
    this.tokenSuspect = false;
    this.deps.onSession?.(res);
    return true;
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    this.state = this.attempt === 0 && this.state !== 'reconnecting' && this.state !== 'offline' ? 'connecting' : this.state;
    this.welcomed = false;
    this.handler.changed();
    let oneTime: string | undefined;
    if (this.deps.ticket) {
      const epoch = this.epoch;
      try {
        oneTime = await this.deps.ticket(this.token);
      } catch (e) {
        if (epoch !== this.epoch) return;
        // refused (401): the token is signed out or expired, so the next attempt logs in again
        if (e instanceof LoginError) this.tokenSuspect = true;
        this.lastError = e instanceof Error ? e.message : String(e);
        this.scheduleReconnect();
        return;
      }
      if (epoch !== this.epoch || this.stopped) return;
    }
    let s: SocketLike;
    try {
      s = this.deps.openSocket(this.token, oneTime);
    } catch (e) {
      this.lastError = String(e);
      this.scheduleReconnect();
      return;
    }
    this.socket = s;
    // a socket that opens but never says welcome (an overloaded node, a broken proxy) is given up too
    this.welcomeTimer = setTimeout(() => {
      this.welcomeTimer = null;
      if (this.socket === s && !this.welcomed) this.dropSocket('no welcome from the server');
    }, WELCOME_TIMEOUT_MS);
    s.onmessage = (ev) => {
      if (this.socket !== s) return;
      this.probeAt = null;
      this.awaitingSince = null;
      const frame = parseFrame(ev.data);
      if (!frame) return;
      if (frame.type === 'welcome') this.onWelcome(frame);
      else this.handler.frame(frame);
    };
    s.onclose = (ev) => {
      if (this.socket !== s) return;
      this.lastError = ev.reason || (ev.code ? `closed (${ev.code})` : 'closed');
      // Refused before welcome: maybe a token the node no longer accepts, so the next attempt logs
      // in again. Not when a ticket was just issued for it: the token was good, the trouble is elsewhere
      // (and a session resumed from storage has no password to log in with).
      if (!this.welcomed && oneTime === undefined) this.tokenSuspect = true;
      this.onDisconnect();
    };
    s.onerror = () => undefined; // onclose follows
  }

  private onWelcome(f: WelcomeFrame): void {
    this.welcomed = true;
    this.tokenSuspect = false;
    this.attempt = 0;
    this.nextRetryAt = 0;
    this.lastError = '';
    this.state = 'online';
    this.node = f.node;
    this.user = f.user;
    this.heartbeatMs = f.heartbeatMs > 0 ? f.heartbeatMs : 15000;
    this.startHeartbeat();
    this.handler.welcomed(f);
  }

  private onDisconnect(): void {
    this.socket = null;
    this.welcomed = false;
    this.stopWatching();
    this.handler.closed('disconnected');
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    this.attempt++;
    // Offline, the browser's online event (or Retry now) brings the connection back; a rare attempt
    // still goes out in case that event never comes (the browser's word is not always right).
    const delay = this.browserOffline
      ? OFFLINE_RETRY_MS
      : backoffDelay(this.attempt, this.deps.random, this.deps.backoff ?? DEFAULT_BACKOFF);
    this.nextRetryAt = this.now() + delay;
    this.state = this.browserOffline || this.attempt > (this.deps.offlineAfter ?? 4) ? 'offline' : 'reconnecting';
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.reconnect();
    }, delay);
    this.handler.changed();
  }

  private async reconnect(): Promise<void> {
    if (this.stopped) return;
    if (this.tokenSuspect) {
      const epoch = this.epoch;
      try {
        if (!(await this.login())) return;
      } catch (e) {
        if (epoch !== this.epoch) return; // signed out meanwhile
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
    void this.connect();
  }

  /**
   * Pings every half heartbeat (the node closes sockets silent for 2.5 heartbeats), and also as soon
   * as a request has waited ANSWER_PATIENCE_MS; a ping unanswered for the probe timeout means the
   * socket is dead (a half-open connection, Wi-Fi gone), so the banner shows within seconds.
   */
  private startHeartbeat(): void {
    this.stopWatching();
    this.lastPingAt = this.now();
    this.probeAt = null;
    this.awaitingSince = null;
    this.heartbeatTimer = setInterval(() => {
      if (!this.socket) return;
      const now = this.now();
      if (this.probeAt !== null) {
        if (now - this.probeAt >= (this.deps.probeTimeoutMs ?? PROBE_TIMEOUT_MS)) this.dropSocket('no answer from the server');
        return;
      }
      const waited = this.awaitingSince !== null && now - this.awaitingSince >= ANSWER_PATIENCE_MS;
      if (waited || now - this.lastPingAt >= this.heartbeatMs / 2) {
        this.lastPingAt = now;
        this.probeAt = now;
        this.send({ type: 'ping' });
      }
    }, WATCH_EVERY_MS);
  }

  /** Gives up on the current socket as dead and reconnects (unless the browser is offline). */
  private dropSocket(reason: string): void {
    const s = this.socket;
    if (!s) return;
    this.socket = null;
    s.onclose = null;
    try {
      s.close(4000, reason);
    } catch {
      // ignore
    }
    this.lastError = reason;
    this.onDisconnect();
  }

  /** Stops the heartbeat and the wait for welcome. */
  private stopWatching(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
    if (this.welcomeTimer) clearTimeout(this.welcomeTimer);
    this.welcomeTimer = null;
  }

  private now(): number {
    return this.deps.now ? this.deps.now() : Date.now();
  }
}
