package dev.pulse.node.room;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import dev.pulse.node.CborSerializable;

/**
 * A committed room event with its {@code seq} (its journal sequence number) and {@code ts} (epoch ms):
 * a message, or (version 1.1) an edit, deletion or reaction of one. Snapshots written before 1.1 hold
 * messages without a type: they read as messages.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "kind", defaultImpl = StoredMessage.class)
@JsonSubTypes({
    @JsonSubTypes.Type(value = StoredMessage.class, name = "message"),
    @JsonSubTypes.Type(value = StoredEdit.class, name = "edited"),
    @JsonSubTypes.Type(value = StoredDelete.class, name = "deleted"),
    @JsonSubTypes.Type(value = StoredReaction.class, name = "reacted")
})
public sealed interface StoredEvent extends CborSerializable permits StoredMessage, StoredChange {

    long seq();

    /** The client's id (null when a change had none): a retry with it gets the same ack. */
    String id();

    String from();

    long ts();
}
