// Formatting helpers for the view (pure, unit-tested).

import type { DisplayMessage } from '../client/room';

export const GROUP_GAP_MS = 5 * 60_000;

/** Whether a message starts a new visual group (other sender, or a pause of over five minutes). */
export function startsGroup(prev: DisplayMessage | undefined, m: DisplayMessage): boolean {
  if (!prev) return true;
  if (prev.from !== m.from) return true;
  return Math.abs(Date.parse(m.ts) - Date.parse(prev.ts)) > GROUP_GAP_MS;
}

export function timeOf(ts: string): string {
  const d = new Date(ts);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

export function lastSeen(ts: string | undefined, now: number): string {
  if (!ts) return 'offline';
  const t = Date.parse(ts);
  if (Number.isNaN(t)) return 'offline';
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 60) return 'last seen just now';
  const m = Math.round(s / 60);
  if (m < 60) return `last seen ${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 24) return `last seen ${h} h ago`;
  return `last seen ${new Date(t).toLocaleDateString()}`;
}

export function typingText(users: string[]): string {
  if (users.length === 0) return '';
  if (users.length === 1) return `${users[0]} is typing…`;
  if (users.length === 2) return `${users[0]} and ${users[1]} are typing…`;
  return 'several people are typing…';
}
