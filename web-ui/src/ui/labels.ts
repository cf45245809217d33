// Small naming helpers shared by the components.

import { dmPeer } from '../client/protocol';

/** How a room is shown: the peer's name for a DM, "# name" otherwise. */
export function roomLabel(room: string, me: string): string {
  const peer = dmPeer(room, me);
  return peer ?? `# ${room}`;
}

/** A stable avatar colour per user name. */
export function colorOf(name: string): string {
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) % 360;
  return `hsl(${h} 55% 45%)`;
}
