package dev.pulse.node.user;

/**
 * Where a user entity reports, after journaling it, that the user joined or left a room: the room
 * directory's read side (version 1.1, members per room). The user layer does not know where that
 * lives, so the wiring passes this in.
 */
public interface RoomMembership {

    /** Reports nothing: user entities without a directory (entity tests). */
    RoomMembership NONE = new RoomMembership() {
        @Override
        public void joined(String room, String user) {}

        @Override
        public void left(String room, String user) {}
    };

    void joined(String room, String user);

    void left(String room, String user);
}
