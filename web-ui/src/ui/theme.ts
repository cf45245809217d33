// The colour theme: the system's (prefers-color-scheme) until the person picks one with the toggle,
// which this browser remembers (localStorage: a display preference, so it outlives sign-out).
// styles.css does the rest with light-dark() and data-theme on <html>.

import { useState } from 'preact/hooks';
import { useMedia } from './hooks';

export type Theme = 'light' | 'dark';
const KEY = 'pulse.theme';

export function storedTheme(): Theme | null {
  try {
    const t = localStorage.getItem(KEY);
    return t === 'light' || t === 'dark' ? t : null;
  } catch {
    return null;
  }
}

/** Makes the page use `theme`, or the system's when null. */
export function applyTheme(theme: Theme | null): void {
  if (theme) document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
}

/** Whether the page is dark now, and a toggle that picks the other theme and remembers it. */
export function useTheme(): { dark: boolean; toggle: () => void } {
  const systemDark = useMedia('(prefers-color-scheme: dark)');
  const [chosen, setChosen] = useState(storedTheme);
  const dark = (chosen ?? (systemDark ? 'dark' : 'light')) === 'dark';
  return {
    dark,
    toggle: () => {
      const next: Theme = dark ? 'light' : 'dark';
      try {
        localStorage.setItem(KEY, next);
      } catch {
        // storage disabled: the choice lasts for this page
      }
      applyTheme(next);
      setChosen(next);
    },
  };
}
