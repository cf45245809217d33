package dev.pulse.node.room;

import dev.pulse.node.CborSerializable;
import dev.pulse.protocol.ServerFrame;
import dev.pulse.protocol.Timestamps;

/** A committed chat message of a room; {@code seq} is its journal sequence number. */
public record StoredMessage(long seq, String id, String from, String text, long ts) implements CborSerializable {

    public ServerFrame.Message toFrame(String room) {
        return new ServerFrame.Message(room, seq, id, from, text, Timestamps.format(ts));
    }
}
