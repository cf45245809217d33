import { useState } from 'preact/hooks';

/** The emojis the picker offers: a reaction is one click away; any emoji may arrive from others. */
export const PICKER = ['👍', '❤️', '😂', '🎉', '😮', '👀'];

/**
 * A message's reactions as buttons with their counts (pressed when the reader's own is among
 * them; the title says who reacted), and a small picker to add one.
 */
export function Reactions({ reactions, me, onToggle }: { reactions: Record<string, string[]>; me: string; onToggle: (emoji: string, on: boolean) => void }) {
  const [picking, setPicking] = useState(false);
  const entries = Object.entries(reactions).filter(([, users]) => users.length > 0);
  return (
    <div class="reactions">
      {entries.map(([emoji, users]) => {
        const mine = users.includes(me);
        return (
          <button
            key={emoji}
            class={`reaction ${mine ? 'mine' : ''}`}
            aria-pressed={mine}
            aria-label={`${emoji} ${users.length}: ${users.join(', ')}`}
            title={users.join(', ')}
            onClick={() => onToggle(emoji, !mine)}
          >
            {emoji} <span class="count">{users.length}</span>
          </button>
        );
      })}
      <button class="reaction add" aria-label="Add a reaction" aria-expanded={picking} onClick={() => setPicking(!picking)}>
        +☺
      </button>
      {picking && (
        <span class="picker" role="group" aria-label="Reactions">
          {PICKER.map((emoji) => (
            <button
              key={emoji}
              class="reaction"
              aria-label={`React with ${emoji}`}
              onClick={() => {
                setPicking(false);
                onToggle(emoji, !(reactions[emoji] ?? []).includes(me));
              }}
            >
              {emoji}
            </button>
          ))}
        </span>
      )}
    </div>
  );
}
