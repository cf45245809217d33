import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { LoginError, type ChatClient } from '../client/chat';
import { dmPeer, isDmRoom, isValidRoom, isValidUser, MAX_TEXT, normalizeName } from '../client/protocol';
import type { DisplayMessage } from '../client/room';
import { loadSession, saveSession } from './browser';
import { lastSeen, startsGroup, timeOf, typingText } from './format';

function useClient(client: ChatClient): number {
  const [, setVersion] = useState(0);
  useEffect(() => client.subscribe(() => setVersion(client.version)), [client]);
  return client.version;
}

function useNow(everyMs: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}

export function App({ client }: { client: ChatClient }) {
  useClient(client);
  const [signedIn, setSignedIn] = useState(false);
  const [resumeError, setResumeError] = useState('');

  useEffect(() => {
    const s = loadSession();
    if (s) {
      setSignedIn(true);
      client.start(s.user, { token: s.token }).catch((e) => {
        setSignedIn(false);
        setResumeError(String(e instanceof Error ? e.message : e));
      });
    }
  }, [client]);

  if (!signedIn || client.authError) {
    return (
      <SignIn
        initialError={client.authError?.message ?? resumeError}
        onSignIn={async (user, password) => {
          await client.start(user, { password });
          setSignedIn(true);
        }}
      />
    );
  }
  return (
    <Chat
      client={client}
      onSignOut={() => {
        client.stop();
        saveSession(null);
        setSignedIn(false);
      }}
    />
  );
}

