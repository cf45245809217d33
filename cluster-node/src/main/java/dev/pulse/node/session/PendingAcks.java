package dev.pulse.node.session;

import dev.pulse.node.room.RoomEntity;
import java.util.function.LongFunction;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * Sends posted to their rooms and not yet answered, by tag. Posts are the hot path, so they are
 * not asks (a future and a scheduled timeout each): every answer comes back through one message
 * adapter carrying the tag, and one deadline timer serves them all. Insertion order is deadline
 * order, as every send gets the same timeout.
 */
final class PendingAcks {

    /**
     * A send waiting for its room, read at {@code sentNanos}; answered "unavailable" once
     * {@code deadlineNanos} passes. {@code post} is what went to the room (sent again while unanswered).
     */
    record Awaiting(String ref, String room, String ackId, long sentNanos, long deadlineNanos, RoomEntity.Command post) {}

    private final long timeoutNanos;
    private final LinkedHashMap<Long, Awaiting> byTag = new LinkedHashMap<>();
    private long lastTag;

    PendingAcks(long timeoutNanos) {
        this.timeoutNanos = timeoutNanos;
    }

    /**
     * Registers a send (or a change) made at {@code nowNanos}, its post made with the tag its answer
     * will carry; the ack will carry {@code ackId} (the client's id, null when it sent none).
     */
    RoomEntity.Command add(String ref, String room, String ackId, long nowNanos, LongFunction<RoomEntity.Command> post) {
        long tag = ++lastTag;
        Awaiting awaiting = new Awaiting(ref, room, ackId, nowNanos, nowNanos + timeoutNanos, post.apply(tag));
        byTag.put(tag, awaiting);
        return awaiting.post();
    }

    /** The sends made before {@code beforeNanos} and not answered yet, oldest first. */
    List<Awaiting> unansweredSince(long beforeNanos) {
        List<Awaiting> unanswered = new ArrayList<>();
        for (Awaiting awaiting : byTag.values()) {
            if (awaiting.sentNanos() >= beforeNanos) {
                break; // insertion order is send order
            }
            unanswered.add(awaiting);
        }
        return unanswered;
    }

    /** The send an answer is for, no longer pending; null when it already expired (the client was told to retry). */
    Awaiting answered(long tag) {
        return byTag.remove(tag);
    }

    /** Removes and returns the sends whose deadline has passed, oldest first. */
    List<Awaiting> expire(long nowNanos) {
        List<Awaiting> expired = new ArrayList<>();
        Iterator<Awaiting> oldest = byTag.values().iterator();
        while (oldest.hasNext()) {
            Awaiting awaiting = oldest.next();
            if (awaiting.deadlineNanos() > nowNanos) {
                break;
            }
            oldest.remove();
            expired.add(awaiting);
        }
        return expired;
    }

    /** Nanoseconds from {@code nowNanos} to the next deadline; -1 when nothing is pending. */
    long nextDeadlineIn(long nowNanos) {
        if (byTag.isEmpty()) {
            return -1;
        }
        return Math.max(0, byTag.values().iterator().next().deadlineNanos() - nowNanos);
    }

    int size() {
        return byTag.size();
    }
}
