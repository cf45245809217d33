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
import java.util.TreeMap;

/**
 * The journaled state of a room: the last seq, a bounded window of recent events (fast resume and
 * history), a bounded map of recent client ids (idempotent send), and (version 1.1) what edits,
 * deletions and reactions did to each message they touched, however old: history is served folded. Mutated in place by the event
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
    private final ArrayDeque<StoredEvent> window;
    private final LinkedHashMap<String, Committed> recentIds;
    /** Every message that a later event changed, by seq. */
    private final TreeMap<Long, MessageChange> changes;

    public RoomState() {
        this(0, 0, List.of(), Map.of(), Map.of());
    }

    /** The empty state handed to Pekko: recovery always starts from it, so it stays empty. */
    public static RoomState emptyTemplate() {
        return new RoomState(true);
    }

    private RoomState(boolean template) {
        this.template = template;
        this.window = new ArrayDeque<>();
        this.recentIds = new LinkedHashMap<>();
        this.changes = new TreeMap<>();
    }

    @JsonCreator
    RoomState(@JsonProperty("lastSeq") long lastSeq, @JsonProperty("lastTs") long lastTs,
              @JsonProperty("window") List<StoredEvent> window,
              @JsonProperty("recentIds") Map<String, Committed> recentIds,
              @JsonProperty("changes") Map<Long, MessageChange> changes) {
        this.template = false;
        this.lastSeq = lastSeq;
        this.lastTs = lastTs;
        this.window = new ArrayDeque<>(window);
        this.recentIds = new LinkedHashMap<>(recentIds);
        this.changes = changes == null ? new TreeMap<>() : new TreeMap<>(changes); // none in snapshots before 1.1
    }

    /** A copy, for the snapshot store (events and changes are immutable). */
    public RoomState copy() {
        return new RoomState(lastSeq, lastTs, windowList(), new LinkedHashMap<>(recentIds), changes);
    }

    /** The key under which a user's client id is remembered: ids are per sender. */
    public static String idKey(String user, String id) {
        return user + '\n' + id;
    }

    RoomState apply(RoomEvent event, int windowSize, int rememberedIds) {
        if (template) {
            return new RoomState().apply(event, windowSize, rememberedIds);
        }
        StoredEvent stored = RoomEvent.stored(event, ++lastSeq);
        lastTs = stored.ts();
        window.addLast(stored);
        while (window.size() > windowSize) {
            window.removeFirst();
        }
        if (stored.id() != null) {
            recentIds.put(idKey(stored.from(), stored.id()), new Committed(lastSeq, stored.ts()));
            while (recentIds.size() > rememberedIds) {
                recentIds.remove(recentIds.keySet().iterator().next());
            }
        }
        if (event instanceof RoomEvent.MessageEdited edited) {
            changes.put(edited.target(), changeOf(edited.target(), edited.from()).edited(edited.text(), edited.ts()));
        } else if (event instanceof RoomEvent.MessageDeleted deleted) {
            changes.put(deleted.target(), changeOf(deleted.target(), deleted.from()).asDeleted());
        } else if (event instanceof RoomEvent.ReactionSet reaction) {
            changes.put(reaction.target(), changeOf(reaction.target(), reaction.author())
                .reacted(reaction.from(), reaction.emoji(), reaction.on(), lastSeq, reaction.ts()));
        }
        return this;
    }

    private MessageChange changeOf(long target, String author) {
        MessageChange change = changes.get(target);
        return change != null ? change : MessageChange.of(author);
    }

    /** What later events did to message {@code seq}; null when nothing did. */
    public MessageChange change(long seq) {
        return changes.get(seq);
    }

    /** The event {@code seq} when the window holds it, else null. */
    public StoredEvent inWindow(long seq) {
        long start = windowStart();
        if (seq < start || seq > lastSeq) {
            return null;
        }
        int index = (int) (seq - start);
        if (index < window.size() / 2) {
            return window.stream().skip(index).findFirst().orElse(null);
        }
        var descending = window.descendingIterator();
        for (long at = lastSeq; descending.hasNext(); at--) {
            StoredEvent event = descending.next();
            if (at == seq) {
                return event;
            }
        }
        return null;
    }

    /**
     * The events as served: each message as it is now (text as last edited, deleted, reactions), and
     * no edit's text once its message is deleted.
     */
    public List<StoredEvent> asServed(List<StoredEvent> events) {
        if (changes.isEmpty()) {
            return events;
        }
        List<StoredEvent> served = new ArrayList<>(events.size());
        for (StoredEvent event : events) {
            served.add(asServed(event));
        }
        return served;
    }

    private StoredEvent asServed(StoredEvent event) {
        if (event instanceof StoredMessage message) {
            MessageChange change = changes.get(message.seq());
            return change == null ? message : message.as(change);
        }
        if (event instanceof StoredEdit edit) {
            MessageChange change = changes.get(edit.target());
            return change != null && change.deleted() ? edit.withoutText() : edit;
        }
        return event;
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
    List<StoredEvent> windowList() {
        return new ArrayList<>(window);
    }

    @JsonProperty("changes")
    Map<Long, MessageChange> changeMap() {
        return changes;
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
        for (StoredMessage message : messagesAfter(lastRead)) {
            String text = message.currentText();
            if (text != null && text.indexOf('@') >= 0) {
                List<String> mentioned = Mentions.inOrNull(text);
                if (mentioned != null && mentioned.contains(user)) {
                    count++;
                }
            }
        }
        return count;
    }

    /**
     * Messages after {@code lastRead} that are not deleted: those in the window counted, and every seq
     * older than the window taken for one (version 1.1: edits, deletions and reactions also take seqs).
     */
    public long unreadAfter(long lastRead) {
        if (lastRead >= lastSeq) {
            return 0;
        }
        long olderThanWindow = Math.max(0, windowStart() - 1 - lastRead);
        return olderThanWindow + messagesAfter(lastRead).size();
    }

    private List<StoredMessage> messagesAfter(long lastRead) {
        List<StoredMessage> messages = new ArrayList<>();
        var descending = window.descendingIterator();
        for (long seq = lastSeq; descending.hasNext() && seq > lastRead; seq--) {
            if (descending.next() instanceof StoredMessage message) {
                MessageChange change = changes.get(seq);
                if (change == null || !change.deleted()) {
                    messages.add(change == null ? message : message.as(change));
                }
            }
        }
        return messages;
    }

    /** First seq held in the window; {@code lastSeq + 1} when the window is empty. */
    @JsonIgnore
    public long windowStart() {
        return window.isEmpty() ? lastSeq + 1 : window.getFirst().seq();
    }

    /** Messages {@code from..to} (inclusive), all of which must lie in the window. */
    public List<StoredEvent> windowSlice(long from, long to) {
        List<StoredEvent> slice = new ArrayList<>((int) Math.max(0, to - from + 1));
        long start = windowStart();
        int index = 0;
        for (StoredEvent message : window) {
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
