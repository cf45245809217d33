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
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the search read side ({@link MessageSearchTable}) from what rooms commit, off the rooms'
 * threads. One writer takes what every room committed meanwhile and writes it in one transaction, in
 * each room's seq order: a busy node's many rooms cost one commit per round trip, not one per room
 * and message. A room that starts, and a write that fails, make the room catch up from its progress
 * by reading its journal: a node that died between a commit and its indexing loses nothing, and rooms
 * written before search existed are indexed when they next start. A long catch-up goes a chunk per
 * write, taking turns with the other rooms' live changes.
 */
final class MessageIndexer implements SearchIndex {

    private static final Logger LOG = LoggerFactory.getLogger(MessageIndexer.class);
    private static final Duration RETRY = Duration.ofSeconds(5);
    /** Changes held for one room while writes fail; beyond, they are read from the journal again later. */
    private static final int MAX_PENDING = 10_000;
    /** Journal events read per catch-up step. */
    private static final int CATCH_UP_CHUNK = 1_000;
    /** Rooms written per transaction (each is a bound parameter of its progress query). */
    private static final int ROOMS_PER_WRITE = 500;

    /** One room's changes waiting. */
    private static final class RoomQueue {
        final List<MessageSearchTable.Change> pending = new ArrayList<>();
        /** Catch up to this seq from the journal first; 0: no catch-up due. */
        long catchUpTo;
    }

    private final MessageSearchTable table;
    private final HistoryReader journal;
    private final Executor writer;
    /** Guarded by itself, as is {@link #writing}. */
    private final Map<String, RoomQueue> rooms = new LinkedHashMap<>();
    /** Whether a drain runs or is due: exactly one at a time, so each room's changes are written in order. */
    private boolean writing;

    /**
     * {@code writer}: where the writes run; one thread is enough (each write is all rooms'), and it holds
     * one of the journal's connections at most while messages wait to be journaled.
     */
    MessageIndexer(MessageSearchTable table, HistoryReader journal, Executor writer) {
        this.table = table;
        this.journal = journal;
        this.writer = writer;
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

    private void enqueue(String room, Consumer<RoomQueue> add) {
        boolean start;
        synchronized (rooms) {
            add.accept(rooms.computeIfAbsent(room, r -> new RoomQueue()));
            start = !writing;
            writing = true;
        }
        if (start) {
            writer.execute(this::drain);
        }
    }

    /** Takes what waits, at most {@link #ROOMS_PER_WRITE} rooms; when nothing does, the writer stops. */
    private Map<String, RoomQueue> take() {
        synchronized (rooms) {
            if (rooms.isEmpty()) {
                writing = false;
                return Map.of();
            }
            Map<String, RoomQueue> taken = new LinkedHashMap<>();
            Iterator<Map.Entry<String, RoomQueue>> waiting = rooms.entrySet().iterator();
            while (waiting.hasNext() && taken.size() < ROOMS_PER_WRITE) {
                Map.Entry<String, RoomQueue> room = waiting.next();
                taken.put(room.getKey(), room.getValue());
                waiting.remove();
            }
            return taken;
        }
    }

    /** After a failure: the room catches up to {@code seq} from the journal, ahead of what waits for it. */
    private void catchUpLater(String room, long seq) {
        synchronized (rooms) {
            RoomQueue queue = rooms.computeIfAbsent(room, r -> new RoomQueue());
            queue.catchUpTo = Math.max(queue.catchUpTo, seq);
        }
    }

    /** A room whose catch-up goes on: what it had waits again, ahead of what it committed since. */
    private void putBack(String room, RoomQueue taken) {
        synchronized (rooms) {
            RoomQueue since = rooms.remove(room);
            if (since != null) {
                taken.pending.addAll(since.pending);
                taken.catchUpTo = Math.max(taken.catchUpTo, since.catchUpTo);
            }
            rooms.put(room, taken); // last in line: a long catch-up takes turns with the other rooms
        }
    }

    /** Writes what waits until nothing does; after a failure, goes on later (the failed rooms from the journal). */
    private void drain() {
        for (Map<String, RoomQueue> taken = take(); !taken.isEmpty(); taken = take()) {
            boolean failed = false;
            Map<String, List<MessageSearchTable.Change>> live = new HashMap<>();
            for (Map.Entry<String, RoomQueue> entry : taken.entrySet()) {
                String room = entry.getKey();
                RoomQueue queue = entry.getValue();
                long last = queue.pending.isEmpty() ? 0 : queue.pending.get(queue.pending.size() - 1).seq();
                if (queue.catchUpTo > 0) {
                    try {
                        if (catchUpStep(room, queue.catchUpTo) < queue.catchUpTo) {
                            putBack(room, queue);
                            continue;
                        }
                    } catch (Exception e) {
                        LOG.warn("search index: room {} up to seq {} not caught up ({})", room, queue.catchUpTo, e.toString());
                        catchUpLater(room, Math.max(queue.catchUpTo, last));
                        failed = true;
                        continue;
                    }
                }
                if (!queue.pending.isEmpty()) {
                    live.put(room, queue.pending);
                }
            }
            try {
                Map<String, Long> progress = new HashMap<>();
                for (String room : table.applyAll(live, progress)) {
                    // events missing before these (a write that failed, a hand-off): from the journal
                    List<MessageSearchTable.Change> behind = live.get(room);
                    catchUpLater(room, behind.get(behind.size() - 1).seq());
                }
            } catch (Exception e) {
                LOG.warn("search index: {} rooms not written ({})", live.size(), e.toString());
                live.forEach((room, changes) -> catchUpLater(room, changes.get(changes.size() - 1).seq()));
                failed = true;
            }
            if (failed) {
                LOG.warn("search index: catching up from the journal in {} s", RETRY.toSeconds());
                CompletableFuture.delayedExecutor(RETRY.toMillis(), TimeUnit.MILLISECONDS, writer).execute(this::drain);
                return; // writing stays true meanwhile: no second drain starts
            }
        }
    }

    /**
     * One step of a room's catch-up to {@code lastSeq}: at most {@link #CATCH_UP_CHUNK} events from its
     * journal. Returns the room's progress, {@code lastSeq} when there is nothing more to read.
     */
    private long catchUpStep(String room, long lastSeq) throws Exception {
        long progress = table.progress(room);
        if (progress >= lastSeq) {
            return lastSeq;
        }
        String persistenceId = PersistenceId.of(RoomEntity.ENTITY_KEY.name(), room).id();
        long to = Math.min(lastSeq, progress + CATCH_UP_CHUNK);
        List<StoredEvent> events = journal.read(persistenceId, progress + 1, to).toCompletableFuture().get(30, TimeUnit.SECONDS);
        if (events.isEmpty()) {
            return lastSeq;
        }
        return table.apply(room, events.stream().map(MessageIndexer::change).toList());
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
