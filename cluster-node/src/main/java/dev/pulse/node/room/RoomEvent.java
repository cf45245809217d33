package dev.pulse.node.room;

import dev.pulse.node.CborSerializable;

/**
 * Events of a room's journal. Only posts are journaled, so a message's {@code seq} is its event's
 * journal sequence number and a history page is a range read on the journal.
 */
public sealed interface RoomEvent extends CborSerializable {

    record MessagePosted(String id, String from, String text, long ts) implements RoomEvent {}
}
