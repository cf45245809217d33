package dev.pulse.protocol;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.annotation.JsonTypeName;
import java.util.List;
import java.util.Map;

/**
 * Frames a node sends to a client. The JSON {@code type} field is the {@link JsonTypeName};
 * absent optional fields (null) are left out of the JSON.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, include = JsonTypeInfo.As.PROPERTY, property = "type")
@JsonSubTypes({
    @JsonSubTypes.Type(ServerFrame.Welcome.class),
    @JsonSubTypes.Type(ServerFrame.Joined.class),
    @JsonSubTypes.Type(ServerFrame.Synced.class),
    @JsonSubTypes.Type(ServerFrame.Left.class),
    @JsonSubTypes.Type(ServerFrame.Ack.class),
    @JsonSubTypes.Type(ServerFrame.Message.class),
    @JsonSubTypes.Type(ServerFrame.Edited.class),
    @JsonSubTypes.Type(ServerFrame.Deleted.class),
    @JsonSubTypes.Type(ServerFrame.Reacted.class),
    @JsonSubTypes.Type(ServerFrame.History.class),
    @JsonSubTypes.Type(ServerFrame.Typing.class),
    @JsonSubTypes.Type(ServerFrame.MemberChange.class),
    @JsonSubTypes.Type(ServerFrame.Presence.class),
    @JsonSubTypes.Type(ServerFrame.PresenceList.class),
    @JsonSubTypes.Type(ServerFrame.Pong.class),
    @JsonSubTypes.Type(ServerFrame.Rooms.class),
    @JsonSubTypes.Type(ServerFrame.Read.class),
    @JsonSubTypes.Type(ServerFrame.Directory.class),
    @JsonSubTypes.Type(ServerFrame.Search.class),
    @JsonSubTypes.Type(ServerFrame.Error.class)
})
@JsonInclude(JsonInclude.Include.NON_NULL)
public sealed interface ServerFrame {

    /** {@code protocol}: {@link #PROTOCOL}, the version this node speaks. */
    @JsonTypeName("welcome")
    record Welcome(String user, String session, String node, long heartbeatMs, double protocol) implements ServerFrame {
        /** Version 1.1: accounts, the user's own state, members and the directory, mentions, edit/delete/react, search. */
        public static final double PROTOCOL = 1.1;
    }

    /** A room member and their presence; {@code lastSeen} only when offline and known. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Member(String user, String status, String lastSeen) {}

    @JsonTypeName("joined")
    record Joined(String ref, String room, long lastSeq, List<Member> members) implements ServerFrame {}

    @JsonTypeName("synced")
    record Synced(String room, long lastSeq) implements ServerFrame {}

    @JsonTypeName("left")
    record Left(String ref, String room) implements ServerFrame {}

    @JsonTypeName("ack")
    record Ack(String ref, String room, String id, long seq, String ts) implements ServerFrame {}

    /**
     * A room event: it has the room's next {@code seq} (version 1.1: messages, and the edits, deletions
     * and reactions of messages, share one gap-free sequence).
     */
    sealed interface RoomEvent extends ServerFrame {
        String room();

        long seq();
    }

    /**
     * {@code mentions}: the names {@code text} mentions ({@link Mentions}), null (left out) when none.
     * Version 1.1, in history and replays, the message as it is now: {@code text} as last edited with
     * {@code editedAt}, or {@code deleted} with no text; {@code reactions} maps each emoji to who set it.
     */
    @JsonTypeName("message")
    record Message(String room, long seq, String id, String from, String text, String ts, List<String> mentions,
                   String editedAt, Boolean deleted, Map<String, List<String>> reactions)
        implements RoomEvent {

        /** A message whose mentions are read from its text. */
        public Message(String room, long seq, String id, String from, String text, String ts) {
            this(room, seq, id, from, text, ts, Mentions.inOrNull(text));
        }

        public Message(String room, long seq, String id, String from, String text, String ts, List<String> mentions) {
            this(room, seq, id, from, text, ts, mentions, null, null, null);
        }
    }

    /** Version 1.1: {@code from} edited message {@code target}; {@code text} is left out once it is deleted. */
    @JsonTypeName("edited")
    record Edited(String room, long seq, long target, String from, String text, String ts) implements RoomEvent {}

    /** Version 1.1: {@code from} deleted message {@code target}. */
    @JsonTypeName("deleted")
    record Deleted(String room, long seq, long target, String from, String ts) implements RoomEvent {}

    /** Version 1.1: {@code from} set ({@code on}) or removed a reaction to message {@code target}. */
    @JsonTypeName("reacted")
    record Reacted(String room, long seq, long target, String from, String emoji, boolean on, String ts) implements RoomEvent {}

    /** {@code messages}: room events ascending by seq (version 1.1: edits, deletions and reactions too). */
    @JsonTypeName("history")
    record History(String ref, String room, List<RoomEvent> messages, boolean hasMore) implements ServerFrame {

        /** The page's {@code message} events only. */
        public List<Message> chatMessages() {
            return messages.stream().filter(Message.class::isInstance).map(Message.class::cast).toList();
        }
    }

    @JsonTypeName("typing")
    record Typing(String room, String user) implements ServerFrame {}

    /**
     * Version 1.1: {@code user} joined the room (their first session there) or left it; pushed to the
     * room's other sessions. Not a room event: no {@code seq}.
     */
    @JsonTypeName("member")
    record MemberChange(String room, String user, String event) implements ServerFrame {
        public static final String JOINED = "joined";
        public static final String LEFT = "left";
    }

    /** A presence change pushed to sessions that share a room with {@code user}. */
    @JsonTypeName("presence")
    record Presence(String user, String status, String lastSeen) implements ServerFrame {}

    /** The answer to a presence query: same {@code type}, told apart by its {@code users} array. */
    @JsonTypeName("presence")
    record PresenceList(String ref, List<Member> users) implements ServerFrame {}

    @JsonTypeName("pong")
    record Pong(String ref) implements ServerFrame {}

    /**
     * Version 1.1: the user's rooms, complete, right after {@code welcome} and whenever the set changes.
     * {@code unread} and {@code mentions} are null (left out) when 0.
     */
    @JsonTypeName("rooms")
    record Rooms(List<RoomEntry> rooms) implements ServerFrame {}

    @JsonInclude(JsonInclude.Include.NON_NULL)
    record RoomEntry(String room, long lastSeq, long lastRead, Long unread, Long mentions) {

        /** An entry whose counts of 0 are left out. */
        public static RoomEntry of(String room, long lastSeq, long lastRead, long unread, long mentions) {
            return new RoomEntry(room, lastSeq, lastRead, unread > 0 ? unread : null, mentions > 0 ? mentions : null);
        }
    }

    /**
     * Version 1.1: a read marker. With {@code ref}, the answer to the client's {@code read} (the stored
     * value); without, another session of the user moved it.
     */
    @JsonTypeName("read")
    record Read(String ref, String room, long seq) implements ServerFrame {}

    /** Version 1.1: public rooms, most members first. */
    @JsonTypeName("directory")
    record Directory(String ref, List<DirectoryEntry> rooms) implements ServerFrame {}

    record DirectoryEntry(String room, long members, long lastSeq) {}

    /** Version 1.1: the answer to {@code search}, newest first. */
    @JsonTypeName("search")
    record Search(String ref, List<SearchResult> results) implements ServerFrame {}

    /** A message that matched, with its current text. */
    record SearchResult(String room, long seq, String from, String text, String ts) {}

    /** {@code retryAfterMs} is only set with {@link ErrorCode#RATE_LIMITED}. */
    @JsonTypeName("error")
    record Error(String ref, String code, String message, Long retryAfterMs) implements ServerFrame {

        public static Error of(String ref, ErrorCode code, String message) {
            return new Error(ref, code.wire(), message, null);
        }

        public ErrorCode errorCode() {
            return ErrorCode.fromWire(code);
        }
    }
}
