import { Fragment } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { ChatClient } from '../client/chat';
import { dayKey, dayLabel, startsGroup } from './format';
import { roomLabel } from './labels';
import { Message } from './Message';

/**
 * The room's messages: sticks to the bottom (also when the composer grows), keeps the reader in
 * place when older pages load, always shows what the reader just sent, and offers "New messages ↓"
 * for others' messages only.
 */
export function MessageList({ client, room }: { client: ChatClient; room: string }) {
  const r = client.rooms.get(room)!;
  const messages = r.messages(client.user);
  const firstNew = r.dividerAfter > 0 ? messages.find((m) => m.seq !== undefined && m.seq > r.dividerAfter && m.from !== client.user)?.seq : undefined;
  const ref = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const prevFirst = useRef<string | undefined>(undefined);
  const prevHeight = useRef(0);
  const prevKeys = useRef(new Set<string>());
  const [newBelow, setNewBelow] = useState(false);
  const scrolledTo = useRef<object | null>(null);

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const first = messages[0]?.key;
    const added = messages.filter((m) => !prevKeys.current.has(m.key));
    // a message written here just now (shown before the server numbers it): the writer wants to see it
    const sentHere = added.some((m) => m.seq === undefined);
    if (atBottom.current || sentHere) {
      el.scrollTop = el.scrollHeight;
      atBottom.current = true;
      setNewBelow(false);
    } else if (prevFirst.current !== undefined && first !== prevFirst.current) {
      // older messages were prepended: keep what the reader looks at in place
      el.scrollTop += el.scrollHeight - prevHeight.current;
    } else if (added.some((m) => m.from !== client.user)) {
      setNewBelow(true);
    }
    // a search result to show: in the middle of the view, marked, and the reader is no longer at the end
    const mark = client.highlight;
    if (mark?.room === room && mark !== scrolledTo.current) {
      const target = el.querySelector<HTMLElement>(`[data-seq="${mark.seq}"]`);
      if (target) {
        target.scrollIntoView({ block: 'center' });
        atBottom.current = false;
        scrolledTo.current = mark; // once: later renders leave the reader where they scroll
      }
    }
    prevFirst.current = first;
    prevHeight.current = el.scrollHeight;
    prevKeys.current = new Set(messages.map((m) => m.key));
    // fill the view: load more while the list does not scroll yet
    if (el.scrollHeight <= el.clientHeight + 10 && r.hasMore && r.loadedNewest && !r.loadingOlder) void client.loadOlder(room);
  });

  // the view shrinks when the composer grows (a long paste) or the window does: keep the newest in sight
  useEffect(() => {
    const el = ref.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(() => {
      if (atBottom.current) el.scrollTop = el.scrollHeight;
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

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
