package dev.pulse.node.user;

import dev.pulse.node.CborSerializable;

/** The user entity's journal: presence transitions (not every session) and the rooms it informs. */
public sealed interface UserEvent extends CborSerializable {

    record CameOnline(long at) implements UserEvent {}

    record WentOffline(long lastSeen) implements UserEvent {}

    record RoomTracked(String room) implements UserEvent {}

    record RoomUntracked(String room) implements UserEvent {}
}
