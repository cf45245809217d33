import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import { closedUnlessReopened } from './dialogs';
import type { ChatClient } from '../client/chat';
import { roomLabel } from './labels';
import { roomsInOrder, switcherMatches, type RoomOrder } from './rooms';

/**
 * Ctrl/⌘+K: a modal dialog (the platform's <dialog>, which traps focus and closes on Escape) to go
 * to a room or DM by typing part of its name; ↑/↓ choose, Enter opens.
 */
export function QuickSwitcher({ client, order, open, onClose }: { client: ChatClient; order: RoomOrder; open: boolean; onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const input = useRef<HTMLInputElement>(null);
  const [query, setQuery] = useState('');
  const [index, setIndex] = useState(0);
  const found = switcherMatches(roomsInOrder(client, order), query, client.user);
  const chosen = found[Math.min(index, found.length - 1)];

  // a layout effect: the dialog is open (and focused) before the next key press is handled
  useLayoutEffect(() => {
    const d = dialog.current;
    if (!d) return;
    if (open && !d.open) {
      setQuery('');
      setIndex(0);
      d.showModal();
      input.current?.focus();
    } else if (!open && d.open) {
      d.close();
    }
  }, [open]);

  function go(room: string | undefined) {
    if (room === undefined) return;
    client.setActive(room);
    onClose();
  }

  return (
    <dialog ref={dialog} class="switcher" aria-label="Go to a room" onClose={closedUnlessReopened(dialog, onClose)}>
      <label class="sr-only" for="switcher-input">
        Go to a room or direct message
      </label>
      <input
        id="switcher-input"
        ref={input}
        role="combobox"
        aria-expanded="true"
        aria-controls="switcher-list"
        aria-activedescendant={chosen ? `switch-${chosen}` : undefined}
        autocomplete="off"
        placeholder="Go to a room or person"
        value={query}
        onInput={(e) => {
          setQuery((e.target as HTMLInputElement).value);
          setIndex(0);
        }}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
            e.preventDefault();
            const step = e.key === 'ArrowDown' ? 1 : -1;
            setIndex((Math.min(index, found.length - 1) + step + found.length) % Math.max(1, found.length));
          } else if (e.key === 'Enter') {
            e.preventDefault();
            go(chosen);
          }
        }}
      />
      <ul id="switcher-list" role="listbox" aria-label="Rooms and direct messages">
        {found.length === 0 && <li class="small muted">Nothing matches.</li>}
        {found.map((room) => (
          <li
            key={room}
            id={`switch-${room}`}
            role="option"
            aria-selected={room === chosen}
            class={room === chosen ? 'chosen' : ''}
            data-room={room}
            onClick={() => go(room)}
          >
            {roomLabel(room, client.user)}
          </li>
        ))}
      </ul>
    </dialog>
  );
}
