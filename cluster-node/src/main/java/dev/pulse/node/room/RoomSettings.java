package dev.pulse.node.room;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * Tuning of rooms and their local hubs, from {@code pulse.room}.
 *
 * @param snapshotEvery a room snapshots its state every this many messages, so recovery reads one
 *                      snapshot and at most this many events, however long the history
 * @param remoteBytes   the most (estimated) message bytes in one list a room sends: a history page, a
 *                      replay chunk, a hub's catch-up or live batch, which may all go to another node
 * @param forgetMembersAfter a member offline (last seen) longer than this is no longer listed
 * @param rosterPresencePatience how long joins of a room that just started wait for its members'
 *                      presence: long enough for user entities that are up (a few ms), short enough
 *                      not to stretch a node's hand-off, when the user entities move too
 */
public record RoomSettings(int window, int rememberedIds, Duration hubRefresh, int snapshotEvery, int remoteBytes,
                           Duration forgetMembersAfter, Duration rosterPresencePatience) {

    static final int DEFAULT_REMOTE_BYTES = 192 * 1024;
    static final Duration DEFAULT_FORGET_MEMBERS_AFTER = Duration.ofDays(30);
    static final Duration DEFAULT_ROSTER_PRESENCE_PATIENCE = Duration.ofMillis(250);

    public RoomSettings(int window, int rememberedIds, Duration hubRefresh) {
        this(window, rememberedIds, hubRefresh, 1000);
    }

    public RoomSettings(int window, int rememberedIds, Duration hubRefresh, int snapshotEvery) {
        this(window, rememberedIds, hubRefresh, snapshotEvery, DEFAULT_REMOTE_BYTES, DEFAULT_FORGET_MEMBERS_AFTER,
            DEFAULT_ROSTER_PRESENCE_PATIENCE);
    }

    public RoomSettings withRosterPresencePatience(Duration patience) {
        return new RoomSettings(window, rememberedIds, hubRefresh, snapshotEvery, remoteBytes, forgetMembersAfter, patience);
    }

    public static RoomSettings from(Config config) {
        Config room = config.getConfig("pulse.room");
        return new RoomSettings(room.getInt("window"), room.getInt("remembered-ids"), room.getDuration("hub-refresh"),
            room.getInt("snapshot-every"), Math.toIntExact(room.getBytes("remote-bytes")),
            room.getDuration("forget-members-after"), room.getDuration("roster-presence-patience"));
    }
}
