import { useEffect, useRef, useState } from 'preact/hooks';
import type { ChatClient } from '../client/chat';
import { Banner } from './Banner';
import { Composer } from './Composer';
import { useMedia } from './hooks';
import { roomLabel } from './labels';
import { Members } from './Members';
import { PeerStatus } from './PeerStatus';
import { MessageList } from './MessageList';
import { QuickSwitcher } from './QuickSwitcher';
import { SearchPanel } from './SearchPanel';
import { saveOrder, storedOrder, type RoomOrder } from './rooms';
import { useShortcuts } from './shortcuts';
import { Sidebar } from './Sidebar';
import { TypingLine } from './TypingLine';

/** The widths below which the members panel (900) and the rooms sidebar (640) become drawers (styles.css). */
const MEMBERS_DRAWER = '(max-width: 900px)';
const ROOMS_DRAWER = '(max-width: 640px)';

/**
 * The signed-in layout: banner, rooms sidebar, the active room and its members. On narrow screens
 * the sidebar and the members are drawers: a hidden drawer is inert (Tab never walks into it), an
 * open one has its own close button above the backdrop, and Escape closes it and gives the focus
 * back to the button that opened it.
 */
export function Chat({ client, onSignOut }: { client: ChatClient; onSignOut: () => void }) {
  const [navOpen, setNavOpen] = useState(false);
  const [membersOpen, setMembersOpen] = useState(false);
  const [switcherOpen, setSwitcherOpen] = useState(false);
  const [searchOpen, setSearchOpen] = useState(false);
  const [order, setOrder] = useState<RoomOrder>(storedOrder);
  const membersDrawer = useMedia(MEMBERS_DRAWER);
  const roomsDrawer = useMedia(ROOMS_DRAWER);
  const navToggle = useRef<HTMLButtonElement>(null);
  const membersToggle = useRef<HTMLButtonElement>(null);
  const active = client.active;
  const room = active ? client.rooms.get(active) : undefined;
  const online = active ? client.membersOf(active).filter((m) => m.status === 'online').length : 0;
  // the phone's ☰ shows a mark while another room has unread messages
  const unreadElsewhere = [...client.rooms.values()].some((r) => r.name !== active && r.unread > 0);

  function closeDrawers() {
    if (navOpen) navToggle.current?.focus();
    else if (membersOpen) membersToggle.current?.focus();
    setNavOpen(false);
    setMembersOpen(false);
  }
  useShortcuts(client, order, { openSwitcher: () => setSwitcherOpen(true), escape: closeDrawers });

  useEffect(() => {
    const unread = [...client.rooms.values()].reduce((n, r) => n + r.unread, 0);
    document.title = unread > 0 ? `(${unread}) Pulse` : active ? `${roomLabel(active, client.user)} · Pulse` : 'Pulse';
  });
  // the title names a room or DM peer: it must not outlive the signed-in view
  useEffect(() => () => void (document.title = 'Pulse'), []);

  return (
    <div class={`app ${navOpen ? 'nav-open' : ''} ${membersOpen ? 'members-open' : ''}`}>
      <a class="skip" href="#composer">
        Skip to message box
      </a>
      <Banner client={client} />
      <div class="shell">
        <Sidebar
          client={client}
          order={order}
          onOrder={(o) => {
            saveOrder(o);
            setOrder(o);
          }}
          hidden={roomsDrawer && !navOpen}
          onClose={roomsDrawer ? closeDrawers : undefined}
          onPick={() => setNavOpen(false)}
          onSignOut={onSignOut}
        />
        <main class="room" aria-label={active ? roomLabel(active, client.user) : 'No room'}>
          <header class="room-header">
            <button
              ref={navToggle}
              class={`icon only-narrow ${unreadElsewhere ? 'has-unread' : ''}`}
              aria-label={unreadElsewhere ? 'Rooms, unread messages' : 'Rooms'}
              aria-expanded={navOpen}
              onClick={() => setNavOpen(!navOpen)}
            >
              <svg width="18" height="18" viewBox="0 0 24 24" aria-hidden="true">
                <path d="M3 6h18M3 12h18M3 18h18" stroke="currentColor" stroke-width="2" stroke-linecap="round" />
              </svg>
            </button>
            <h2 class="room-title">{active ? roomLabel(active, client.user) : 'No room'}</h2>
            {active && <PeerStatus client={client} room={active} />}
            {room?.error && <span class="error small">{room.error}</span>}
            <button class="icon search-toggle" aria-label="Search messages" onClick={() => setSearchOpen(true)}>
              <svg width="18" height="18" viewBox="0 0 24 24" aria-hidden="true">
                <circle cx="10.5" cy="10.5" r="6.5" fill="none" stroke="currentColor" stroke-width="2" />
                <path d="M15.5 15.5 21 21" stroke="currentColor" stroke-width="2" stroke-linecap="round" />
              </svg>
            </button>
            {active && (
              <button class="secondary leave-room" onClick={() => client.close(active)} aria-label={`Leave ${roomLabel(active, client.user)}`}>
                Leave
              </button>
            )}
            <button ref={membersToggle} class="icon members-toggle" aria-label={`Members, ${online} online`} aria-expanded={membersOpen} onClick={() => setMembersOpen(!membersOpen)}>
              <svg width="18" height="18" viewBox="0 0 24 24" aria-hidden="true">
                <circle cx="9" cy="8" r="3.5" fill="none" stroke="currentColor" stroke-width="2" />
                <path d="M2.5 20c.8-3.8 3.4-6 6.5-6s5.7 2.2 6.5 6M16 4.8a3.5 3.5 0 0 1 0 6.4M18.5 14.5c1.6.9 2.6 2.8 3 5.5" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" />
              </svg>{' '}
              <span class="count">{online}</span>
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
        <Members
          client={client}
          room={active}
          hidden={membersDrawer && !membersOpen}
          onClose={membersDrawer ? closeDrawers : undefined}
          onPick={() => setMembersOpen(false)}
        />
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
      <QuickSwitcher client={client} order={order} open={switcherOpen} onClose={() => setSwitcherOpen(false)} />
      <SearchPanel client={client} open={searchOpen} onClose={() => setSearchOpen(false)} />
    </div>
  );
}
