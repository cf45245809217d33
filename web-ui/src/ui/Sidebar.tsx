import { useState } from 'preact/hooks';
import type { ChatClient } from '../client/chat';
import { isDmRoom, isValidRoom, isValidUser, normalizeName } from '../client/protocol';
import { colorOf, roomLabel } from './labels';

/** Rooms and DMs with unread badges, forms to join a room or message a user, and sign-out. */
export function Sidebar({ client, onPick, onSignOut }: { client: ChatClient; onPick: () => void; onSignOut: () => void }) {
  const [roomInput, setRoomInput] = useState('');
  const [dmInput, setDmInput] = useState('');
  const [error, setError] = useState('');
  const rooms = [...client.rooms.values()];
  const channels = rooms.filter((r) => !isDmRoom(r.name));
  const dms = rooms.filter((r) => isDmRoom(r.name));

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

  const item = (name: string, unread: number) => (
    <li key={name}>
      <button
        class={`room-link ${client.active === name ? 'active' : ''}`}
        data-room={name}
        aria-current={client.active === name ? 'page' : undefined}
        onClick={() => pick(name)}
      >
        <span class="room-name">{roomLabel(name, client.user)}</span>
        {unread > 0 && (
          <span class="badge" aria-label={`${unread} unread`}>
            {unread > 99 ? '99+' : unread}
          </span>
        )}
      </button>
    </li>
  );

  return (
    <nav class="sidebar" aria-label="Rooms and direct messages">
      <header class="me">
        <span class="avatar" aria-hidden="true" style={{ background: colorOf(client.user) }}>
          {client.user.slice(0, 1).toUpperCase()}
        </span>
        <span class="me-name">{client.user}</span>
        <button class="link" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <h3>Rooms</h3>
      <ul class="room-list">{channels.map((r) => item(r.name, r.unread))}</ul>
      <form class="mini-form" onSubmit={joinRoom}>
        <label class="sr-only" for="join-room">
          Join or create a room
        </label>
        <input id="join-room" placeholder="Join or create a room" value={roomInput} onInput={(e) => setRoomInput((e.target as HTMLInputElement).value)} />
        <button type="submit" aria-label="Join room">
          +
        </button>
      </form>
      <h3>Direct messages</h3>
      <ul class="room-list">{dms.map((r) => item(r.name, r.unread))}</ul>
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
