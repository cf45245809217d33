import { useEffect, useRef } from 'preact/hooks';

/** A drawer's own close button, focused when the drawer opens so that the keyboard is where the eyes are. */
export function DrawerClose({ label, open, onClose }: { label: string; open: boolean; onClose: () => void }) {
  const ref = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (open) ref.current?.focus();
  }, [open]);
  return (
    <button ref={ref} type="button" class="icon drawer-close" aria-label={label} onClick={onClose}>
      <svg width="16" height="16" viewBox="0 0 24 24" aria-hidden="true">
        <path d="M6 6l12 12M18 6L6 18" stroke="currentColor" stroke-width="2" stroke-linecap="round" />
      </svg>
    </button>
  );
}
