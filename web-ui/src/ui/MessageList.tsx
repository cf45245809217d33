import { Fragment } from 'preact';
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { ChatClient } from '../client/chat';
import { dayKey, dayLabel, startsGroup } from './format';
import { roomLabel } from './labels';
import { Message } from './Message';

/** The room's messages: sticks to the bottom, keeps the reader in place when older pages load. */
export function MessageList({ client, room }: { client: ChatClient; room: string }) {
  const r = client.rooms.get(room)!;
  const messages = r.messages(client.user);
  const firstNew = r.dividerAfter > 0 ? messages.find((m) => m.seq !== undefined && m.seq > r.dividerAfter && m.from !== client.user)?.seq : undefined;
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
          <Fragment key={m.key}>
            {(i === 0 || dayKey(messages[i - 1].ts) !== dayKey(m.ts)) && (
              <div class="day-divider" role="separator">
                {dayLabel(m.ts, Date.now())}
              </div>
            )}
            {/* the read marker as it was when the room was opened: where the new messages start */}
            {m.seq !== undefined && m.seq === firstNew && (
              <div class="new-divider" role="separator">
                New messages
              </div>
            )}
            <Message m={m} first={startsGroup(messages[i - 1], m) || (i > 0 && dayKey(messages[i - 1].ts) !== dayKey(m.ts))} mine={m.from === client.user} client={client} room={room} />
          </Fragment>
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
