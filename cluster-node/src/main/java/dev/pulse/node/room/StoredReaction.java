package dev.pulse.node.room;

/** {@code from} set ({@code on}) or removed the reaction {@code emoji} to message {@code target}. */
public record StoredReaction(long seq, String id, String from, long target, String emoji, boolean on, long ts)
    implements StoredChange {}