function SignIn({ onSignIn, initialError }: { onSignIn: (user: string, password?: string) => Promise<void>; initialError: string }) {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [needPassword, setNeedPassword] = useState(false);
  const [error, setError] = useState(initialError);
  const [busy, setBusy] = useState(false);
  const user = normalizeName(name);

  async function submit(e: Event) {
    e.preventDefault();
    if (!isValidUser(user)) {
      setError('Use 1–32 characters: a–z, 0–9, dot, dash or underscore.');
      return;
    }
    setBusy(true);
    setError('');
    try {
      await onSignIn(user, needPassword ? password : undefined);
    } catch (err) {
      if (err instanceof LoginError && err.status === 401) {
        setNeedPassword(true);
        setError(needPassword ? 'Wrong password.' : 'This server needs a password.');
      } else {
        setError(err instanceof Error ? err.message : String(err));
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <main class="signin">
      <form class="signin-card" onSubmit={submit} aria-labelledby="signin-title">
        <div class="logo" aria-hidden="true">●</div>
        <h1 id="signin-title">Pulse</h1>
        <p class="muted">Pick a name to start chatting.</p>
        <label for="signin-name">Your name</label>
        <input
          id="signin-name"
          name="user"
          autoComplete="username"
          autoFocus
          maxLength={32}
          value={name}
          onInput={(e) => setName((e.target as HTMLInputElement).value)}
          placeholder="e.g. alice"
        />
        {needPassword && (
          <>
            <label for="signin-password">Password</label>
            <input
              id="signin-password"
              type="password"
              autoComplete="current-password"
              value={password}
              onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
            />
          </>
        )}
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy || name.trim() === ''}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}

function roomLabel(room: string, me: string): string {
  const peer = dmPeer(room, me);
  return peer ?? `# ${room}`;
}

function Chat({ client, onSignOut }: { client: ChatClient; onSignOut: () => void }) {
  const [navOpen, setNavOpen] = useState(false);
  const [membersOpen, setMembersOpen] = useState(false);
  const active = client.active;
  const room = active ? client.rooms.get(active) : undefined;

  useEffect(() => {
    const unread = [...client.rooms.values()].reduce((n, r) => n + r.unread, 0);
    document.title = unread > 0 ? `(${unread}) Pulse` : active ? `${roomLabel(active, client.user)} · Pulse` : 'Pulse';
  });

  return (
    <div class={`app ${navOpen ? 'nav-open' : ''} ${membersOpen ? 'members-open' : ''}`}>
      <a class="skip" href="#composer">
        Skip to message box
      </a>
      <Banner client={client} />
      <div class="shell">
        <Sidebar client={client} onPick={() => setNavOpen(false)} onSignOut={onSignOut} />
        <main class="room" aria-label={active ? roomLabel(active, client.user) : 'No room'}>
          <header class="room-header">
            <button class="icon only-narrow" aria-label="Rooms" aria-expanded={navOpen} onClick={() => setNavOpen(!navOpen)}>
              <svg width="18" height="18" viewBox="0 0 24 24" aria-hidden="true">
                <path d="M3 6h18M3 12h18M3 18h18" stroke="currentColor" stroke-width="2" stroke-linecap="round" />
              </svg>
            </button>
            <h2 class="room-title">{active ? roomLabel(active, client.user) : 'No room'}</h2>
            {room?.error && <span class="error small">{room.error}</span>}
            <button class="icon members-toggle" aria-label="Members" aria-expanded={membersOpen} onClick={() => setMembersOpen(!membersOpen)}>
              <svg width="18" height="18" viewBox="0 0 24 24" aria-hidden="true">
                <circle cx="9" cy="8" r="3.5" fill="none" stroke="currentColor" stroke-width="2" />
                <path d="M2.5 20c.8-3.8 3.4-6 6.5-6s5.7 2.2 6.5 6M16 4.8a3.5 3.5 0 0 1 0 6.4M18.5 14.5c1.6.9 2.6 2.8 3 5.5" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" />
              </svg>{' '}
              <span class="count">{active ? client.membersOf(active).filter((m) => m.status === 'online').length : 0}</span>
            </button>
          </header>
          {active && room ? (
            <>
              <MessageList client={client} room={active} key={active} />
              <TypingLine client={client} room={active} />
              <Composer client={client} room={active} key={`c-${active}`} />
            </>
          ) : (
            <p class="empty">Join a room to start.</p>
          )}
        </main>
        <Members client={client} room={active} onPick={() => setMembersOpen(false)} />
      </div>
      {(navOpen || membersOpen) && (
        <div
          class="scrim"
          aria-hidden="true"
          onClick={() => {
            setNavOpen(false);
            setMembersOpen(false);
          }}
        />
      )}
    </div>
  );
}

function Banner({ client }: { client: ChatClient }) {
  const now = useNow(1000);
  const s = client.state;
  if (s === 'online' || s === 'idle') return null;
  const secs = Math.max(0, Math.ceil((client.nextRetryAt - now) / 1000));
  let text: string;
  if (s === 'connecting') text = 'Connecting…';
  else if (s === 'reconnecting') text = client.nextRetryAt > now ? `Connection lost. Reconnecting in ${secs}s…` : 'Reconnecting…';
  else text = client.nextRetryAt > now ? `Offline. Retrying in ${secs}s.` : 'Offline. Retrying…';
  return (
    <div class={`banner ${s}`} data-state={s} role="status" aria-live="polite">
      <span>{text}</span>
      {s !== 'connecting' && (
        <button class="link" onClick={() => client.retryNow()}>
          Retry now
        </button>
      )}
    </div>
  );
}

function Sidebar({ client, onPick, onSignOut }: { client: ChatClient; onPick: () => void; onSignOut: () => void }) {
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

function MessageList({ client, room }: { client: ChatClient; room: string }) {
  const r = client.rooms.get(room)!;
  const messages = r.messages(client.user);
  const ref = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const prevFirst = useRef<string | undefined>(undefined);
  const prevHeight = useRef(0);
  const prevCount = useRef(0);
  const [newBelow, setNewBelow] = useState(false);

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const first = messages[0]?.key;
    if (atBottom.current) {
      el.scrollTop = el.scrollHeight;
      setNewBelow(false);
    } else if (prevFirst.current !== undefined && first !== prevFirst.current) {
      // older messages were prepended: keep what the reader looks at in place
      el.scrollTop += el.scrollHeight - prevHeight.current;
    } else if (messages.length > prevCount.current) {
      setNewBelow(true);
    }
    prevFirst.current = first;
    prevHeight.current = el.scrollHeight;
    prevCount.current = messages.length;
    // fill the view: load more while the list does not scroll yet
    if (el.scrollHeight <= el.clientHeight + 10 && r.hasMore && r.loadedNewest && !r.loadingOlder) void client.loadOlder(room);
  });

  function onScroll() {
    const el = ref.current;
    if (!el) return;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 48;
    if (atBottom.current) setNewBelow(false);
    if (el.scrollTop < 120) void client.loadOlder(room);
  }

  function jumpDown() {
    const el = ref.current;
    if (!el) return;
    el.scrollTop = el.scrollHeight;
    atBottom.current = true;
    setNewBelow(false);
  }

  return (
    <div class="messages-wrap">
      <div class="messages" ref={ref} onScroll={onScroll} role="log" aria-live="polite" aria-label="Messages" tabIndex={0}>
        <div class="history-edge">
          {r.loadingOlder ? (
            <span class="muted">Loading older messages…</span>
          ) : r.hasMore && r.loadedNewest ? (
            <button class="link" onClick={() => client.loadOlder(room)}>
              Load older messages
            </button>
          ) : r.loadedNewest ? (
            <span class="muted beginning">This is the beginning of {roomLabel(room, client.user)}.</span>
          ) : (
            <span class="muted">Loading…</span>
          )}
        </div>
        {messages.map((m, i) => (
          <Message key={m.key} m={m} first={startsGroup(messages[i - 1], m)} mine={m.from === client.user} client={client} room={room} />
        ))}
      </div>
      {newBelow && (
        <button class="new-below" onClick={jumpDown}>
          New messages ↓
        </button>
      )}
    </div>
  );
}

function Message({ m, first, mine, client, room }: { m: DisplayMessage; first: boolean; mine: boolean; client: ChatClient; room: string }) {
  const state = m.state ?? (mine ? 'acked' : undefined);
  return (
    <article class={`msg ${first ? 'first' : 'cont'} ${mine ? 'mine' : ''} ${state ?? ''}`} data-seq={m.seq} data-id={m.id} data-from={m.from} data-state={state}>
      {first ? (
        <span class="avatar" aria-hidden="true" style={{ background: colorOf(m.from) }}>
          {m.from.slice(0, 1).toUpperCase()}
        </span>
      ) : (
        <span class="gutter" aria-hidden="true" />
      )}
      <div class="msg-body">
        {first && (
          <header class="msg-head">
            <span class="from">{m.from}</span>
            <time dateTime={m.ts} title={new Date(m.ts).toLocaleString()}>
              {timeOf(m.ts)}
            </time>
          </header>
        )}
        <p class="msg-text">{m.text}</p>
        {state === 'pending' && <span class="state muted small">sending…</span>}
        {state === 'failed' && (
          <span class="state failed small" role="alert">
            Not sent{m.error ? `: ${m.error}` : ''}.{' '}
            <button class="link" onClick={() => client.retry(room, m.id)}>
              Retry
            </button>{' '}
            <button class="link" onClick={() => client.discard(room, m.id)}>
              Discard
            </button>
          </span>
        )}
      </div>
    </article>
  );
}

function TypingLine({ client, room }: { client: ChatClient; room: string }) {
  const users = client.rooms.get(room)?.typingUsers(Date.now()) ?? [];
  return (
    <div class="typing" aria-live="polite">
      {typingText(users)}
    </div>
  );
}

function Composer({ client, room }: { client: ChatClient; room: string }) {
  const [text, setText] = useState('');
  const ref = useRef<HTMLTextAreaElement>(null);
  const tooLong = [...text.trim()].length > MAX_TEXT;

  useEffect(() => {
    if (matchMedia('(min-width: 760px)').matches) ref.current?.focus();
  }, [room]);

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, 200)}px`;
  }, [text]);

  function send() {
    const t = text.trim();
    if (t === '' || tooLong) return;
    client.send(room, text);
    setText('');
  }

  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
    >
      <label class="sr-only" for="composer">
        Message {roomLabel(room, client.user)}
      </label>
      <textarea
        id="composer"
        ref={ref}
        rows={1}
        value={text}
        placeholder={`Message ${roomLabel(room, client.user)}`}
        onInput={(e) => {
          setText((e.target as HTMLTextAreaElement).value);
          client.typing(room);
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            send();
          }
        }}
      />
      {tooLong && <span class="error small">Too long ({[...text.trim()].length}/{MAX_TEXT})</span>}
      <button type="submit" class="primary" disabled={text.trim() === '' || tooLong} aria-label="Send">
        Send
      </button>
    </form>
  );
}

function Members({ client, room, onPick }: { client: ChatClient; room: string | null; onPick: () => void }) {
  const now = useNow(30_000);
  const members = room ? client.membersOf(room) : [];
  return (
    <aside class="members" aria-label="Members">
      <h3>Members</h3>
      <ul>
        {members.map((m) => (
          <li key={m.user} class="member" data-user={m.user} data-status={m.status}>
            <span class={`dot ${m.status}`} aria-hidden="true" />
            <div>
              {m.user === client.user ? (
                <span class="member-name">{m.user} (you)</span>
              ) : (
                <button
                  class="link member-name"
                  title={`Message ${m.user}`}
                  onClick={() => {
                    client.openDm(m.user);
                    onPick();
                  }}
                >
                  {m.user}
                </button>
              )}
              <span class="member-status small muted">{m.status === 'online' ? 'online' : lastSeen(m.lastSeen, now)}</span>
            </div>
          </li>
        ))}
      </ul>
    </aside>
  );
}

function colorOf(name: string): string {
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) % 360;
  return `hsl(${h} 55% 45%)`;
}
