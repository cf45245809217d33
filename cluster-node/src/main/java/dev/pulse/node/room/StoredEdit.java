package dev.pulse.node.room;

/** {@code from} replaced the text of message {@code target}; {@code text} is null once that message is deleted. */
public record StoredEdit(long seq, String id, String from, long target, String text, long ts) implements StoredChange {

    StoredEdit withoutText() {
        return new StoredEdit(seq, id, from, target, null, ts);
    }
}
