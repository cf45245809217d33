import { describe, expect, it } from 'vitest';
import { RoomState } from '../src/client/room';
import { neighbour, ordered, switcherMatches } from '../src/ui/rooms';

describe('the quick switcher and Alt+↑/↓', () => {
  const rooms = ['general', 'dev', 'design', 'dm:alice:bob', 'dm:alice:deb'];

  it('finds rooms and people by part of their name, those starting with it first', () => {
    expect(switcherMatches(rooms, '', 'alice')).toEqual(rooms);
    expect(switcherMatches(rooms, 'de', 'alice')).toEqual(['dev', 'design', 'dm:alice:deb']);
    expect(switcherMatches(rooms, 'SIGN', 'alice')).toEqual(['design']);
    expect(switcherMatches(rooms, '# gen', 'alice')).toEqual(['general']);
    expect(switcherMatches(rooms, '@bo', 'alice')).toEqual(['dm:alice:bob']);
    expect(switcherMatches(rooms, 'e', 'alice')).toEqual(['general', 'dev', 'design', 'dm:alice:deb']);
    // a DM is found by the other person's name, not by the user's own
    expect(switcherMatches(rooms, 'alice', 'alice')).toEqual([]);
    expect(switcherMatches(rooms, 'zzz', 'alice')).toEqual([]);
  });

  it('moves to the next or previous room, wrapping around', () => {
    expect(neighbour(rooms, 'general', 1)).toBe('dev');
    expect(neighbour(rooms, 'general', -1)).toBe('dm:alice:deb');
    expect(neighbour(rooms, 'dm:alice:deb', 1)).toBe('general');
    expect(neighbour(rooms, null, 1)).toBe('general');
    expect(neighbour(rooms, null, -1)).toBe('dm:alice:deb');
    expect(neighbour([], 'general', 1)).toBeNull();
  });
});

describe('the sidebar order', () => {
  function room(name: string, ...times: string[]): RoomState {
    const r = new RoomState(name);
    times.forEach((ts, i) => r.addStreamed({ room: name, seq: i + 1, id: `${name}-${i}`, from: 'bob', text: 'x', ts }, 'alice'));
    return r;
  }

  it('puts the room with the newest message first, or keeps the join order', () => {
    const rooms = [
      room('general', '2026-01-01T10:00:00Z'),
      room('quiet'),
      room('busy', '2026-01-01T09:00:00Z', '2026-01-01T11:00:00Z'),
      room('new'),
    ];
    expect(ordered(rooms, 'activity').map((r) => r.name)).toEqual(['busy', 'general', 'quiet', 'new']);
    expect(ordered(rooms, 'joined').map((r) => r.name)).toEqual(['general', 'quiet', 'busy', 'new']);
  });

  it('counts an own message being sent as activity', () => {
    const rooms = [room('general', '2026-01-01T10:00:00Z'), room('dev', '2026-01-01T09:00:00Z')];
    rooms[1].addOutgoing('o1', 'hi', '2026-01-01T12:00:00Z');
    expect(ordered(rooms, 'activity').map((r) => r.name)).toEqual(['dev', 'general']);
  });
});
