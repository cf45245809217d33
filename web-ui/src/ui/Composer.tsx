import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { ChatClient } from '../client/chat';
import { MAX_TEXT } from '../client/protocol';
import { roomLabel } from './labels';

/** The message box: Enter sends, Shift+Enter makes a newline; typing is announced. */
export function Composer({ client, room }: { client: ChatClient; room: string }) {
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
