import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import { closedUnlessReopened } from './dialogs';
import type { ChatClient } from '../client/chat';
import type { SearchResult } from '../client/protocol';
import { RequestError } from '../client/requests';
import { fullTime } from './format';
import { roomLabel } from './labels';

/**
 * Search (version 1.1): a modal dialog that asks the server for messages with every word typed, in
 * all of the user's rooms or only the one open; a result opens its room at the message.
 */
export function SearchPanel({ client, open, onClose }: { client: ChatClient; open: boolean; onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const input = useRef<HTMLInputElement>(null);
  const [query, setQuery] = useState('');
  const [here, setHere] = useState(false);
  const [results, setResults] = useState<SearchResult[] | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const active = client.active;

  useLayoutEffect(() => {
    const d = dialog.current;
    if (!d) return;
    if (open && !d.open) {
      setNote(null);
      d.showModal();
      input.current?.focus();
      input.current?.select();
    } else if (!open && d.open) {
      d.close();
    }
  }, [open]);

  async function search() {
    if (query.trim() === '') return;
    setNote(null);
    try {
      setResults(await client.search(query, here && active ? active : undefined));
    } catch (e) {
      setResults(null);
      setNote(e instanceof RequestError ? e.message : 'Search did not answer; try again.');
    }
  }

  async function show(result: SearchResult) {
    if (await client.reveal(result.room, result.seq)) onClose();
    else setNote('That message is too far back to show here; scroll up in the room to reach it.');
  }

  return (
    <dialog ref={dialog} class="switcher search-panel" aria-label="Search messages" onClose={closedUnlessReopened(dialog, onClose)}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void search();
        }}
      >
        <label class="sr-only" for="search-input">
          Search messages
        </label>
        <input
          id="search-input"
          ref={input}
          type="search"
          autocomplete="off"
          placeholder="Search messages"
          maxLength={200}
          value={query}
          onInput={(e) => setQuery((e.target as HTMLInputElement).value)}
        />
        {active && (
          <label class="small">
            <input type="checkbox" checked={here} onChange={(e) => setHere((e.target as HTMLInputElement).checked)} /> only in{' '}
            {roomLabel(active, client.user)}
          </label>
        )}
      </form>
      {note && (
        <p class="small error" role="alert">
          {note}
        </p>
      )}
      {results && (
        <ul class="search-results" aria-label="Results">
          {results.length === 0 && <li class="small muted">No message has every word.</li>}
          {results.map((r) => (
            <li key={`${r.room}-${r.seq}`}>
              <button class="result" onClick={() => void show(r)} title={fullTime(r.ts)}>
                <span class="small muted">
                  {roomLabel(r.room, client.user)} · {r.from}
                </span>
                <span class="result-text">{r.text}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </dialog>
  );
}
