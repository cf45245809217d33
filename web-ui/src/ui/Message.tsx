import { useState } from 'preact/hooks';
import type { ChatClient } from '../client/chat';
import type { DisplayMessage } from '../client/room';
import { RequestError } from '../client/requests';
import { fullTime, timeOf } from './format';
import { colorOf } from './labels';
import { MessageEditor } from './MessageEditor';
import { Reactions } from './Reactions';
import { RichText } from './RichText';

/**
 * One message: its send state (pending, failed with retry/discard) for own messages, and (version
 * 1.1) its reactions, the "edited" mark, a placeholder once deleted, and its actions: react, and for
 * one's own, edit in place and delete after a confirmation.
 */
export function Message({ m, first, mine, client, room }: { m: DisplayMessage; first: boolean; mine: boolean; client: ChatClient; room: string }) {
  const [error, setError] = useState<string | null>(null);
  const state = m.state ?? (mine ? 'acked' : undefined);
  // Version 1.1's mentions: a message from someone else that names the reader stands out.
  const mentionsMe = !mine && (m.mentions ?? []).includes(client.user);
  const seq = m.seq;
  const confirmed = seq !== undefined && state !== 'pending' && state !== 'failed';
  const editing = confirmed && client.editing?.room === room && client.editing.seq === seq;
  const highlighted = client.highlight?.room === room && client.highlight.seq === seq;

  /** Runs a change of this message; its result arrives as a room event, a refusal is shown here. */
  function change(action: Promise<void>) {
    setError(null);
    action.catch((e: unknown) => setError(e instanceof RequestError ? e.message : 'no answer; try again'));
  }

  return (
    <article
      class={`msg ${first ? 'first' : 'cont'} ${mine ? 'mine' : ''} ${mentionsMe ? 'mentions-me' : ''} ${state ?? ''} ${m.deleted ? 'deleted' : ''} ${highlighted ? 'highlight' : ''}`}
      data-seq={seq}
      data-id={m.id}
      data-from={m.from}
      data-state={state}
      title={fullTime(m.ts)}
    >
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
            <time dateTime={m.ts}>
              {timeOf(m.ts)}
            </time>
          </header>
        )}
        {m.deleted ? (
          <div class="msg-text muted">
            <em>message deleted</em>
          </div>
        ) : editing ? (
          <MessageEditor
            initial={m.text}
            onSave={(text) =>
              client.edit(room, seq, text).then(
                () => client.stopEditing(),
                (e: unknown) => setError(e instanceof RequestError ? e.message : 'no answer; try again'),
              )
            }
            onCancel={() => client.stopEditing()}
          />
        ) : (
          <div class="msg-text">
            <RichText text={m.text} />
            {m.editedAt && (
              <span class="edited small muted" title={`edited ${fullTime(m.editedAt)}`}>
                {' '}
                (edited)
              </span>
            )}
          </div>
        )}
        {confirmed && !m.deleted && (
          <Reactions
            reactions={m.reactions ?? {}}
            me={client.user}
            onToggle={(emoji, on) => change(client.react(room, seq, emoji, on))}
          />
        )}
        {confirmed && !m.deleted && !editing && mine && (
          <span class="msg-actions">
            <button class="link small" onClick={() => client.startEditing(room, seq)} aria-label="Edit message">
              Edit
            </button>
            <button
              class="link small"
              aria-label="Delete message"
              onClick={() => {
                if (confirm('Delete this message? Everyone in the room will see "message deleted".')) {
                  change(client.deleteMessage(room, seq));
                }
              }}
            >
              Delete
            </button>
          </span>
        )}
        {error && (
          <span class="state failed small" role="alert">
            {error}
          </span>
        )}
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
