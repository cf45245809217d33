import type { RefObject } from 'preact';

/**
 * A <dialog>'s close event comes as a task after close(): if the dialog was opened again meanwhile
 * (Ctrl/⌘+K pressed right after choosing), that late event must not close it again.
 */
export function closedUnlessReopened(dialog: RefObject<HTMLDialogElement>, onClose: () => void): () => void {
  return () => {
    if (!dialog.current?.open) onClose();
  };
}
