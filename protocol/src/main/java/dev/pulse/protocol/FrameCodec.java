package dev.pulse.protocol;

import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The JSON codec of the wire protocol. Decoding a client frame validates every field against the
 * contract and never throws: anything wrong becomes a {@link Decoded.Rejected} carrying the error to
 * send back. Encoding is plain Jackson over the {@link ServerFrame} records.
 */
public final class FrameCodec {

    private static final ObjectMapper MAPPER = JsonMapper.builder()
        .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS) // one frame is exactly one JSON object
        .build();

    static {
        // Frames are at most 64 KiB; a deep nesting bomb must fail fast, not recurse.
        MAPPER.getFactory().setStreamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).build());
    }

    /** Reads server frames by their record shape; the {@code type} field is dispatched by hand. */
    /** Fields in the order of PROTOCOL.md's examples: type, room, target, id, then the change's own. */
    private static void encodeChange(ObjectNode node, ClientFrame.RoomChange change) {
        node.put("type", change instanceof ClientFrame.Edit ? "edit" : change instanceof ClientFrame.Delete ? "delete" : "react")
            .put("room", change.room()).put("target", change.target());
        if (change.id() != null) {
            node.put("id", change.id());
        }
        if (change instanceof ClientFrame.Edit f) {
            node.put("text", f.text());
        } else if (change instanceof ClientFrame.React f) {
            node.put("emoji", f.emoji()).put("on", f.on());
        }
    }

    private static final ObjectMapper SERVER_READER = JsonMapper.builder()
        .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .addMixIn(ServerFrame.class, NoTypeInfo.class)
        .build();

    @JsonTypeInfo(use = JsonTypeInfo.Id.NONE)
    private interface NoTypeInfo {}

    private final Limits limits;

    public FrameCodec(Limits limits) {
        this.limits = limits;
    }

    public Limits limits() {
        return limits;
    }

    // ---------------------------------------------------------------- client frames (server side)

    /** Decodes and validates one client frame. Never throws. */
    public Decoded decodeClient(String json) {
        if (json == null) {
            return new Decoded.Rejected(null, ErrorCode.INVALID, "empty frame");
        }
        if (json.length() > limits.maxFrameBytes() || utf8Length(json) > limits.maxFrameBytes()) {
            return new Decoded.Rejected(null, ErrorCode.TOO_LARGE,
                "frame exceeds " + limits.maxFrameBytes() + " bytes");
        }
        JsonNode root;
        try {
            root = MAPPER.readTree(json);
        } catch (JsonProcessingException | RuntimeException e) {
            return new Decoded.Rejected(null, ErrorCode.INVALID, "malformed JSON");
        }
        if (root == null || !root.isObject()) {
            return new Decoded.Rejected(null, ErrorCode.INVALID, "a frame must be a JSON object");
        }
        JsonNode refNode = root.get("ref");
        String ref = null;
        if (refNode != null && !refNode.isNull()) {
            if (!refNode.isTextual() || refNode.textValue().length() > Limits.MAX_REF_CHARS
                || !isWellFormed(refNode.textValue())) {
                return new Decoded.Rejected(null, ErrorCode.INVALID,
                    "ref must be a string of at most " + Limits.MAX_REF_CHARS + " characters");
            }
            ref = refNode.textValue();
        }
        try {
            return new Decoded.Ok(decodeBody(ref, root));
        } catch (Invalid e) {
            return new Decoded.Rejected(ref, ErrorCode.INVALID, e.getMessage());
        }
    }

    private ClientFrame decodeBody(String ref, JsonNode root) {
        JsonNode typeNode = root.get("type");
        if (typeNode == null || !typeNode.isTextual()) {
            throw new Invalid("type must be a string");
        }
        String type = typeNode.textValue();
        return switch (type) {
            case "join" -> new ClientFrame.Join(ref, room(root), optionalCount(root, "since", 0));
            case "leave" -> new ClientFrame.Leave(ref, room(root));
            case "send" -> new ClientFrame.Send(ref, room(root), messageId(root), text(root));
            case "history" -> new ClientFrame.History(ref, room(root), optionalCount(root, "before", 1), historyLimit(root));
            case "typing" -> new ClientFrame.Typing(ref, room(root));
            case "presence" -> new ClientFrame.PresenceQuery(ref, users(root));
            case "ping" -> new ClientFrame.Ping(ref);
            case "read" -> new ClientFrame.Read(ref, room(root), requiredCount(root, "seq"));
            case "directory" -> new ClientFrame.Directory(ref, directoryQuery(root), directoryLimit(root));
            case "search" -> new ClientFrame.Search(ref, searchQuery(root), optionalRoom(root),
                limit(root, Limits.SEARCH_DEFAULT_LIMIT, Limits.SEARCH_MAX_LIMIT));
            case "edit" -> new ClientFrame.Edit(ref, room(root), target(root), optionalId(root), text(root));
            case "delete" -> new ClientFrame.Delete(ref, room(root), target(root), optionalId(root));
            case "react" -> new ClientFrame.React(ref, room(root), target(root), optionalId(root), emoji(root), on(root));
            default -> throw new Invalid("unknown type '" + abbreviate(type) + "'");
        };
    }

    private static String room(JsonNode root) {
        JsonNode node = root.get("room");
        if (node == null || !node.isTextual()) {
            throw new Invalid("room must be a string");
        }
        String room = node.textValue();
        if (!Names.isValidRoom(room)) {
            throw new Invalid("invalid room id '" + abbreviate(room)
                + "': use [a-z0-9][a-z0-9_.-]{0,63} or dm:<a>:<b> with two users in sorted order");
        }
        return room;
    }

    private static String messageId(JsonNode root) {
        JsonNode node = root.get("id");
        if (node == null || !node.isTextual() || node.textValue().isEmpty()
            || node.textValue().length() > Limits.MAX_ID_CHARS || !isWellFormed(node.textValue())) {
            throw new Invalid("id must be a string of 1-" + Limits.MAX_ID_CHARS + " characters");
        }
        return node.textValue();
    }

    private static String searchQuery(JsonNode root) {
        JsonNode node = root.get("query");
        String query = node != null && node.isTextual() ? node.textValue() : null;
        if (query == null || !isWellFormed(query) || query.isBlank()
            || query.codePointCount(0, query.length()) > Limits.MAX_SEARCH_QUERY_CHARS) {
            throw new Invalid("query must be a string of 1-" + Limits.MAX_SEARCH_QUERY_CHARS + " characters");
        }
        return query;
    }

    private static String optionalRoom(JsonNode root) {
        JsonNode node = root.get("room");
        return node == null || node.isNull() ? null : room(root);
    }

    /** A change's optional {@code id}: like a send's when present. */
    private static String optionalId(JsonNode root) {
        JsonNode node = root.get("id");
        return node == null || node.isNull() ? null : messageId(root);
    }

    private static long target(JsonNode root) {
        Long target = optionalCount(root, "target", 1);
        if (target == null) {
            throw new Invalid("target must be an integer >= 1");
        }
        return target;
    }

    private static String emoji(JsonNode root) {
        JsonNode node = root.get("emoji");
        String emoji = node != null && node.isTextual() ? node.textValue() : null;
        if (emoji == null || !isWellFormed(emoji) || emoji.isBlank()
            || emoji.codePointCount(0, emoji.length()) > Limits.MAX_EMOJI_CHARS) {
            throw new Invalid("emoji must be a string of 1-" + Limits.MAX_EMOJI_CHARS + " characters");
        }
        return emoji;
    }

    /** {@code on} defaults to true: a reaction is set unless the client says it is removed. */
    private static boolean on(JsonNode root) {
        JsonNode node = root.get("on");
        if (node == null || node.isNull()) {
            return true;
        }
        if (!node.isBoolean()) {
            throw new Invalid("on must be true or false");
        }
        return node.booleanValue();
    }

    private String text(JsonNode root) {
        JsonNode node = root.get("text");
        if (node == null || !node.isTextual()) {
            throw new Invalid("text must be a string");
        }
        String text = node.textValue();
        if (!isWellFormed(text)) {
            throw new Invalid("text must be valid Unicode (it holds a lone surrogate)");
        }
        String trimmed = text.strip();
        int chars = trimmed.codePointCount(0, trimmed.length());
        if (chars < 1 || chars > limits.maxTextChars()) {
            throw new Invalid("text must have 1-" + limits.maxTextChars() + " characters after trimming");
        }
        return text;
    }

    /** An optional non-negative integer field of at least {@code min}; null when absent or null. */
    private static Long optionalCount(JsonNode root, String field, long min) {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isIntegralNumber() || !node.canConvertToLong() || node.longValue() < min) {
            throw new Invalid(field + " must be an integer >= " + min);
        }
        return node.longValue();
    }

    private static long requiredCount(JsonNode root, String field) {
        Long value = optionalCount(root, field, 0);
        if (value == null) {
            throw new Invalid(field + " must be an integer >= 0");
        }
        return value;
    }

    /** Room ids are lower-case: the query is matched without regard to case. */
    private static String directoryQuery(JsonNode root) {
        JsonNode node = root.get("query");
        if (node == null || node.isNull()) {
            return "";
        }
        if (!node.isTextual() || node.textValue().length() > Limits.MAX_DIRECTORY_QUERY_CHARS) {
            throw new Invalid("query must be a string of at most " + Limits.MAX_DIRECTORY_QUERY_CHARS + " characters");
        }
        return node.textValue().toLowerCase(Locale.ROOT);
    }

    private static int directoryLimit(JsonNode root) {
        return limit(root, Limits.DIRECTORY_DEFAULT_LIMIT, Limits.DIRECTORY_MAX_LIMIT);
    }

    private static int historyLimit(JsonNode root) {
        return limit(root, Limits.HISTORY_DEFAULT_LIMIT, Limits.HISTORY_MAX_LIMIT);
    }

    /** The optional {@code limit} field: 1 to {@code max}, {@code absent} when left out. */
    private static int limit(JsonNode root, int absent, int max) {
        Long limit = optionalCount(root, "limit", 1);
        if (limit == null) {
            return absent;
        }
        if (limit > max) {
            throw new Invalid("limit must be an integer from 1 to " + max);
        }
        return limit.intValue();
    }

    private static List<String> users(JsonNode root) {
        JsonNode node = root.get("users");
        if (node == null || !node.isArray() || node.size() > Limits.MAX_PRESENCE_USERS) {
            throw new Invalid("users must be an array of at most " + Limits.MAX_PRESENCE_USERS + " user names");
        }
        List<String> users = new ArrayList<>(node.size());
        for (JsonNode user : node) {
            if (!user.isTextual() || !Names.isValidUser(user.textValue())) {
                throw new Invalid("users must hold user names of 1-32 characters of [a-z0-9_.-]");
            }
            users.add(user.textValue());
        }
        return List.copyOf(users);
    }

    /** At most 80 code points of client input for an error message, never half a character. */
    private static String abbreviate(String s) {
        return s.codePointCount(0, s.length()) <= 80 ? s : s.substring(0, s.offsetByCodePoints(0, 80)) + "…";
    }

    /** False when the string holds a lone surrogate, which has no UTF-8 form to store or send. */
    private static boolean isWellFormed(String s) {
        for (int i = 0, n = s.length(); i < n; i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return false;
            }
        }
        return true;
    }

    /** UTF-8 length without allocating a byte array. */
    public static int utf8Length(CharSequence s) {
        int bytes = 0;
        for (int i = 0, n = s.length(); i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                bytes += 1;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                bytes += 4;
                i++;
            } else {
                bytes += 3;
            }
        }
        return bytes;
    }

    /** A validation failure inside decoding; never escapes {@link #decodeClient}. */
    private static final class Invalid extends RuntimeException {
        Invalid(String message) {
            super(message, null, false, false);
        }
    }

    // ---------------------------------------------------------------- server frames

    public static String encode(ServerFrame frame) {
        try {
            return MAPPER.writeValueAsString(frame);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode " + frame, e);
        }
    }

    public static byte[] encodeUtf8(ServerFrame frame) {
        return encode(frame).getBytes(StandardCharsets.UTF_8);
    }

    /** Decodes a server frame (for clients and tests); throws {@link IllegalArgumentException} when it is not one. */
    public static ServerFrame decodeServer(String json) {
        try {
            JsonNode root = MAPPER.readTree(json);
            String type = root.path("type").asText("");
            Class<? extends ServerFrame> shape = switch (type) {
                case "welcome" -> ServerFrame.Welcome.class;
                case "joined" -> ServerFrame.Joined.class;
                case "synced" -> ServerFrame.Synced.class;
                case "left" -> ServerFrame.Left.class;
                case "ack" -> ServerFrame.Ack.class;
                case "message" -> ServerFrame.Message.class;
                case "edited" -> ServerFrame.Edited.class;
                case "deleted" -> ServerFrame.Deleted.class;
                case "reacted" -> ServerFrame.Reacted.class;
                case "history" -> null; // read below: its events are of several types
                case "typing" -> ServerFrame.Typing.class;
                case "member" -> ServerFrame.MemberChange.class;
                case "presence" -> root.has("users") ? ServerFrame.PresenceList.class : ServerFrame.Presence.class;
                case "pong" -> ServerFrame.Pong.class;
                case "rooms" -> ServerFrame.Rooms.class;
                case "read" -> ServerFrame.Read.class;
                case "directory" -> ServerFrame.Directory.class;
                case "search" -> ServerFrame.Search.class;
                case "error" -> ServerFrame.Error.class;
                default -> throw new IllegalArgumentException("unknown server frame type '" + type + "'");
            };
            return shape == null ? history(root) : SERVER_READER.treeToValue(root, shape);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not a server frame: " + e.getOriginalMessage(), e);
        }
    }

    /** A history page: its events are of several types, each read by its own {@code type}. */
    private static ServerFrame.History history(JsonNode root) throws JsonProcessingException {
        List<ServerFrame.RoomEvent> events = new ArrayList<>();
        for (JsonNode event : root.path("messages")) {
            if (!(decodeServer(event.toString()) instanceof ServerFrame.RoomEvent roomEvent)) {
                throw new IllegalArgumentException("a history page holds a frame that is no room event: " + event);
            }
            events.add(roomEvent);
        }
        JsonNode ref = root.get("ref");
        return new ServerFrame.History(ref == null || ref.isNull() ? null : ref.asText(), root.path("room").asText(null),
            List.copyOf(events), root.path("hasMore").asBoolean());
    }

    // ---------------------------------------------------------------- client frames (client side)

    /** Encodes a client frame as a client would send it. */
    public static String encode(ClientFrame frame) {
        ObjectNode node = MAPPER.createObjectNode();
        if (frame instanceof ClientFrame.Join f) {
            node.put("type", "join").put("room", f.room());
            if (f.since() != null) {
                node.put("since", f.since());
            }
        } else if (frame instanceof ClientFrame.Leave f) {
            node.put("type", "leave").put("room", f.room());
        } else if (frame instanceof ClientFrame.Send f) {
            node.put("type", "send").put("room", f.room()).put("id", f.id()).put("text", f.text());
        } else if (frame instanceof ClientFrame.History f) {
            node.put("type", "history").put("room", f.room()).put("limit", f.limit());
            if (f.before() != null) {
                node.put("before", f.before());
            }
        } else if (frame instanceof ClientFrame.Typing f) {
            node.put("type", "typing").put("room", f.room());
        } else if (frame instanceof ClientFrame.PresenceQuery f) {
            var users = node.put("type", "presence").putArray("users");
            f.users().forEach(users::add);
        } else if (frame instanceof ClientFrame.Read f) {
            node.put("type", "read").put("room", f.room()).put("seq", f.seq());
        } else if (frame instanceof ClientFrame.Directory f) {
            node.put("type", "directory").put("query", f.query()).put("limit", f.limit());
        } else if (frame instanceof ClientFrame.Search f) {
            node.put("type", "search").put("query", f.query());
            if (f.room() != null) {
                node.put("room", f.room());
            }
            node.put("limit", f.limit());
        } else if (frame instanceof ClientFrame.RoomChange change) {
            encodeChange(node, change);
        } else {
            node.put("type", "ping");
        }
        if (frame.ref() != null) {
            node.put("ref", frame.ref());
        }
        return node.toString();
    }
}
