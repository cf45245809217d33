import { describe, expect, it } from 'vitest';
import { neighbour, switcherMatches } from '../src/ui/rooms';

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
