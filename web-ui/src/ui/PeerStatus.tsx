import type { ChatClient } from '../client/chat';
import { dmPeer } from '../client/protocol';
import { presenceText } from './format';
import { useNow } from './hooks';

/** Beside a DM's title: whether the other person is online, or when they were last seen ("5 min ago"). */
export function PeerStatus({ client, room }: { client: ChatClient; room: string }) {
  const now = useNow(30_000);
  const peer = dmPeer(room, client.user);
  const member = peer === null ? undefined : client.membersOf(room).find((m) => m.user === peer);
  if (!member) return null;
  return (
    <span class="peer-status small muted" data-status={member.status}>
      {presenceText(member.status, member.lastSeen, now)}
    </span>
  );
}
