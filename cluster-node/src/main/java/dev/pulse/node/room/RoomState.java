package dev.pulse.node.room;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.pulse.node.CborSerializable;
import dev.pulse.protocol.Mentions;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The journaled state of a room: the last seq, a bounded window of recent messages (fast resume and
 * history) and a bounded map of recent client ids (idempotent send). Mutated in place by the event
 * handler only; snapshots get a {@link #copy()}, so the live state is never shared with another thread.
 *
 * <p>Pekko keeps the {@code emptyState()} object across the restarts that follow a failed write,
 * so the empty state is a template that is never mutated: the first event starts a fresh state.
 */
public final class RoomState implements CborSerializable {

    /** Where an already-committed client id landed, so a retry gets the very same ack. */
    public record Committed(long seq, long ts) {}

    private final boolean template;
    private long lastSeq;
    private long lastTs;
    private final ArrayDeque<StoredMessage> window;
    private final LinkedHashMap<String, Committed> recentIds;

    public RoomState() {
        this(0, 0, List.of(), Map.of());
    }

    /** The empty state handed to Pekko: recovery always starts from it, so it stays empty. */
    public static RoomState emptyTemplate() {
        return new RoomState(true);
    }

    private RoomState(boolean template) {
        this.template = template;
        this.window = new ArrayDeque<>();
        this.recentIds = new LinkedHashMap<>();
    }

    @JsonCreator
    RoomState(@JsonProperty("lastSeq") long lastSeq, @JsonProperty("lastTs") long lastTs,
              @JsonProperty("window") List<StoredMessage> window,
              @JsonProperty("recentIds") Map<String, Committed> recentIds) {
        this.template = false;
        this.lastSeq = lastSeq;
        this.lastTs = lastTs;
        this.window = new ArrayDeque<>(window);
        this.recentIds = new LinkedHashMap<>(recentIds);
    }

    /** A deep copy, for the snapshot store. */
    public RoomState copy() {
        return new RoomState(lastSeq, lastTs, windowList(), new LinkedHashMap<>(recentIds));
    }

    /** The key under which a user's client id is remembered: ids are per sender. */
    public static String idKey(String user, String id) {
        return user + '\n' + id;
    }

    RoomState apply(RoomEvent.MessagePosted event, int windowSize, int rememberedIds) {
        if (template) {
            return new RoomState().apply(event, windowSize, rememberedIds);
        }
        lastSeq++;
        lastTs = event.ts();
        window.addLast(new StoredMessage(lastSeq, event.id(), event.from(), event.text(), event.ts()));
        while (window.size() > windowSize) {
            window.removeFirst();
        }
        recentIds.put(idKey(event.from(), event.id()), new Committed(lastSeq, event.ts()));
        while (recentIds.size() > rememberedIds) {
            recentIds.remove(recentIds.keySet().iterator().next());
        }
        return this;
    }

    @JsonProperty
    public long lastSeq() {
        return lastSeq;
    }

    /** Timestamp of the newest message, so timestamps never go backwards along seq. */
    @JsonProperty
    public long lastTs() {
        return lastTs;
    }

    @JsonProperty("window")
    List<StoredMessage> windowList() {
        return new ArrayList<>(window);
    }

    @JsonProperty("recentIds")
    Map<String, Committed> recentIdMap() {
        return recentIds;
    }

    public Committed committed(String user, String id) {
        return recentIds.get(idKey(user, id));
    }

    /** Messages of the window after {@code lastRead} that mention {@code user}. */
    public long mentionsAfter(String user, long lastRead) {
        if (lastRead >= lastSeq) {
            return 0; // all read (and a read marker's check asks with no marker at all)
        }
        long count = 0;
        long seq = windowStart();
        for (StoredMessage message : window) {
            if (seq++ > lastRead && message.text().indexOf('@') >= 0) {
                List<String> mentioned = Mentions.inOrNull(message.text());
                if (mentioned != null && mentioned.contains(user)) {
                    count++;
                }
            }
        }
        return count;
    }

    /** First seq held in the window; {@code lastSeq + 1} when the window is empty. */
    @JsonIgnore
    public long windowStart() {
        return window.isEmpty() ? lastSeq + 1 : window.getFirst().seq();
    }

    /** Messages {@code from..to} (inclusive), all of which must lie in the window. */
    public List<StoredMessage> windowSlice(long from, long to) {
        List<StoredMessage> slice = new ArrayList<>((int) Math.max(0, to - from + 1));
        long start = windowStart();
        int index = 0;
        for (StoredMessage message : window) {
            long seq = start + index++;
            if (seq > to) {
                break;
            }
            if (seq >= from) {
                slice.add(message);
            }
        }
        return slice;
    }
}
