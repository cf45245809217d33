import type { ChatDeps, SocketLike } from '../src/client/chat';
import type { ClientFrame, LoginResult } from '../src/client/protocol';

/** A WebSocket stand-in: records what the client sends; the test plays the server. */
export class FakeSocket implements SocketLike {
  readyState = 0;
  sent: (ClientFrame & { ref?: string })[] = [];
  /** Refs the test has already answered (for helpers that answer the next pending request). */
  readonly answered = new Set<string>();
  closed = false;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;

  constructor(readonly token: string) {}

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('not open');
    this.sent.push(JSON.parse(data));
  }

  close(): void {
    this.closed = true;
    this.readyState = 3;
  }

  /** The server accepts the connection and says welcome, then lists the user's rooms (`rooms`, version 1.1). */
  open(user = 'alice', node = '127.0.0.1:7355', rooms: object[] = []): void {
    this.readyState = 1;
    this.onopen?.({});
    this.deliver({ type: 'welcome', user, session: 's1', node, heartbeatMs: 15000, protocol: 1 });
    this.deliver({ type: 'rooms', rooms });
  }

  deliver(frame: object): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }

  /** The connection drops (node stopped, network gone). */
  drop(code = 1006, reason = ''): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  last(type: string): (ClientFrame & { ref?: string }) | undefined {
    return [...this.sent].reverse().find((f) => f.type === type);
  }

  all(type: string): (ClientFrame & { ref?: string })[] {
    return this.sent.filter((f) => f.type === type);
  }
}

export function harness(opts: Partial<ChatDeps> = {}) {
  const sockets: FakeSocket[] = [];
  const logins: string[] = [];
  let tokenN = 0;
  const deps: ChatDeps = {
    login: async (user: string): Promise<LoginResult> => {
      logins.push(user);
      return { user, token: `t${++tokenN}`, expiresAt: '2999-01-01T00:00:00Z' };
    },
    openSocket: (token) => {
      const s = new FakeSocket(token);
      sockets.push(s);
      return s;
    },
    random: () => 0.5,
    ...opts,
  };
  return { deps, sockets, logins, socket: () => sockets[sockets.length - 1] };
}

export function msg(room: string, seq: number, from = 'bob', text = `m${seq}`, id = `id-${from}-${seq}`) {
  const message: { type: string; room: string; seq: number; id: string; from: string; text: string; ts: string; mentions?: string[] } =
    { type: 'message', room, seq, id, from, text, ts: new Date(Date.UTC(2026, 0, 1, 12, 0, seq)).toISOString() };
  return message;
}

/** Lets promise continuations run (the client awaits replies). */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}
