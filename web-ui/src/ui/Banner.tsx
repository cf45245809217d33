import type { ChatClient } from '../client/chat';
import { useNow } from './hooks';

/** Connection trouble and when the next attempt is due; hidden while online. */
export function Banner({ client }: { client: ChatClient }) {
  const now = useNow(1000);
  const s = client.state;
  if (s === 'online' || s === 'idle') return null;
  const secs = Math.max(0, Math.ceil((client.nextRetryAt - now) / 1000));
  let text: string;
  if (s === 'connecting') text = 'Connecting…';
  else if (s === 'reconnecting') text = client.nextRetryAt > now ? `Connection lost. Reconnecting in ${secs}s…` : 'Reconnecting…';
  else if (client.waitingForNetwork) text = 'You are offline. Messages you write are sent when the network is back.';
  else text = client.nextRetryAt > now ? `Offline. Retrying in ${secs}s.` : 'Offline. Retrying…';
  return (
    <div class={`banner ${s}`} data-state={s} role="status" aria-live="polite">
      <span>{text}</span>
      {s !== 'connecting' && (
        <button class="link" onClick={() => client.retryNow()}>
          Retry now
        </button>
      )}
    </div>
  );
}
