package dev.pulse.node.user;

import dev.pulse.node.CborSerializable;

/**
 * The user entity's journal: presence transitions (not every session), the user's rooms (joined and
 * not left, and DM rooms with a message: they get the user's presence) with read markers, and the
 * account (its password hash, and logouts).
 */
public sealed interface UserEvent extends CborSerializable {

    record CameOnline(long at) implements UserEvent {}

    record WentOffline(long lastSeen) implements UserEvent {}

    record RoomTracked(String room) implements UserEvent {}

    record RoomUntracked(String room) implements UserEvent {}

    /** The user read {@code room} up to {@code seq} (version 1.1 read markers; only ever forwards). */
    record ReadMarked(String room, long seq) implements UserEvent {}

    /** Registration: the Argon2id hash (PHC string), never the password. */
    record AccountCreated(String passwordHash, long at) implements UserEvent {}

    /** A logout: the token (by id) is refused from now until it expires ({@code expiresAt}, epoch ms). */
    record TokenRevoked(String tokenId, long expiresAt, long at) implements UserEvent {}
}
