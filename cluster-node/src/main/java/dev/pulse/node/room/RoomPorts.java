package dev.pulse.node.room;

/**
 * What a room tells or asks outside the room layer, passed in by the wiring: DM rooms tell their
 * users' entities, a starting room reads its members, committed events go to the search index.
 */
public record RoomPorts(DirectMessages directMessages, MemberRoster roster, SearchIndex search) {

    /** No other layer: rooms on their own (entity tests). */
    public static final RoomPorts NONE = new RoomPorts(DirectMessages.NONE, MemberRoster.NONE, SearchIndex.NONE);
}
