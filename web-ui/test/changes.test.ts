// Version 1.1 in the client: edits in place (↑ picks the last own message), and a search result's
// room loading older pages until the message is there.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChatClient } from '../src/client/chat';
import { flush, harness, msg } from './fakes';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

async function connected(lastSeq: number, history: ReturnType<typeof msg>[]) {
  const h = harness();
  const c = new ChatClient(h.deps);
  await c.start('alice', { rooms: ['general'] });
  const s = h.socket();
  s.open();
  s.deliver({ type: 'joined', ref: s.last('join')!.ref, room: 'general', lastSeq, members: [] });
  await flush();
  s.deliver({ type: 'history', ref: s.last('history')!.ref, room: 'general', messages: history, hasMore: history[0].seq > 1 });
  await flush();
  return { c, s, room: c.rooms.get('general')! };
}

describe('changes of messages', () => {
  it('the last own message that is not deleted is the one ↑ edits', async () => {
    const { c, s } = await connected(4, [msg('general', 1, 'alice'), msg('general', 2, 'alice'), msg('general', 3, 'bob')]);
    expect(c.lastOwnMessage('general')).toBe(2);
    s.deliver({ type: 'deleted', room: 'general', seq: 4, target: 2, from: 'alice', ts: '2026-01-01T12:01:00Z' });
    expect(c.lastOwnMessage('general')).toBe(1);
    c.startEditing('general', 1);
    expect(c.editing).toEqual({ room: 'general', seq: 1 });
    void c.edit('general', 1, 'fixed');
    expect(s.last('edit')).toMatchObject({ room: 'general', target: 1, text: 'fixed' });
    expect(s.last('edit')).toHaveProperty('id');
  });

  it('a search result older than the newest page is revealed after loading older pages', async () => {
    const newest = Array.from({ length: 50 }, (_, i) => msg('general', 151 + i));
    const { c, s, room } = await connected(200, newest);
    const revealed = c.reveal('general', 60);
    for (let before = 151; before > 60; before -= 50) {
      await flush();
      const older = s.last('history')!;
      expect(older).toMatchObject({ before });
      const page = Array.from({ length: 50 }, (_, i) => msg('general', before - 50 + i));
      s.deliver({ type: 'history', ref: older.ref, room: 'general', messages: page, hasMore: true });
    }
    await expect(revealed).resolves.toBe(true);
    expect(room.has(60)).toBe(true);
    expect(c.highlight).toEqual({ room: 'general', seq: 60 });
  });
});
