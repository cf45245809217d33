package dev.pulse.node.room;

/** {@code from} deleted message {@code target}. */
public record StoredDelete(long seq, String id, String from, long target, long ts) implements StoredChange {}
