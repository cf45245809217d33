package dev.pulse.node.delivery;

import dev.pulse.node.room.PresenceStatus;
import dev.pulse.node.room.StoredEvent;

/**
 * Turns what a room publishes into client frames, once per node. The session layer owns the wire
 * format and implements this; hubs only call it, so delivery stays free of wire types.
 */
public interface FeedEncoder {

    /** A room event's frame: a message, or (version 1.1) an edit, deletion or reaction. */
    EncodedFrame event(String room, StoredEvent event);

    EncodedFrame typing(String room, String user);

    /** {@code user} joined the room ({@code joined}) or left it. */
    EncodedFrame member(String room, String user, boolean joined);

    /** {@code lastSeen} (epoch ms) is null while online. */
    EncodedFrame presence(String user, PresenceStatus status, Long lastSeen);
}
