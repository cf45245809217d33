package dev.pulse.node.delivery;

import dev.pulse.node.room.PresenceStatus;

/** What a node's hubs hand to its local sessions: frames encoded once per node, shared by all. */
public sealed interface Delivery {

    /**
     * A committed room event with its seq, so the session can keep each room gap-free and in order,
     * and its server timestamp (epoch ms), to measure how long fan-out took.
     */
    record RoomEvent(String room, long seq, long ts, EncodedFrame frame) implements Delivery {}

    /**
     * A typing, presence or member frame about {@code user}, from {@code room}'s hub; {@code dedupeKey}
     * (nullable) suppresses repeats. {@code memberLeft}: the member frame of {@code user}'s leave.
     */
    record Notice(String room, String user, String dedupeKey, EncodedFrame frame, boolean memberLeft) implements Delivery {

        public Notice(String room, String user, String dedupeKey, EncodedFrame frame) {
            this(room, user, dedupeKey, frame, false);
        }

        /** The dedupe key of a presence notice: a session shows each user's presence once, whatever room it came by. */
        public static String presenceKey(PresenceStatus status, Long lastSeen) {
            return status + "@" + lastSeen;
        }
    }
}
