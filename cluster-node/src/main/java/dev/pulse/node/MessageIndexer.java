package dev.pulse.node;

import dev.pulse.node.persistence.MessageSearchTable;
import dev.pulse.node.room.HistoryReader;
import dev.pulse.node.room.RoomEntity;
import dev.pulse.node.room.SearchIndex;
import dev.pulse.node.room.StoredDelete;
import dev.pulse.node.room.StoredEdit;
import dev.pulse.node.room.StoredEvent;
import dev.pulse.node.room.StoredMessage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the search read side ({@link MessageSearchTable}) from what rooms commit. Each room's changes
 * are written one transaction at a time, in seq order, off the rooms' threads; what a room commits
 * while a write is in flight goes into the next one, so a busy room costs one write per round trip,
 * not one per message. A room that starts, and a write that fails, make the room catch up from its
 * progress by reading its journal: a node that died between a commit and its indexing loses nothing,
 * and rooms written before search existed are indexed when they next start.
 */
final class MessageIndexer implements SearchIndex {

    private static final Logger LOG = LoggerFactory.getLogger(MessageIndexer.class);
    private static final Duration RETRY = Duration.ofSeconds(5);
    /** Changes held for one room while writes fail; beyond, they are read from the journal again later. */
    private static final int MAX_PENDING = 10_000;
    /** Journal events read per catch-up step. */
    private static final int CATCH_UP_CHUNK = 1_000;

    /**
     * One room's changes waiting. Only touched inside {@code rooms.compute}: a room has a queue exactly
     * while one writer drains it, so two writers never run for one room.
     */
    private static final class RoomQueue {
        final List<MessageSearchTable.Change> pending = new ArrayList<>();
        /** Catch up to this seq from the journal first; 0: no catch-up due. */
        long catchUpTo;
    }

    private record Work(long catchUpTo, List<MessageSearchTable.Change> batch) {}

    private final MessageSearchTable table;
    private final HistoryReader journal;
    private final Executor writers;
    private final Map<String, RoomQueue> rooms = new ConcurrentHashMap<>();

    /**
     * {@code writers}: where rooms' writes run, a few threads at most, so that indexing never holds
     * more of the journal's connections than that while messages wait to be journaled.
     */
    MessageIndexer(MessageSearchTable table, HistoryReader journal, Executor writers) {
        this.table = table;
        this.journal = journal;
        this.writers = writers;
    }

    @Override
    public void recovered(String room, long lastSeq) {
        enqueue(room, queue -> queue.catchUpTo = Math.max(queue.catchUpTo, lastSeq));
    }

    @Override
    public void committed(String room, List<StoredEvent> events) {
        enqueue(room, queue -> {
            if (queue.pending.size() + events.size() > MAX_PENDING) {
                queue.pending.clear(); // the journal has them all: read them back once writes work again
                queue.catchUpTo = Math.max(queue.catchUpTo, events.get(events.size() - 1).seq());
            } else {
                events.forEach(event -> queue.pending.add(change(event)));
            }
        });
    }

    private void enqueue(String room, java.util.function.Consumer<RoomQueue> add) {
        boolean[] start = new boolean[1];
        rooms.compute(room, (r, queue) -> {
            start[0] = queue == null;
            RoomQueue next = queue == null ? new RoomQueue() : queue;
            add.accept(next);
            return next;
        });
        if (start[0]) {
            writers.execute(() -> drain(room));
        }
    }

    /** Takes what waits; when nothing does, the room's queue goes (the next change starts a writer). */
    private Work take(String room) {
        Work[] work = new Work[1];
        rooms.computeIfPresent(room, (r, queue) -> {
            if (queue.catchUpTo == 0 && queue.pending.isEmpty()) {
                return null;
            }
            work[0] = new Work(queue.catchUpTo, new ArrayList<>(queue.pending));
            queue.pending.clear();
            queue.catchUpTo = 0;
            return queue;
        });
        return work[0];
    }

    /** Writes the room's changes until none wait; on a failure, tries again later from the journal. */
    private void drain(String room) {
        for (Work work = take(room); work != null; work = take(room)) {
            try {
                if (work.catchUpTo() > 0) {
                    catchUp(room, work.catchUpTo());
                }
                if (!work.batch().isEmpty()) {
                    table.apply(room, work.batch());
                }
            } catch (Exception e) {
                List<MessageSearchTable.Change> batch = work.batch();
                long failedAt = Math.max(work.catchUpTo(), batch.isEmpty() ? 0 : batch.get(batch.size() - 1).seq());
                LOG.warn("search index: room {} up to seq {} not written ({}); catching up from the journal in {} s",
                    room, failedAt, e.toString(), RETRY.toSeconds());
                rooms.computeIfPresent(room, (r, queue) -> {
                    queue.catchUpTo = Math.max(queue.catchUpTo, failedAt);
                    return queue;
                });
                CompletableFuture.delayedExecutor(RETRY.toMillis(), TimeUnit.MILLISECONDS, writers).execute(() -> drain(room));
                return; // the room keeps its queue meanwhile: no second writer starts
            }
        }
    }

    private void catchUp(String room, long lastSeq) throws Exception {
        String persistenceId = PersistenceId.of(RoomEntity.ENTITY_KEY.name(), room).id();
        long progress = table.progress(room);
        while (progress < lastSeq) {
            long to = Math.min(lastSeq, progress + CATCH_UP_CHUNK);
            List<StoredEvent> events = journal.read(persistenceId, progress + 1, to).toCompletableFuture().get(30, TimeUnit.SECONDS);
            if (events.isEmpty()) {
                return;
            }
            progress = table.apply(room, events.stream().map(MessageIndexer::change).toList());
        }
    }

    private static MessageSearchTable.Change change(StoredEvent event) {
        if (event instanceof StoredMessage message) {
            return new MessageSearchTable.Posted(message.seq(), message.from(), message.text(), message.ts());
        } else if (event instanceof StoredEdit edit) {
            return new MessageSearchTable.Edited(edit.seq(), edit.target(), edit.text());
        } else if (event instanceof StoredDelete delete) {
            return new MessageSearchTable.Deleted(delete.seq(), delete.target());
        }
        return new MessageSearchTable.Other(event.seq());
    }
}
