// Keyboard shortcuts of the signed-in page: Ctrl/⌘+K opens the quick switcher, Alt+↑/↓ go to the
// previous/next room of the sidebar, Escape closes what is open over the room (drawers).

import { useEffect } from 'preact/hooks';
import type { ChatClient } from '../client/chat';
import { neighbour, roomsInOrder, type RoomOrder } from './rooms';

export function useShortcuts(
  client: ChatClient,
  order: RoomOrder,
  actions: { openSwitcher: () => void; escape: () => void },
): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === 'k') {
        e.preventDefault();
        actions.openSwitcher();
      } else if (e.altKey && !e.ctrlKey && !e.metaKey && (e.key === 'ArrowUp' || e.key === 'ArrowDown')) {
        const next = neighbour(roomsInOrder(client, order), client.active, e.key === 'ArrowDown' ? 1 : -1);
        if (next === null) return;
        e.preventDefault();
        client.setActive(next);
      } else if (e.key === 'Escape' && !e.defaultPrevented) {
        actions.escape();
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  });
}
