package dev.pulse.node.room;

import com.typesafe.config.Config;
import java.time.Duration;

/** Tuning of rooms and their local hubs, from {@code pulse.room}. */
public record RoomSettings(int window, int rememberedIds, Duration hubRefresh) {

    public static RoomSettings from(Config config) {
        Config room = config.getConfig("pulse.room");
        return new RoomSettings(room.getInt("window"), room.getInt("remembered-ids"), room.getDuration("hub-refresh"));
    }
}
