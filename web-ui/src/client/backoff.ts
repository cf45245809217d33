// Reconnect back-off: exponential with a cap and "equal jitter" so that many clients dropped by
// the same node restart do not all come back in the same millisecond.

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  factor: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 10_000, factor: 2 };

/**
 * Delay before reconnect attempt `attempt` (1 = first retry): half of the exponential value fixed,
 * half random, never above `maxMs`.
 */
export function backoffDelay(attempt: number, random: () => number = Math.random, o: BackoffOptions = DEFAULT_BACKOFF): number {
  const n = Math.max(1, Math.floor(attempt));
  const exp = Math.min(o.maxMs, o.baseMs * Math.pow(o.factor, n - 1));
  const half = exp / 2;
  return Math.round(half + random() * half);
}
