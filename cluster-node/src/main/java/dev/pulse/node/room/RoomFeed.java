package dev.pulse.node.room;

import dev.pulse.node.CborSerializable;
import java.util.List;

/**
 * What a room tells its subscribers: one per node with local members (that node's hub), never one
 * per member. The room knows nothing of who is behind a subscriber.
 */
public sealed interface RoomFeed extends CborSerializable {

    /** Committed events, ascending and contiguous. */
    record Published(List<StoredEvent> messages) implements RoomFeed {}

    record Typing(String user) implements RoomFeed {}

    /** {@code user} became a member (joined) or left; not a room event, so not in the sequence. */
    record MemberChanged(String user, boolean joined) implements RoomFeed {}

    /**
     * A member's presence changed; {@code lastSeen} (epoch ms) is null while online. {@code fillsIn}: a
     * late answer for a member a room that just started listed offline without lastSeen; a session
     * shows it even when it showed this presence last, as the room's {@code joined} list said otherwise.
     */
    record PresenceChanged(String user, PresenceStatus status, Long lastSeen, boolean fillsIn) implements RoomFeed {

        public PresenceChanged(String user, PresenceStatus status, Long lastSeen) {
            this(user, status, lastSeen, false);
        }
    }
}
