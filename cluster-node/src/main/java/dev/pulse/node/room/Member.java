package dev.pulse.node.room;

import dev.pulse.node.CborSerializable;

/** A room member and their presence; {@code lastSeen} (epoch ms) only when offline and known. */
public record Member(String user, PresenceStatus status, Long lastSeen) implements CborSerializable {

    public static Member online(String user) {
        return new Member(user, PresenceStatus.ONLINE, null);
    }

    /** The member as {@code status} reports it: lastSeen only counts while offline. */
    public static Member of(String user, PresenceStatus status, Long lastSeen) {
        return new Member(user, status, status == PresenceStatus.OFFLINE ? lastSeen : null);
    }
}
