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

    /** One room's changes waiting, and whether a writer runs for it. Guarded by itself. */
    private static final class RoomQueue {
        final List<MessageSearchTable.Change> pending = new ArrayList<>();
        /** Catch up to this seq from the journal first; 0: no catch-up due. */
        long catchUpTo;
        boolean running;
    }

    private final MessageSearchTable table;
    private final HistoryReader journal;
    private final Executor blocking;
    private final Map<String, RoomQueue> rooms = new ConcurrentHashMap<>();

    MessageIndexer(MessageSearchTable table, HistoryReader journal, Executor blocking) {
        this.table = table;
        this.journal = journal;
        this.blocking = blocking;
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
        RoomQueue queue = rooms.computeIfAbsent(room, r -> new RoomQueue());
        boolean start;
        synchronized (queue) {
            add.accept(queue);
            start = !queue.running;
            queue.running = true;
        }
        if (start) {
            blocking.execute(() -> drain(room, queue));
        }
    }

    /** Writes the room's changes until none wait; on a failure, tries again later from the journal. */
    private void drain(String room, RoomQueue queue) {
        while (true) {
            long catchUpTo;
            List<MessageSearchTable.Change> batch;
            synchronized (queue) {
                catchUpTo = queue.catchUpTo;
                batch = new ArrayList<>(queue.pending);
                queue.pending.clear();
                queue.catchUpTo = 0;
                if (catchUpTo == 0 && batch.isEmpty()) {
                    queue.running = false;
                    rooms.remove(room, queue);
                    return;
                }
            }
            try {
                if (catchUpTo > 0) {
                    catchUp(room, catchUpTo);
                }
                if (!batch.isEmpty()) {
                    table.apply(room, batch);
                }
            } catch (Exception e) {
                long failedAt = Math.max(catchUpTo, batch.isEmpty() ? 0 : batch.get(batch.size() - 1).seq());
                LOG.warn("search index: room {} up to seq {} not written ({}); catching up from the journal in {} s",
                    room, failedAt, e.toString(), RETRY.toSeconds());
                synchronized (queue) {
                    queue.catchUpTo = Math.max(queue.catchUpTo, failedAt);
                }
                CompletableFuture.delayedExecutor(RETRY.toMillis(), TimeUnit.MILLISECONDS, blocking)
                    .execute(() -> drain(room, queue));
                return;
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
