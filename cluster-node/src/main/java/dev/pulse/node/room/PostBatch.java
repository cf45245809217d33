package dev.pulse.node.room;

import dev.pulse.protocol.ErrorCode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * A room's posts on their way to the journal: those waiting for the next write, collected while a
 * write is in flight so a hot room writes many in one {@code persist(List)}, and the batch being
 * written. A retry of a waiting post joins it: one message, and every waiter gets its ack. Used by
 * {@link RoomEntity} on its own thread only.
 */
final class PostBatch {

    /** A post waiting to be written, with every request (retries included) waiting on its ack. */
    private record Waiting(String id, String from, String text, List<RoomEntity.Post> waiters) {}

    private final LinkedHashMap<String, Waiting> next = new LinkedHashMap<>();
    /** The batch being written: answered "unavailable" if the write fails. */
    private List<Waiting> writing = List.of();
    private boolean flushScheduled;

    /** Adds a post that is not committed yet; true when a flush must be scheduled for it. */
    boolean add(RoomEntity.Post post) {
        Waiting waiting = next.computeIfAbsent(RoomState.idKey(post.user(), post.id()),
            key -> new Waiting(post.id(), post.user(), post.text(), new ArrayList<>(1)));
        waiting.waiters().add(post);
        return scheduleFlush();
    }

    /** After recovery (a failed write restarts the room): true when posts still wait for a flush. */
    boolean resumeAfterRecovery() {
        flushScheduled = false;
        return scheduleFlush();
    }

    private boolean scheduleFlush() {
        if (flushScheduled || next.isEmpty()) {
            return false;
        }
        flushScheduled = true;
        return true;
    }

    /** Takes the waiting posts as the batch to write, all stamped {@code ts}; empty when none wait. */
    List<RoomEvent> startWrite(long ts) {
        flushScheduled = false;
        writing = new ArrayList<>(next.values());
        next.clear();
        List<RoomEvent> events = new ArrayList<>(writing.size());
        writing.forEach(post -> events.add(new RoomEvent.MessagePosted(post.id(), post.from(), post.text(), ts)));
        return events;
    }

    /** Whether a batch is being written (and not yet committed). */
    boolean writeInFlight() {
        return !writing.isEmpty();
    }

    /** The batch is committed up to {@code lastSeq}: acks every waiter, returns the messages to publish. */
    List<StoredEvent> committed(long lastSeq, long ts) {
        List<Waiting> batch = writing;
        writing = List.of();
        long firstSeq = lastSeq - batch.size() + 1;
        List<StoredEvent> published = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            Waiting post = batch.get(i);
            long seq = firstSeq + i;
            published.add(new StoredMessage(seq, post.id(), post.from(), post.text(), ts));
            post.waiters().forEach(waiter -> waiter.replyTo().tell(new RoomEntity.Posted(waiter.tag(), post.id(), seq, ts)));
        }
        return published;
    }

    /**
     * The journal failed (or the room stops): nobody waits in vain for an ack. The posts were not
     * committed; clients retry them with the same id.
     */
    void rejectAll() {
        writing.forEach(PostBatch::rejectUnavailable);
        next.values().forEach(PostBatch::rejectUnavailable);
        writing = List.of();
        next.clear();
        flushScheduled = false;
    }

    private static void rejectUnavailable(Waiting post) {
        post.waiters().forEach(waiter -> waiter.replyTo().tell(new RoomEntity.PostRejected(waiter.tag(),
            ErrorCode.UNAVAILABLE, "the message store is unavailable; retry with the same id")));
    }
}
