package dev.pulse.node.user;

import dev.pulse.node.CborSerializable;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What a user entity journals: whether the user was online (so an entity that starts after its node
 * died knows to look for the sessions and, finding none, to tell the rooms), when last seen, the
 * user's rooms (they show the user's presence; the {@code rooms} frame lists them) and how far the user
 * read each ({@code reads}, room → seq; absent: 0), and the account: its password hash (null: no
 * account) and the ids of its tokens revoked by logout that have not expired yet (id → expiry, epoch
 * ms). Immutable.
 */
public record UserState(boolean online, Long lastSeen, Set<String> rooms, String passwordHash, Map<String, Long> revoked,
                        Map<String, Long> reads)
    implements CborSerializable {

    static final UserState EMPTY = new UserState(false, null, Set.of(), null, Map.of(), Map.of());

    /** Snapshots from before accounts have no revocations, and from before version 1.1 no read markers. */
    public UserState {
        revoked = revoked == null ? Map.of() : revoked;
        reads = reads == null ? Map.of() : reads;
    }

    /** How far the user read {@code room}: 0 until the first read marker. */
    long lastRead(String room) {
        return reads.getOrDefault(room, 0L);
    }

    boolean hasAccount() {
        return passwordHash != null;
    }

    boolean isRevoked(String tokenId) {
        return revoked.containsKey(tokenId);
    }

    UserState apply(UserEvent event) {
        if (event instanceof UserEvent.CameOnline) {
            return new UserState(true, null, rooms, passwordHash, revoked, reads);
        }
        if (event instanceof UserEvent.WentOffline offline) {
            return new UserState(false, offline.lastSeen(), rooms, passwordHash, revoked, reads);
        }
        if (event instanceof UserEvent.RoomTracked tracked) {
            return new UserState(online, lastSeen, with(tracked.room(), true), passwordHash, revoked, reads);
        }
        if (event instanceof UserEvent.RoomUntracked untracked) {
            // A room left is forgotten, its read marker with it: joined again, it starts unread.
            TreeMap<String, Long> still = new TreeMap<>(reads);
            still.remove(untracked.room());
            return new UserState(online, lastSeen, with(untracked.room(), false), passwordHash, revoked, still);
        }
        if (event instanceof UserEvent.ReadMarked read) {
            TreeMap<String, Long> marks = new TreeMap<>(reads);
            marks.merge(read.room(), read.seq(), Math::max);
            return new UserState(online, lastSeen, rooms, passwordHash, revoked, marks);
        }
        if (event instanceof UserEvent.AccountCreated created) {
            return new UserState(online, lastSeen, rooms, created.passwordHash(), revoked, reads);
        }
        UserEvent.TokenRevoked revocation = (UserEvent.TokenRevoked) event;
        // Expired tokens are refused anyway: forget them, by the event's own clock so replay agrees.
        TreeMap<String, Long> still = new TreeMap<>();
        revoked.forEach((id, expires) -> {
            if (expires > revocation.at()) {
                still.put(id, expires);
            }
        });
        still.put(revocation.tokenId(), revocation.expiresAt());
        return new UserState(online, lastSeen, rooms, passwordHash, still, reads);
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
