package dev.pulse.node.room;

/** An event that changes the message with seq {@code target}: an edit, a deletion or a reaction. */
public sealed interface StoredChange extends StoredEvent permits StoredEdit, StoredDelete, StoredReaction {

    long target();
}
