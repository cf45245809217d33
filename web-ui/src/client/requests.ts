// Frames that expect a direct reply, like phoenix.js's Push: each gets a fresh `ref`, a timeout,
// and is settled by the server frame that echoes that `ref` (an `error` rejects it).

import type { ClientFrame, ServerFrame } from './protocol';

export class RequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** Where requests are written (the connection). */
export interface RequestTransport {
  /** Whether a frame can be written now. */
  canSend(): boolean;
  send(frame: ClientFrame): void;
}

interface Pending {
  resolve(frame: ServerFrame): void;
  reject(err: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 15000;

export class Requests {
  private counter = 0;
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly transport: RequestTransport,
    private readonly timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
  ) {}

  /** Number of requests waiting for their reply. */
  get size(): number {
    return this.pending.size;
  }

  /**
   * Sends `frame` with a new `ref`. Resolves with the reply, rejects with a RequestError when the
   * reply is an `error`, or with a plain Error when not connected, timed out or failed by failAll().
   */
  request(frame: ClientFrame): Promise<ServerFrame> {
    return new Promise((resolve, reject) => {
      if (!this.transport.canSend()) {
        reject(new Error('not connected'));
        return;
      }
      const ref = String(++this.counter);
      const timer = setTimeout(() => {
        this.pending.delete(ref);
        reject(new Error('timed out'));
      }, this.timeoutMs);
      this.pending.set(ref, { resolve, reject, timer });
      this.transport.send({ ...frame, ref } as ClientFrame);
    });
  }

  /** Settles the request `frame` answers. False when it answers none of ours (a push, or a late reply). */
  settle(frame: ServerFrame): boolean {
    const ref = 'ref' in frame ? frame.ref : undefined;
    if (ref === undefined) return false;
    const p = this.pending.get(ref);
    if (!p) return false;
    this.pending.delete(ref);
    clearTimeout(p.timer);
    if (frame.type === 'error') p.reject(new RequestError(frame.code, frame.message ?? frame.code, frame.retryAfterMs));
    else p.resolve(frame);
    return true;
  }

  /** Rejects every waiting request (the socket they were sent on is gone). */
  failAll(reason: string): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) {
      clearTimeout(p.timer);
      p.reject(new Error(reason));
    }
  }
}
