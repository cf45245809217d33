import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { ChatClient } from '../client/chat';
import { MAX_TEXT } from '../client/protocol';
import { roomLabel } from './labels';

/** The message box: Enter sends, Shift+Enter makes a newline, ↑ when empty edits one's last message; typing is announced. */
export function Composer({ client, room }: { client: ChatClient; room: string }) {
  // Each room keeps its own draft (in the client, so sign-out forgets them with the rest).
  const [text, setText] = useState(() => client.draftOf(room));
  const shown = useRef(room);
  const ref = useRef<HTMLTextAreaElement>(null);
  const tooLong = [...text.trim()].length > MAX_TEXT;

  useEffect(() => {
    if (shown.current !== room) {
      shown.current = room;
      setText(client.draftOf(room));
    }
    if (matchMedia('(min-width: 760px)').matches) ref.current?.focus();
  }, [room]);

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    // grows with its text; the CSS max-height bounds it (the message list shrinks and stays at its end)
    el.style.height = 'auto';
    el.style.height = `${el.scrollHeight + el.offsetHeight - el.clientHeight}px`; // plus the borders
  }, [text]);

  function send() {
    const t = text.trim();
    if (t === '' || tooLong) return;
    client.send(room, text);
    client.setDraft(room, '');
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
          const value = (e.target as HTMLTextAreaElement).value;
          setText(value);
          client.setDraft(room, value);
          client.typing(room);
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            send();
          } else if (e.key === 'ArrowUp' && text === '') {
            // as in Slack and Discord: ↑ in an empty box edits one's last message
            const last = client.lastOwnMessage(room);
            if (last !== undefined) {
              e.preventDefault();
              client.startEditing(room, last);
            }
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
