import type { ChatClient } from '../client/chat';
import { DrawerClose } from './DrawerClose';
import { presenceText } from './format';
import { useNow } from './hooks';

/** The room's members with presence; a click opens a DM. A drawer on narrow screens (see Sidebar). */
export function Members({
  client,
  room,
  hidden,
  onClose,
  onPick,
}: {
  client: ChatClient;
  room: string | null;
  hidden: boolean;
  onClose?: () => void;
  onPick: () => void;
}) {
  const now = useNow(30_000);
  const members = room ? client.membersOf(room) : [];
  return (
    <aside class="members" aria-label="Members" inert={hidden}>
      <header class="drawer-head">
        <h3>Members</h3>
        {onClose && <DrawerClose label="Close members" open={!hidden} onClose={onClose} />}
      </header>
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
              <span class="member-status small muted">
                {presenceText(m.status, m.lastSeen, now)}
              </span>
            </div>
          </li>
        ))}
      </ul>
    </aside>
  );
}
