// Hooks shared by the components: re-render on client changes, a clock for relative times, media queries.

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

/** Whether the media query matches now; re-renders when that changes (e.g. the window is resized). */
export function useMedia(query: string): boolean {
  const [matches, setMatches] = useState(() => matchMedia(query).matches);
  useEffect(() => {
    const list = matchMedia(query);
    const update = () => setMatches(list.matches);
    update();
    list.addEventListener('change', update);
    return () => list.removeEventListener('change', update);
  }, [query]);
  return matches;
}
