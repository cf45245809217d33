package dev.pulse.node.room;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * Tuning of rooms and their local hubs, from {@code pulse.room}.
 *
 * @param snapshotEvery a room snapshots its state every this many messages, so recovery reads one
 *                      snapshot and at most this many events, however long the history
 */
public record RoomSettings(int window, int rememberedIds, Duration hubRefresh, int snapshotEvery) {

    public RoomSettings(int window, int rememberedIds, Duration hubRefresh) {
        this(window, rememberedIds, hubRefresh, 1000);
    }

    public static RoomSettings from(Config config) {
        Config room = config.getConfig("pulse.room");
        return new RoomSettings(room.getInt("window"), room.getInt("remembered-ids"), room.getDuration("hub-refresh"),
            room.getInt("snapshot-every"));
    }
}
