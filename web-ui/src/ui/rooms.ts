// Which rooms the sidebar lists, in which order, and what the quick switcher finds (pure helpers).

import type { ChatClient } from '../client/chat';
import { isDmRoom } from '../client/protocol';
import { roomLabel } from './labels';

/** Rooms first, then direct messages, as the sidebar shows them (and Alt+↑/↓ walks them). */
export function sidebarRooms(client: ChatClient): { channels: string[]; dms: string[] } {
  const names = [...client.rooms.keys()];
  return { channels: names.filter((r) => !isDmRoom(r)), dms: names.filter((r) => isDmRoom(r)) };
}

/** Every room of the sidebar, top to bottom. */
export function roomsInOrder(client: ChatClient): string[] {
  const { channels, dms } = sidebarRooms(client);
  return [...channels, ...dms];
}

/** The room `step` places from `current` in `rooms`, wrapping around; null when there is none. */
export function neighbour(rooms: string[], current: string | null, step: 1 | -1): string | null {
  if (rooms.length === 0) return null;
  const at = current === null ? -1 : rooms.indexOf(current);
  if (at < 0) return rooms[step === 1 ? 0 : rooms.length - 1];
  return rooms[(at + step + rooms.length) % rooms.length];
}

/**
 * The rooms whose label contains `query` (case and a leading "#" or "@" ignored), those whose label
 * starts with it first, each group in the order given.
 */
export function switcherMatches(rooms: string[], query: string, me: string): string[] {
  const q = query.trim().toLowerCase().replace(/^[#@]\s*/, '');
  if (q === '') return rooms;
  const text = (room: string) => roomLabel(room, me).replace(/^# /, '').toLowerCase();
  const found = rooms.filter((r) => text(r).includes(q));
  return [...found.filter((r) => text(r).startsWith(q)), ...found.filter((r) => !text(r).startsWith(q))];
}
