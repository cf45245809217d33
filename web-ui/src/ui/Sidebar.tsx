import { useState } from 'preact/hooks';
import type { ChatClient } from '../client/chat';
import type { DirectoryEntry } from '../client/protocol';
import { dmPeer, isDmRoom, isValidRoom, isValidUser, normalizeName } from '../client/protocol';
import type { RoomState } from '../client/room';
import { DrawerClose } from './DrawerClose';
import { presenceText } from './format';
import { useNow } from './hooks';
import { colorOf, roomLabel } from './labels';
import { sidebarRooms, type RoomOrder } from './rooms';
import { useTheme } from './theme';

const members = (n: number) => (n === 1 ? '1 member' : `${n} members`);

/**
 * Rooms and DMs (unread ones in bold, with badges; DMs with the person's presence), in the chosen
 * order, forms to join a room or message a user, and sign-out. On a phone it is a drawer: `hidden`
 * makes it inert, `onClose` gives it a close button.
 */
export function Sidebar({
  client,
  order,
  onOrder,
  hidden,
  onClose,
  onPick,
  onSignOut,
}: {
  client: ChatClient;
  order: RoomOrder;
  onOrder: (order: RoomOrder) => void;
  hidden: boolean;
  onClose?: () => void;
  onPick: () => void;
  onSignOut: () => void;
}) {
  const theme = useTheme();
  const now = useNow(30_000);
  const [roomInput, setRoomInput] = useState('');
  const [dmInput, setDmInput] = useState('');
  const [error, setError] = useState('');
  const [browsing, setBrowsing] = useState<DirectoryEntry[] | null>(null);
  const [browseQuery, setBrowseQuery] = useState('');
  /** What the directory says of the name in the join box: null while unknown. */
  const [known, setKnown] = useState<{ name: string; room?: DirectoryEntry } | null>(null);
  const { channels, dms } = sidebarRooms(client, order);

  function pick(name: string) {
    client.setActive(name);
    onPick();
  }

  function joinRoom(e: Event) {
    e.preventDefault();
    const name = normalizeName(roomInput);
    if (!isValidRoom(name) || isDmRoom(name)) {
      setError('Room names: a–z, 0–9, dot, dash, underscore; up to 64.');
      return;
    }
    setError('');
    setRoomInput('');
    client.open(name);
    onPick();
  }

  /** The directory: public rooms whose name contains the query, most members first. */
  async function browse(query: string) {
    setBrowseQuery(query);
    try {
      setBrowsing(await client.browse(normalizeName(query)));
    } catch {
      setError('The room directory is unavailable; try again.');
    }
  }

  /** "Join or create" says which, from the directory. */
  async function lookUp(name: string) {
    try {
      const rooms = await client.browse(name, 100);
      setKnown({ name, room: rooms.find((r) => r.room === name) });
    } catch {
      setKnown(null);
    }
  }

  const typed = normalizeName(roomInput);
  const existing = known?.name === typed ? known.room : undefined;
  const joinLabel = known?.name !== typed ? 'Join or create a room' : existing ? `Join #${typed}` : `Create #${typed}`;

  function openDm(e: Event) {
    e.preventDefault();
    const peer = normalizeName(dmInput);
    if (!isValidUser(peer) || peer === client.user) {
      setError(peer === client.user ? 'Pick someone else to message.' : 'Not a valid user name.');
      return;
    }
    setError('');
    setDmInput('');
    client.openDm(peer);
    onPick();
  }

  const item = (r: RoomState) => {
    const { name, unread, mentions } = r;
    const peer = dmPeer(name, client.user);
    const member = peer === null ? undefined : client.membersOf(name).find((m) => m.user === peer);
    const presence = peer === null ? undefined : (member?.status ?? 'unknown');
    return (
      <li key={name}>
        <button
          class={`room-link ${client.active === name ? 'active' : ''} ${unread > 0 ? 'unread' : ''}`}
          data-room={name}
          aria-current={client.active === name ? 'page' : undefined}
          onClick={() => pick(name)}
        >
          {presence && <span class={`dot ${presence}`} data-status={presence} aria-hidden="true" />}
          <span class="room-name">
            {roomLabel(name, client.user)}
            {presence && <span class="sr-only">, {presenceText(presence, member?.lastSeen, now)}</span>}
          </span>
          {mentions > 0 && (
            <span class="badge mention-badge" aria-label={`${mentions} mentions`}>
              @{mentions > 99 ? '99+' : mentions}
            </span>
          )}
          {unread > 0 && (
            <span class="badge" aria-label={`${unread} unread`}>
              {unread > 99 ? '99+' : unread}
            </span>
          )}
        </button>
      </li>
    );
  };

  return (
    <nav class="sidebar" aria-label="Rooms and direct messages" inert={hidden}>
      <header class="me">
        <span class="avatar" aria-hidden="true" style={{ background: colorOf(client.user) }}>
          {client.user.slice(0, 1).toUpperCase()}
        </span>
        <span class="me-name">{client.user}</span>
        <button class="theme-toggle" aria-label="Dark theme" aria-pressed={theme.dark} title={theme.dark ? 'Use the light theme' : 'Use the dark theme'} onClick={theme.toggle}>
          <span aria-hidden="true">{theme.dark ? '☀' : '☾'}</span>
        </button>
        <button class="link" onClick={onSignOut}>
          Sign out
        </button>
        {onClose && <DrawerClose label="Close rooms" open={!hidden} onClose={onClose} />}
      </header>
      <div class="list-head">
        <h3>Rooms</h3>
        <label class="sr-only" for="room-order">
          Order rooms by
        </label>
        <select id="room-order" value={order} onChange={(e) => onOrder((e.target as HTMLSelectElement).value as RoomOrder)}>
          <option value="activity">Recent</option>
          <option value="joined">Joined</option>
        </select>
      </div>
      <ul class="room-list">{channels.map(item)}</ul>
      <form class="mini-form" onSubmit={joinRoom}>
        <label class="sr-only" for="join-room">
          Join or create a room
        </label>
        <input
          id="join-room"
          placeholder="Join or create a room"
          value={roomInput}
          onInput={(e) => {
            const value = (e.target as HTMLInputElement).value;
            setRoomInput(value);
            if (isValidRoom(normalizeName(value)) && !isDmRoom(normalizeName(value))) void lookUp(normalizeName(value));
          }}
        />
        <button type="submit" aria-label={joinLabel} title={joinLabel}>
          +
        </button>
      </form>
      {typed && isValidRoom(typed) && known?.name === typed && (
        <p class="small muted join-hint">{existing ? `#${typed} exists: ${members(existing.members)}` : `#${typed} is new: it will be created`}</p>
      )}
      <button class="link browse-rooms" onClick={() => (browsing ? setBrowsing(null) : void browse(''))}>
        {browsing ? 'Hide the room directory' : 'Browse rooms'}
      </button>
      {browsing && (
        <section class="directory" aria-label="Room directory">
          <label class="sr-only" for="directory-query">
            Search rooms
          </label>
          <input id="directory-query" placeholder="Search rooms" value={browseQuery} onInput={(e) => void browse((e.target as HTMLInputElement).value)} />
          <ul class="room-list">
            {browsing.length === 0 && <li class="small muted">No rooms found.</li>}
            {browsing.map((r) => (
              <li key={r.room}>
                <button
                  class="room-link directory-room"
                  data-room={r.room}
                  onClick={() => {
                    client.open(r.room);
                    setBrowsing(null);
                    onPick();
                  }}
                >
                  <span class="room-name">#{r.room}</span>
                  <span class="small muted">{members(r.members)}</span>
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
      <h3>Direct messages</h3>
      <ul class="room-list">{dms.map(item)}</ul>
      <form class="mini-form" onSubmit={openDm}>
        <label class="sr-only" for="dm-user">
          Message a user
        </label>
        <input id="dm-user" placeholder="Message a user" value={dmInput} onInput={(e) => setDmInput((e.target as HTMLInputElement).value)} />
        <button type="submit" aria-label="Open direct message">
          +
        </button>
      </form>
      {error && (
        <p class="error small" role="alert">
          {error}
        </p>
      )}
      <footer class="node" title="The Pulse node this page is connected to">
        {client.node ? `node ${client.node}` : 'not connected'}
      </footer>
    </nav>
  );
}
