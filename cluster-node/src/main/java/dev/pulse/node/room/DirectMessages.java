package dev.pulse.node.room;

/**
 * Where a DM room says that it holds a message for one of its two users (version 1.1: the room
 * enters the user's list, and the user's sessions hear of it). The user entity does that; the room
 * layer does not know it, so the wiring passes this in.
 */
@FunctionalInterface
public interface DirectMessages {

    /** Does nothing: rooms without a user layer (entity tests). */
    DirectMessages NONE = (room, user) -> { };

    /** {@code room} holds a message: it belongs in {@code user}'s list. Sent once per written batch. */
    void holdsMessageFor(String room, String user);
}
