import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../src/client/backoff';
import { dmPeer, dmRoom, isValidRoom, isValidUser, newMessageId, normalizeName, parseFrame } from '../src/client/protocol';
import { dayLabel, lastSeen, presenceText, startsGroup, typingText } from '../src/ui/format';

describe('names', () => {
  it('builds DM rooms with the two names sorted', () => {
    expect(dmRoom('bob', 'alice')).toBe('dm:alice:bob');
    expect(dmRoom('alice', 'bob')).toBe('dm:alice:bob');
    expect(() => dmRoom('alice', 'alice')).toThrow();
  });

  it('finds the other user of a DM', () => {
    expect(dmPeer('dm:alice:bob', 'alice')).toBe('bob');
    expect(dmPeer('dm:alice:bob', 'bob')).toBe('alice');
    expect(dmPeer('dm:alice:bob', 'carol')).toBeNull();
    expect(dmPeer('general', 'alice')).toBeNull();
  });

  it('validates rooms and users like the server', () => {
    expect(isValidRoom('general')).toBe(true);
    expect(isValidRoom('dm:alice:bob')).toBe(true);
    expect(isValidRoom('dm:bob:alice')).toBe(false);
    expect(isValidRoom('dm:alice:alice')).toBe(false);
    expect(isValidRoom('-x')).toBe(false);
    expect(isValidRoom('a'.repeat(65))).toBe(false);
    expect(isValidUser('alice_1.x-y')).toBe(true);
    expect(isValidUser('Alice')).toBe(false);
    expect(isValidUser('a'.repeat(33))).toBe(false);
    expect(normalizeName('  #My Room ')).toBe('my-room');
    expect(normalizeName('@Bob')).toBe('bob');
  });

  it('makes distinct message ids', () => {
    const ids = new Set(Array.from({ length: 100 }, () => newMessageId()));
    expect(ids.size).toBe(100);
  });
});

describe('parseFrame', () => {
  it('accepts JSON objects with a string type only', () => {
    expect(parseFrame('{"type":"pong","ref":"1"}')).toEqual({ type: 'pong', ref: '1' });
    expect(parseFrame('not json')).toBeNull();
    expect(parseFrame('[1]')).toBeNull();
    expect(parseFrame('{"type":1}')).toBeNull();
    expect(parseFrame('null')).toBeNull();
    expect(parseFrame(new ArrayBuffer(2))).toBeNull();
  });
});

describe('backoff', () => {
  it('grows exponentially with jitter and a cap', () => {
    expect(backoffDelay(1, () => 0)).toBe(250);
    expect(backoffDelay(1, () => 1)).toBe(500);
    expect(backoffDelay(2, () => 1)).toBe(1000);
    expect(backoffDelay(3, () => 1)).toBe(2000);
    expect(backoffDelay(30, () => 1)).toBe(10_000);
    expect(backoffDelay(30, () => 0)).toBe(5_000);
    for (let a = 1; a < 20; a++) {
      const d = backoffDelay(a);
      expect(d).toBeGreaterThan(0);
      expect(d).toBeLessThanOrEqual(10_000);
    }
  });
});

describe('view formatting', () => {
  it('labels days as Today, Yesterday, or their date', () => {
    const now = new Date(2026, 11, 3, 9, 30).getTime(); // local time
    expect(dayLabel(new Date(2026, 11, 3, 0, 5).toISOString(), now)).toBe('Today');
    expect(dayLabel(new Date(2026, 11, 2, 23, 59).toISOString(), now)).toBe('Yesterday');
    const older = dayLabel(new Date(2026, 10, 30, 14, 48).toISOString(), now);
    expect(older).toContain('2026');
    expect(older).toContain('30');
    expect(dayLabel('not a time', now)).toBe('');
  });

  const m = (from: string, ts: string) => ({ key: ts, id: ts, from, text: '', ts });
  it('groups consecutive messages of a sender within five minutes', () => {
    const a = m('bob', '2026-01-01T12:00:00Z');
    expect(startsGroup(undefined, a)).toBe(true);
    expect(startsGroup(a, m('bob', '2026-01-01T12:04:00Z'))).toBe(false);
    expect(startsGroup(a, m('bob', '2026-01-01T12:06:00Z'))).toBe(true);
    expect(startsGroup(a, m('carol', '2026-01-01T12:00:01Z'))).toBe(true);
  });

  it('says when someone was last seen and who is typing', () => {
    const now = Date.parse('2026-01-01T12:00:00Z');
    expect(lastSeen('2026-01-01T11:59:50Z', now)).toBe('last seen just now');
    expect(lastSeen('2026-01-01T11:50:00Z', now)).toBe('last seen 10 min ago');
    expect(lastSeen('2026-01-01T09:00:00Z', now)).toBe('last seen 3 h ago');
    expect(lastSeen(undefined, now)).toBe('offline');
    expect(presenceText('online', undefined, now)).toBe('online');
    expect(presenceText('offline', '2026-01-01T11:55:00Z', now)).toBe('last seen 5 min ago');
    expect(presenceText('unknown', '2026-01-01T11:55:00Z', now)).toBe('unknown while offline');
    expect(typingText([])).toBe('');
    expect(typingText(['bob'])).toBe('bob is typing…');
    expect(typingText(['bob', 'carol'])).toBe('bob and carol are typing…');
  });
});
