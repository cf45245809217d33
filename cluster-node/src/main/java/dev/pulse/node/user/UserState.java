package dev.pulse.node.user;

import dev.pulse.node.CborSerializable;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What a user entity journals: whether the user was online (so an entity that starts after its node
 * died knows to look for the sessions and, finding none, to tell the rooms), when last seen, the
 * rooms that show the user's presence, and the account: its password hash (null: no account) and the
 * ids of its tokens revoked by logout that have not expired yet (id → expiry, epoch ms). Immutable.
 */
public record UserState(boolean online, Long lastSeen, Set<String> rooms, String passwordHash, Map<String, Long> revoked)
    implements CborSerializable {

    static final UserState EMPTY = new UserState(false, null, Set.of(), null, Map.of());

    /** Snapshots from before accounts have neither. */
    public UserState {
        revoked = revoked == null ? Map.of() : revoked;
    }

    boolean hasAccount() {
        return passwordHash != null;
    }

    boolean isRevoked(String tokenId) {
        return revoked.containsKey(tokenId);
    }

    UserState apply(UserEvent event) {
        if (event instanceof UserEvent.CameOnline) {
            return new UserState(true, null, rooms, passwordHash, revoked);
        }
        if (event instanceof UserEvent.WentOffline offline) {
            return new UserState(false, offline.lastSeen(), rooms, passwordHash, revoked);
        }
        if (event instanceof UserEvent.RoomTracked tracked) {
            return new UserState(online, lastSeen, with(tracked.room(), true), passwordHash, revoked);
        }
        if (event instanceof UserEvent.RoomUntracked untracked) {
            return new UserState(online, lastSeen, with(untracked.room(), false), passwordHash, revoked);
        }
        if (event instanceof UserEvent.AccountCreated created) {
            return new UserState(online, lastSeen, rooms, created.passwordHash(), revoked);
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
        return new UserState(online, lastSeen, rooms, passwordHash, still);
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
