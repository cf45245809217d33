package dev.pulse.node.room;

/**
 * A committed chat message of a room. As served (history, replays), {@code now} is its state after
 * later edits, a deletion or reactions; null when nothing changed it (and always in the journal and
 * the window, which hold the message as posted).
 */
public record StoredMessage(long seq, String id, String from, String text, long ts, MessageChange now) implements StoredEvent {

    public StoredMessage(long seq, String id, String from, String text, long ts) {
        this(seq, id, from, text, ts, null);
    }

    StoredMessage as(MessageChange change) {
        return new StoredMessage(seq, id, from, text, ts, change);
    }

    /** The text as it reads now: the last edit's, or null once deleted. */
    public String currentText() {
        return now == null ? text : now.deleted() ? null : now.text() != null ? now.text() : text;
    }
}
