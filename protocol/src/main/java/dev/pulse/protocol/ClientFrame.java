package dev.pulse.protocol;

import java.util.List;

/**
 * Frames a client sends to a node. Every frame may carry a {@code ref} (null when absent) that the
 * server echoes on its direct reply. Instances are only built by {@link FrameCodec#decodeClient},
 * which validates every field, so handlers can trust them.
 */
public sealed interface ClientFrame {

    String ref();

    /** {@code since} is null for a plain join; otherwise replay every message after it. */
    record Join(String ref, String room, Long since) implements ClientFrame {}

    record Leave(String ref, String room) implements ClientFrame {}

    record Send(String ref, String room, String id, String text) implements ClientFrame {}

    /** {@code before} is null for "newest"; {@code limit} is already defaulted and bounded. */
    record History(String ref, String room, Long before, int limit) implements ClientFrame {}

    record Typing(String ref, String room) implements ClientFrame {}

    record PresenceQuery(String ref, List<String> users) implements ClientFrame {}

    record Ping(String ref) implements ClientFrame {}

    /** Version 1.1: the user has read {@code room} up to {@code seq} (≥ 0). */
    record Read(String ref, String room, long seq) implements ClientFrame {}

    /**
     * Version 1.1: a change to the message with seq {@code target}, itself a room event with the room's
     * next seq. {@code id} (null when absent) makes it idempotent like a send's.
     */
    sealed interface RoomChange extends ClientFrame {
        String room();

        long target();

        String id();
    }

    /** Version 1.1: the author replaces the text of their message {@code target}. */
    record Edit(String ref, String room, long target, String id, String text) implements RoomChange {}

    /** Version 1.1: the author deletes their message {@code target}. */
    record Delete(String ref, String room, long target, String id) implements RoomChange {}

    /** Version 1.1: the user's reaction {@code emoji} to message {@code target} is set ({@code on}) or removed. */
    record React(String ref, String room, long target, String id, String emoji, boolean on) implements RoomChange {}

    /**
     * Version 1.1: messages whose current text matches {@code query}, newest first, in {@code room}
     * (null: every room in the user's list), at most {@code limit}.
     */
    record Search(String ref, String query, String room, int limit) implements ClientFrame {}

    /** Version 1.1: public rooms whose name contains {@code query} (lower-cased; empty: all), at most {@code limit}. */
    record Directory(String ref, String query, int limit) implements ClientFrame {}
}
