import type { ChatClient } from '../client/chat';
import type { DisplayMessage } from '../client/room';
import { fullTime, timeOf } from './format';
import { colorOf } from './labels';
import { RichText } from './RichText';

/** One message, with its send state (pending, failed with retry/discard) for own messages. */
export function Message({ m, first, mine, client, room }: { m: DisplayMessage; first: boolean; mine: boolean; client: ChatClient; room: string }) {
  const state = m.state ?? (mine ? 'acked' : undefined);
  // Version 1.1's mentions: a message from someone else that names the reader stands out.
  const mentionsMe = !mine && (m.mentions ?? []).includes(client.user);
  return (
    <article
      class={`msg ${first ? 'first' : 'cont'} ${mine ? 'mine' : ''} ${mentionsMe ? 'mentions-me' : ''} ${state ?? ''}`}
      data-seq={m.seq}
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
        <div class="msg-text">
          <RichText text={m.text} />
        </div>
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
