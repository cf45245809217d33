package dev.pulse.node.room;

import java.util.List;

/**
 * Where a room hands its committed events for search (protocol 1.1): the index is a read side kept
 * by the rooms themselves, in seq order, so no event needs a tag and no projection polls the
 * journal. The room does not know where the index lives; the wiring passes this in.
 */
public interface SearchIndex {

    /** Indexes nothing: rooms without search (entity tests). */
    SearchIndex NONE = new SearchIndex() {
        @Override
        public void recovered(String room, long lastSeq) {}

        @Override
        public void committed(String room, List<StoredEvent> events) {}
    };

    /**
     * The room started with {@code lastSeq} committed: index whatever of it the index lacks (a node
     * may have died between a commit and its indexing).
     */
    void recovered(String room, long lastSeq);

    /** {@code events} (ascending, contiguous) were just committed; called in seq order. */
    void committed(String room, List<StoredEvent> events);
}
