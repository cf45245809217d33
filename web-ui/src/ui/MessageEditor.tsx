import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import { MAX_TEXT } from '../client/protocol';

/** Edits a message in place: Enter saves, Shift+Enter makes a newline, Escape cancels. */
export function MessageEditor({ initial, onSave, onCancel }: { initial: string; onSave: (text: string) => void; onCancel: () => void }) {
  const [text, setText] = useState(initial);
  const ref = useRef<HTMLTextAreaElement>(null);
  const length = [...text.trim()].length;
  const valid = length > 0 && length <= MAX_TEXT;

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.focus();
    el.setSelectionRange(el.value.length, el.value.length);
  }, []);

  function save() {
    if (text.trim() === initial.trim()) onCancel(); // nothing changed: no event
    else if (valid) onSave(text);
  }

  return (
    <div class="msg-editor">
      <label class="sr-only" for="edit-message">
        Edit message
      </label>
      <textarea
        id="edit-message"
        ref={ref}
        value={text}
        rows={Math.min(8, text.split('\n').length)}
        onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            save();
          } else if (e.key === 'Escape') {
            e.preventDefault(); // the page's Escape (drawers) must not see it
            e.stopPropagation();
            onCancel();
          }
        }}
      />
      <span class="small muted">
        Enter to save · Escape to cancel{' '}
        <button class="link small" onClick={save} disabled={!valid}>
          Save
        </button>{' '}
        <button class="link small" onClick={onCancel}>
          Cancel
        </button>
      </span>
    </div>
  );
}
