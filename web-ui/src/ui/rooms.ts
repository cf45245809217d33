// Which rooms the sidebar lists, in which order, and what the quick switcher finds (pure helpers).

import type { ChatClient } from '../client/chat';
import { isDmRoom } from '../client/protocol';
import type { RoomState } from '../client/room';
import { roomLabel } from './labels';

/** How the sidebar orders rooms: most recent message first, or the order they were joined in. */
export type RoomOrder = 'activity' | 'joined';
const ORDER_KEY = 'pulse.roomOrder';

/** The order this browser was told to keep (a display preference, like the theme); activity by default. */
export function storedOrder(): RoomOrder {
  try {
    return localStorage.getItem(ORDER_KEY) === 'joined' ? 'joined' : 'activity';
  } catch {
    return 'activity';
  }
}

export function saveOrder(order: RoomOrder): void {
  try {
    localStorage.setItem(ORDER_KEY, order);
  } catch {
    // storage disabled: the choice lasts for this page
  }
}

/** `rooms` (given in join order) in `order`; rooms without messages keep their join order, last. */
export function ordered(rooms: RoomState[], order: RoomOrder): RoomState[] {
  return order === 'joined' ? rooms : [...rooms].sort((a, b) => b.lastActivityAt - a.lastActivityAt);
}

/** Rooms first, then direct messages, as the sidebar shows them (and Alt+↑/↓ walks them). */
export function sidebarRooms(client: ChatClient, order: RoomOrder): { channels: RoomState[]; dms: RoomState[] } {
  const all = ordered([...client.rooms.values()], order);
  return { channels: all.filter((r) => !isDmRoom(r.name)), dms: all.filter((r) => isDmRoom(r.name)) };
}

/** Every room of the sidebar, top to bottom. */
export function roomsInOrder(client: ChatClient, order: RoomOrder): string[] {
  const { channels, dms } = sidebarRooms(client, order);
  return [...channels, ...dms].map((r) => r.name);
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
