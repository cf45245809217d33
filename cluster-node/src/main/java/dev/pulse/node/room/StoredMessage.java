package dev.pulse.node.room;

import dev.pulse.node.CborSerializable;

/** A committed chat message of a room; {@code seq} is its journal sequence number, {@code ts} epoch ms. */
public record StoredMessage(long seq, String id, String from, String text, long ts) implements CborSerializable {}
