package dev.pulse.node.user;

import dev.pulse.node.CborSerializable;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a user entity journals: whether the user was online (so an entity that starts after its node
 * died knows to look for the sessions and, finding none, to tell the rooms), when last seen, and the
 * rooms that show the user's presence. Immutable.
 */
public record UserState(boolean online, Long lastSeen, Set<String> rooms) implements CborSerializable {

    static final UserState EMPTY = new UserState(false, null, Set.of());

    UserState apply(UserEvent event) {
        if (event instanceof UserEvent.CameOnline) {
            return new UserState(true, null, rooms);
        }
        if (event instanceof UserEvent.WentOffline offline) {
            return new UserState(false, offline.lastSeen(), rooms);
        }
        if (event instanceof UserEvent.RoomTracked tracked) {
            return new UserState(online, lastSeen, with(tracked.room(), true));
        }
        return new UserState(online, lastSeen, with(((UserEvent.RoomUntracked) event).room(), false));
    }

    private Set<String> with(String room, boolean add) {
        TreeSet<String> copy = new TreeSet<>(rooms);
        if (add) {
            copy.add(room);
        } else {
            copy.remove(room);
        }
        return copy;
    }
}
