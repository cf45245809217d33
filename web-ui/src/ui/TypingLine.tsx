import type { ChatClient } from '../client/chat';
import { typingText } from './format';

/** Who is typing in the room. */
export function TypingLine({ client, room }: { client: ChatClient; room: string }) {
  const users = client.rooms.get(room)?.typingUsers(Date.now()) ?? [];
  return (
    <div class="typing" aria-live="polite">
      {typingText(users)}
    </div>
  );
}
