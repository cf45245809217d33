package dev.pulse.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Golden frames: real frames of protocol version 1, one JSON file each under
 * {@code src/test/resources/golden-frames/}, that the Java codec must produce and accept here and
 * that the browser client must read and build in {@code web-ui/test/golden-frames.test.ts}. A change
 * to either side that changes the wire fails one of the two suites.
 */
class GoldenFramesTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final FrameCodec CODEC = new FrameCodec(Limits.DEFAULTS);
    private static final Path DIR = goldenDir();
    private static final String UUID = "6f1c0e2a-3b4d-4e5f-8a9b-0c1d2e3f4a5b";

    /** What each client fixture decodes to. */
    private static final Map<String, ClientFrame> CLIENT = Map.ofEntries(
        Map.entry("join", new ClientFrame.Join("1", "general", null)),
        Map.entry("join-since", new ClientFrame.Join("1", "general", 42L)),
        Map.entry("leave", new ClientFrame.Leave("2", "general")),
        Map.entry("send", new ClientFrame.Send("3", "general", UUID, "hi")),
        Map.entry("history", new ClientFrame.History("4", "general", 58L, 50)),
        Map.entry("history-newest", new ClientFrame.History("4", "general", null, 50)),
        Map.entry("typing", new ClientFrame.Typing(null, "general")),
        Map.entry("presence", new ClientFrame.PresenceQuery("5", List.of("bob", "carol"))),
        Map.entry("ping", new ClientFrame.Ping("6")),
        Map.entry("read", new ClientFrame.Read("7", "general", 57)),
        Map.entry("directory", new ClientFrame.Directory("12", "dev", 50)),
        Map.entry("search", new ClientFrame.Search("11", "deploy", "general", 20)),
        Map.entry("edit", new ClientFrame.Edit("8", "general", 58, "e-6f1c0e2a-3b4d", "hi!")),
        Map.entry("delete", new ClientFrame.Delete("9", "general", 58, null)),
        Map.entry("react", new ClientFrame.React("10", "general", 58, null, "👍", true)));

    private static final Set<String> SERVER = Set.of("welcome", "joined", "synced", "left", "ack", "message",
        "history", "typing", "member", "presence-push", "presence-list", "pong", "error-rate-limited", "error-invalid",
        "rooms", "read", "directory", "edited", "deleted", "reacted", "ack-change", "history-events", "search");

    // ------------------------------------------------------------------------------------ server frames

    static Stream<String> serverFixtures() {
        return names("server").stream();
    }

    @ParameterizedTest(name = "server/{0}.json")
    @MethodSource("serverFixtures")
    void serverFixtureIsExactlyWhatTheCodecEncodes(String name) {
        String text = read("server", name);
        JsonNode fixture = tree(text);
        ServerFrame frame = parseServer(fixture);
        String encoded = FrameCodec.encode(frame);
        JsonNode produced = tree(encoded);
        assertThat(produced).as("%s as a JSON tree", name).isEqualTo(fixture);
        assertThat(fieldOrder(produced)).as("%s field order", name).isEqualTo(fieldOrder(fixture));
        assertThat(encoded).as("%s wire text", name).isEqualTo(text.strip());
        // and the Java client reads it back to the same record
        assertThat(FrameCodec.decodeServer(text)).isEqualTo(frame);
    }

    @Test
    void serverFixturesAreAllThereAndCoverEveryServerFrame() {
        assertThat(names("server")).containsExactlyInAnyOrderElementsOf(SERVER);
        Set<Class<?>> covered = names("server").stream()
            .<Class<?>>map(n -> parseServer(tree(read("server", n))).getClass()).collect(Collectors.toSet());
        assertThat(covered).containsExactlyInAnyOrderElementsOf(SealedRecords.of(ServerFrame.class));
    }

    /**
     * The test's own reading of a server frame, field by field, so that the codec is checked against
     * the fixture and not against itself. Absent optional fields become null.
     */
    static ServerFrame parseServer(JsonNode n) {
        String type = n.path("type").asText();
        return switch (type) {
            case "welcome" -> new ServerFrame.Welcome(text(n, "user"), text(n, "session"), text(n, "node"),
                number(n, "heartbeatMs"), n.get("protocol").doubleValue());
            case "joined" -> new ServerFrame.Joined(text(n, "ref"), text(n, "room"), number(n, "lastSeq"), members(n.get("members")));
            case "synced" -> new ServerFrame.Synced(text(n, "room"), number(n, "lastSeq"));
            case "left" -> new ServerFrame.Left(text(n, "ref"), text(n, "room"));
            case "ack" -> new ServerFrame.Ack(text(n, "ref"), text(n, "room"), text(n, "id"), number(n, "seq"), text(n, "ts"));
            case "message" -> message(n);
            case "edited" -> new ServerFrame.Edited(text(n, "room"), number(n, "seq"), number(n, "target"), text(n, "from"),
                text(n, "text"), text(n, "ts"));
            case "deleted" -> new ServerFrame.Deleted(text(n, "room"), number(n, "seq"), number(n, "target"), text(n, "from"),
                text(n, "ts"));
            case "reacted" -> new ServerFrame.Reacted(text(n, "room"), number(n, "seq"), number(n, "target"), text(n, "from"),
                text(n, "emoji"), n.get("on").booleanValue(), text(n, "ts"));
            case "history" -> {
                List<ServerFrame.RoomEvent> messages = new ArrayList<>();
                for (JsonNode m : n.get("messages")) {
                    assertThat(parseServer(m)).as("a history entry is a room event: %s", m).isInstanceOf(ServerFrame.RoomEvent.class);
                    messages.add((ServerFrame.RoomEvent) parseServer(m));
                }
                assertThat(n.get("hasMore").isBoolean()).as("hasMore is a boolean").isTrue();
                yield new ServerFrame.History(text(n, "ref"), text(n, "room"), messages, n.get("hasMore").booleanValue());
            }
            case "typing" -> new ServerFrame.Typing(text(n, "room"), text(n, "user"));
            case "member" -> new ServerFrame.MemberChange(text(n, "room"), text(n, "user"), text(n, "event"));
            case "presence" -> n.has("users")
                ? new ServerFrame.PresenceList(text(n, "ref"), members(n.get("users")))
                : new ServerFrame.Presence(text(n, "user"), text(n, "status"), text(n, "lastSeen"));
            case "pong" -> new ServerFrame.Pong(text(n, "ref"));
            case "rooms" -> {
                List<ServerFrame.RoomEntry> rooms = new ArrayList<>();
                for (JsonNode r : n.get("rooms")) {
                    rooms.add(new ServerFrame.RoomEntry(text(r, "room"), number(r, "lastSeq"), number(r, "lastRead"),
                        r.has("unread") ? number(r, "unread") : null, r.has("mentions") ? number(r, "mentions") : null));
                }
                yield new ServerFrame.Rooms(rooms);
            }
            case "read" -> new ServerFrame.Read(text(n, "ref"), text(n, "room"), number(n, "seq"));
            case "directory" -> {
                List<ServerFrame.DirectoryEntry> rooms = new ArrayList<>();
                for (JsonNode r : n.get("rooms")) {
                    rooms.add(new ServerFrame.DirectoryEntry(text(r, "room"), number(r, "members"), number(r, "lastSeq")));
                }
                yield new ServerFrame.Directory(text(n, "ref"), rooms);
            }
            case "search" -> {
                List<ServerFrame.SearchResult> results = new ArrayList<>();
                for (JsonNode r : n.get("results")) {
                    results.add(new ServerFrame.SearchResult(text(r, "room"), number(r, "seq"), text(r, "from"), text(r, "text"),
                        text(r, "ts")));
                }
                yield new ServerFrame.Search(text(n, "ref"), results);
            }
            case "error" -> new ServerFrame.Error(text(n, "ref"), text(n, "code"), text(n, "message"),
                n.has("retryAfterMs") ? number(n, "retryAfterMs") : null);
            default -> throw new AssertionError("not a server frame type: '" + type + "'");
        };
    }

    private static ServerFrame.Message message(JsonNode n) {
        List<String> mentions = null;
        if (n.has("mentions")) {
            mentions = new ArrayList<>();
            for (JsonNode name : n.get("mentions")) mentions.add(name.textValue());
        }
        Map<String, List<String>> reactions = null;
        if (n.has("reactions")) {
            reactions = new java.util.LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = n.get("reactions").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> emoji = it.next();
                List<String> users = new ArrayList<>();
                emoji.getValue().forEach(user -> users.add(user.textValue()));
                reactions.put(emoji.getKey(), users);
            }
        }
        Boolean deleted = n.has("deleted") ? n.get("deleted").booleanValue() : null;
        return new ServerFrame.Message(text(n, "room"), number(n, "seq"), text(n, "id"), text(n, "from"), text(n, "text"),
            text(n, "ts"), mentions, text(n, "editedAt"), deleted, reactions);
    }

    private static List<ServerFrame.Member> members(JsonNode array) {
        assertThat(array).as("members").isNotNull();
        List<ServerFrame.Member> members = new ArrayList<>();
        for (JsonNode m : array) members.add(new ServerFrame.Member(text(m, "user"), text(m, "status"), text(m, "lastSeen")));
        return members;
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null) return null;
        assertThat(v.isTextual()).as("%s is a string in %s", field, n).isTrue();
        return v.textValue();
    }

    private static long number(JsonNode n, String field) {
        JsonNode v = n.get(field);
        assertThat(v).as("%s in %s", field, n).isNotNull();
        assertThat(v.isIntegralNumber()).as("%s is an integer in %s", field, n).isTrue();
        return v.longValue();
    }

    // ------------------------------------------------------------------------------------ client frames

    static Stream<String> clientFixtures() {
        return names("client").stream();
    }

    @ParameterizedTest(name = "client/{0}.json")
    @MethodSource("clientFixtures")
    void clientFixtureDecodesToItsRecordAndIsWhatTheJavaClientSends(String name) {
        String text = read("client", name);
        ClientFrame expected = CLIENT.get(name);
        assertThat(expected).as("expected record of client/%s.json", name).isNotNull();
        assertThat(CODEC.decodeClient(text)).isEqualTo(new Decoded.Ok(expected));
        // the Java client (PulseClient) writes exactly this, field order included
        String encoded = FrameCodec.encode(expected);
        assertThat(tree(encoded)).isEqualTo(tree(text));
        assertThat(fieldOrder(tree(encoded))).isEqualTo(fieldOrder(tree(text)));
        assertThat(encoded).isEqualTo(text.strip());
    }

    @Test
    void clientFixturesAreAllThereAndCoverEveryClientFrame() {
        assertThat(names("client")).containsExactlyInAnyOrderElementsOf(CLIENT.keySet());
        assertThat(CLIENT.values().stream().<Class<?>>map(Object::getClass).collect(Collectors.toSet()))
            .containsExactlyInAnyOrderElementsOf(SealedRecords.of(ClientFrame.class));
    }

    // ------------------------------------------------------------------------------------ helpers

    /** Every field's path in document order ("members[1].lastSeen"), so two trees can be compared by order too. */
    static List<String> fieldOrder(JsonNode node) {
        List<String> out = new ArrayList<>();
        collect(node, "", out);
        return out;
    }

    private static void collect(JsonNode node, String path, List<String> out) {
        if (node.isObject()) {
            for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
                String field = it.next();
                String p = path.isEmpty() ? field : path + "." + field;
                out.add(p);
                collect(node.get(field), p, out);
            }
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) collect(node.get(i), path + "[" + i + "]", out);
        }
    }

    private static Path goldenDir() {
        try {
            return Path.of(GoldenFramesTest.class.getResource("/golden-frames").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<String> names(String side) {
        try (Stream<Path> files = Files.list(DIR.resolve(side))) {
            return files.map(p -> p.getFileName().toString()).filter(f -> f.endsWith(".json"))
                .map(f -> f.substring(0, f.length() - ".json".length())).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String read(String side, String name) {
        try {
            return Files.readString(DIR.resolve(side).resolve(name + ".json"), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static JsonNode tree(String json) {
        try {
            return JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new AssertionError("not JSON: " + json, e);
        }
    }
}
