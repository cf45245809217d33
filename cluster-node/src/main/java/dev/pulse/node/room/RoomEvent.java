package dev.pulse.node.room;

import dev.pulse.node.CborSerializable;

/**
 * Events of a room's journal. Every event takes the room's next seq (its journal sequence number), so
 * a history page or a replay is a range read on the journal. Version 1.1 adds the changes of a
 * message; each carries the client's {@code id} (null when none) for idempotent retries.
 */
public sealed interface RoomEvent extends CborSerializable {

    record MessagePosted(String id, String from, String text, long ts) implements RoomEvent {}

    record MessageEdited(long target, String id, String from, String text, long ts) implements RoomEvent {}

    record MessageDeleted(long target, String id, String from, long ts) implements RoomEvent {}

    /** {@code author} wrote the target message: kept so that a room learns it without reading the journal. */
    record ReactionSet(long target, String id, String from, String author, String emoji, boolean on, long ts)
        implements RoomEvent {}

    /** The event as committed with {@code seq}. */
    static StoredEvent stored(RoomEvent event, long seq) {
        if (event instanceof MessagePosted posted) {
            return new StoredMessage(seq, posted.id(), posted.from(), posted.text(), posted.ts());
        } else if (event instanceof MessageEdited edited) {
            return new StoredEdit(seq, edited.id(), edited.from(), edited.target(), edited.text(), edited.ts());
        } else if (event instanceof MessageDeleted deleted) {
            return new StoredDelete(seq, deleted.id(), deleted.from(), deleted.target(), deleted.ts());
        }
        ReactionSet reaction = (ReactionSet) event;
        return new StoredReaction(seq, reaction.id(), reaction.from(), reaction.target(), reaction.emoji(), reaction.on(),
            reaction.ts());
    }
}
