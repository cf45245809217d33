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
    /** Catch-up steps stop for a pass after this long, so that live changes are not held up behind them. */
    private static final long CATCH_UP_BUDGET_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

    /** One room's changes waiting. */
    private static final class RoomQueue {
        final List<MessageSearchTable.Change> pending = new ArrayList<>();
        /** Catch up to this seq from the journal first; 0: no catch-up due. */
        long catchUpTo;
        /** After a failure: not before this ({@link System#nanoTime}); 0: at once. Only this room waits. */
        long notBeforeNanos;

        long lastPending() {
            return pending.isEmpty() ? 0 : pending.get(pending.size() - 1).seq();
        }
    }

    private final MessageSearchTable table;
    private final HistoryReader journal;
    private final Executor writer;
    /** Guarded by itself, as is {@link #writing}. */
    private final Map<String, RoomQueue> rooms = new LinkedHashMap<>();
    /**
     * Whether a drain runs or is due: exactly one at a time, so each room's changes are written in order.
     * False while only rooms that wait after a failure are left; a wake-up is scheduled for them.
     */
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

    /**
     * Takes what waits and is due, at most {@link #ROOMS_PER_WRITE} rooms. When nothing is due, the
     * writer stops, with a wake-up for the rooms that wait after a failure.
     */
    private Map<String, RoomQueue> take() {
        synchronized (rooms) {
            long now = System.nanoTime();
            Map<String, RoomQueue> taken = new LinkedHashMap<>();
            long nextDue = Long.MAX_VALUE;
            Iterator<Map.Entry<String, RoomQueue>> waiting = rooms.entrySet().iterator();
            while (waiting.hasNext() && taken.size() < ROOMS_PER_WRITE) {
                Map.Entry<String, RoomQueue> room = waiting.next();
                long waitNanos = room.getValue().notBeforeNanos - now;
                if (room.getValue().notBeforeNanos != 0 && waitNanos > 0) {
                    nextDue = Math.min(nextDue, waitNanos);
                    continue;
                }
                taken.put(room.getKey(), room.getValue());
                waiting.remove();
            }
            if (taken.isEmpty()) {
                writing = false;
                if (nextDue != Long.MAX_VALUE) {
                    CompletableFuture.delayedExecutor(nextDue, TimeUnit.NANOSECONDS, writer).execute(this::wake);
                }
            }
            return taken;
        }
    }

    private void wake() {
        synchronized (rooms) {
            if (writing) {
                return;
            }
            writing = true;
        }
        drain();
    }

    /**
     * After a failure: the room catches up to {@code seq} from the journal, ahead of what waits for it,
     * in {@link #RETRY}.
     */
    private void catchUpLater(String room, long seq) {
        synchronized (rooms) {
            RoomQueue queue = rooms.computeIfAbsent(room, r -> new RoomQueue());
            queue.catchUpTo = Math.max(queue.catchUpTo, seq);
            queue.notBeforeNanos = System.nanoTime() + RETRY.toNanos();
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

    /** Writes what is due until nothing is; a room that fails waits {@link #RETRY}, the others go on. */
    private void drain() {
        for (Map<String, RoomQueue> taken = take(); !taken.isEmpty(); taken = take()) {
            try {
                write(taken);
            } catch (Throwable e) { // never leave the writer stopped with rooms waiting
                LOG.error("search index: {} rooms not written", taken.size(), e);
                taken.forEach((room, queue) -> catchUpLater(room, Math.max(queue.catchUpTo, queue.lastPending())));
            }
        }
    }

    /** One pass: the rooms' catch-up steps (within a time budget), then all their live changes in one transaction. */
    private void write(Map<String, RoomQueue> taken) {
        long budgetEnd = System.nanoTime() + CATCH_UP_BUDGET_NANOS;
        Map<String, List<MessageSearchTable.Change>> live = new HashMap<>();
        for (Map.Entry<String, RoomQueue> entry : taken.entrySet()) {
            String room = entry.getKey();
            RoomQueue queue = entry.getValue();
            if (queue.catchUpTo > 0) {
                if (System.nanoTime() - budgetEnd > 0) {
                    putBack(room, queue); // next pass
                    continue;
                }
                try {
                    if (catchUpStep(room, queue.catchUpTo) < queue.catchUpTo) {
                        putBack(room, queue);
                        continue;
                    }
                } catch (Exception e) {
                    LOG.warn("search index: room {} up to seq {} not caught up ({}); again in {} s", room, queue.catchUpTo,
                        e.toString(), RETRY.toSeconds());
                    catchUpLater(room, Math.max(queue.catchUpTo, queue.lastPending()));
                    continue;
                }
            }
            if (!queue.pending.isEmpty()) {
                live.put(room, queue.pending);
            }
        }
        try {
            for (String room : table.applyAll(live, new HashMap<>())) {
                // events missing before these (a write that failed, a hand-off): from the journal, at once
                putBack(room, caughtUpTo(live.get(room)));
            }
        } catch (Exception e) {
            LOG.warn("search index: {} rooms not written ({}); from the journal in {} s", live.size(), e.toString(),
                RETRY.toSeconds());
            live.forEach((room, changes) -> catchUpLater(room, changes.get(changes.size() - 1).seq()));
        }
    }

    /** A queue that only catches up, to the last of {@code changes}. */
    private static RoomQueue caughtUpTo(List<MessageSearchTable.Change> changes) {
        RoomQueue queue = new RoomQueue();
        queue.catchUpTo = changes.get(changes.size() - 1).seq();
        return queue;
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
