// Formatting helpers for the view (pure, unit-tested).

import type { DisplayMessage } from '../client/room';

export const GROUP_GAP_MS = 5 * 60_000;

/** Whether a message starts a new visual group (other sender, or a pause of over five minutes). */
export function startsGroup(prev: DisplayMessage | undefined, m: DisplayMessage): boolean {
  if (!prev) return true;
  if (prev.from !== m.from) return true;
  return Math.abs(Date.parse(m.ts) - Date.parse(prev.ts)) > GROUP_GAP_MS;
}

/** The local day of a timestamp, as a key: messages of different keys get a date divider between them. */
export function dayKey(ts: string): string {
  const d = new Date(ts);
  return Number.isNaN(d.getTime()) ? '' : `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

/** "Today", "Yesterday", or the date ("Mon, 30 Nov 2026"), in the reader's time zone. */
export function dayLabel(ts: string, now: number): string {
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return '';
  const today = new Date(now);
  const yesterday = new Date(now);
  yesterday.setDate(today.getDate() - 1);
  if (dayKey(ts) === dayKey(today.toISOString())) return 'Today';
  if (dayKey(ts) === dayKey(yesterday.toISOString())) return 'Yesterday';
  return d.toLocaleDateString([], { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' });
}

/** The full date and time of a message, for its tooltip. */
export function fullTime(ts: string): string {
  const d = new Date(ts);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleString([], { dateStyle: 'full', timeStyle: 'medium' });
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

/** How someone's presence reads: online, when last seen, or unknown while this page is disconnected. */
export function presenceText(status: string, lastSeenTs: string | undefined, now: number): string {
  if (status === 'online') return 'online';
  if (status === 'unknown') return 'unknown while offline';
  return lastSeen(lastSeenTs, now);
}

export function typingText(users: string[]): string {
  if (users.length === 0) return '';
  if (users.length === 1) return `${users[0]} is typing…`;
  if (users.length === 2) return `${users[0]} and ${users[1]} are typing…`;
  return 'several people are typing…';
}
