// Hooks shared by the components: re-render on client changes, and a clock for relative times.

import { useEffect, useState } from 'preact/hooks';
import type { ChatClient } from '../client/chat';

/** Re-renders the component whenever the client changes. */
export function useClient(client: ChatClient): number {
  const [, setVersion] = useState(0);
  useEffect(() => client.subscribe(() => setVersion(client.version)), [client]);
  return client.version;
}

/** The current time, refreshed every `everyMs`. */
export function useNow(everyMs: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}
