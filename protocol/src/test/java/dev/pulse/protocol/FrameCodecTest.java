package dev.pulse.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.util.RawValue;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The JSON codec against PROTOCOL.md: decoding and validation of client frames, encoding of server frames. */
class FrameCodecTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final FrameCodec CODEC = new FrameCodec(Limits.DEFAULTS);
    static final int MAX_FRAME = Limits.DEFAULTS.maxFrameBytes();
    static final String EMOJI = "\uD83D\uDE00"; // 😀, one code point, two UTF-16 chars, four UTF-8 bytes
    static final String TS = "2026-11-29T04:50:00.123Z";

    // ------------------------------------------------------------------------------------ helpers

    static ObjectNode frame(String type) {
        ObjectNode node = JSON.createObjectNode();
        node.put("type", type);
        return node;
    }

    /** A frame with a field holding raw JSON text (numbers like 1e3 or 42.0 that a builder would normalise). */
    static ObjectNode raw(ObjectNode node, String field, String rawJson) {
        node.putRawValue(field, new RawValue(rawJson));
        return node;
    }

    static String text(JsonNode node) {
        try {
            return JSON.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new AssertionError(e);
        }
    }

    static Decoded decode(JsonNode node) {
        return CODEC.decodeClient(text(node));
    }

    static ClientFrame ok(JsonNode node) {
        return ok(text(node));
    }

    static ClientFrame ok(String json) {
        Decoded decoded = CODEC.decodeClient(json);
        assertThat(decoded).as("decoding %s", abbreviate(json)).isInstanceOf(Decoded.Ok.class);
        return ((Decoded.Ok) decoded).frame();
    }

    static Decoded.Rejected rejected(JsonNode node) {
        return rejected(text(node));
    }

    static Decoded.Rejected rejected(String json) {
        return rejected(CODEC, json);
    }

    static Decoded.Rejected rejected(FrameCodec codec, String json) {
        Decoded decoded = codec.decodeClient(json);
        assertThat(decoded).as("decoding %s", abbreviate(json)).isInstanceOf(Decoded.Rejected.class);
        Decoded.Rejected r = (Decoded.Rejected) decoded;
        assertThat(r.message()).as("error message").isNotBlank();
        // every rejection must be answerable with a well-formed error frame
        String wire = FrameCodec.encode(r.toError());
        assertThat(FrameCodec.decodeServer(wire)).isEqualTo(r.toError());
        return r;
    }

    static void assertInvalid(JsonNode node, String expectedRef) {
        Decoded.Rejected r = rejected(node);
        assertThat(r.code()).isEqualTo(ErrorCode.INVALID);
        assertThat(r.ref()).isEqualTo(expectedRef);
    }

    static String abbreviate(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "…(" + s.length() + " chars)";
    }

    static JsonNode tree(String json) {
        try {
            return JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new AssertionError("not JSON: " + json, e);
        }
    }

    static void assertNoNullFields(JsonNode node, String path) {
        if (node.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                assertThat(e.getValue().isNull()).as("%s.%s must be omitted rather than null", path, e.getKey()).isFalse();
                assertNoNullFields(e.getValue(), path + "." + e.getKey());
            }
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                assertNoNullFields(node.get(i), path + "[" + i + "]");
            }
        }
    }

    // ------------------------------------------------------------------------------------ decoding every type

    @Nested
    class DecodesEveryClientFrame {

        @Test
        void join() {
            assertThat(ok(frame("join").put("ref", "1").put("room", "general")))
                .isEqualTo(new ClientFrame.Join("1", "general", null));
        }

        @Test
        void joinWithSince() {
            assertThat(ok(frame("join").put("ref", "1").put("room", "general").put("since", 42)))
                .isEqualTo(new ClientFrame.Join("1", "general", 42L));
        }

        @Test
        void joinContractExampleVerbatim() {
            assertThat(ok("{\"type\":\"join\",\"ref\":\"1\",\"room\":\"general\",\"since\":42}"))
                .isEqualTo(new ClientFrame.Join("1", "general", 42L));
        }

        @Test
        void joinDmRoom() {
            assertThat(ok(frame("join").put("room", "dm:alice:bob")))
                .isEqualTo(new ClientFrame.Join(null, "dm:alice:bob", null));
        }

        @Test
        void leave() {
            assertThat(ok("{\"type\":\"leave\",\"ref\":\"2\",\"room\":\"general\"}"))
                .isEqualTo(new ClientFrame.Leave("2", "general"));
        }

        @Test
        void send() {
            assertThat(ok("{\"type\":\"send\",\"ref\":\"3\",\"room\":\"general\",\"id\":\"6f1c-uuid\",\"text\":\"hi\"}"))
                .isEqualTo(new ClientFrame.Send("3", "general", "6f1c-uuid", "hi"));
        }

        @Test
        void sendKeepsUnicodeIntact() {
            String body = "h\u00e9llo " + EMOJI + " \u202Eevil\u202C \u05e9\u05dc\u05d5\u05dd";
            ClientFrame f = ok(frame("send").put("room", "general").put("id", "x").put("text", body));
            assertThat(((ClientFrame.Send) f).text()).isEqualTo(body);
        }

        @Test
        void history() {
            assertThat(ok("{\"type\":\"history\",\"ref\":\"4\",\"room\":\"general\",\"before\":58,\"limit\":50}"))
                .isEqualTo(new ClientFrame.History("4", "general", 58L, 50));
        }

        @Test
        void historyDefaults() {
            assertThat(ok(frame("history").put("room", "general")))
                .isEqualTo(new ClientFrame.History(null, "general", null, Limits.HISTORY_DEFAULT_LIMIT));
            assertThat(Limits.HISTORY_DEFAULT_LIMIT).isEqualTo(50);
        }

        @Test
        void typing() {
            assertThat(ok("{\"type\":\"typing\",\"room\":\"general\"}"))
                .isEqualTo(new ClientFrame.Typing(null, "general"));
        }

        @Test
        void presenceQuery() {
            assertThat(ok("{\"type\":\"presence\",\"ref\":\"5\",\"users\":[\"bob\",\"carol\"]}"))
                .isEqualTo(new ClientFrame.PresenceQuery("5", List.of("bob", "carol")));
        }

        @Test
        void ping() {
            assertThat(ok("{\"type\":\"ping\",\"ref\":\"6\"}")).isEqualTo(new ClientFrame.Ping("6"));
            assertThat(ok("{\"type\":\"ping\"}")).isEqualTo(new ClientFrame.Ping(null));
        }

        @Test
        void fieldOrderDoesNotMatter() {
            assertThat(ok("{\"text\":\"hi\",\"id\":\"m\",\"room\":\"general\",\"ref\":\"9\",\"type\":\"send\"}"))
                .isEqualTo(new ClientFrame.Send("9", "general", "m", "hi"));
        }

        @Test
        void whitespaceAroundJsonIsFine() {
            assertThat(ok(" \n\t{ \"type\" : \"ping\" , \"ref\" : \"6\" }\r\n")).isEqualTo(new ClientFrame.Ping("6"));
        }
    }

    // ------------------------------------------------------------------------------------ ref

    @Nested
    class Ref {

        @Test
        void absentRefIsNull() {
            assertThat(ok(frame("ping")).ref()).isNull();
        }

        @Test
        void nullRefIsTreatedAsAbsent() {
            assertThat(ok("{\"type\":\"ping\",\"ref\":null}").ref()).isNull();
        }

        @ParameterizedTest
        @ValueSource(strings = {"", "1", "a b c", "\u00e9\u4e2d" + EMOJI, "0123456789012345678901234567890123456789012345678901234567890123"})
        void anyStringUpTo64CharsIsEchoed(String ref) {
            assertThat(ref.length()).isLessThanOrEqualTo(Limits.MAX_REF_CHARS);
            assertThat(ok(frame("ping").put("ref", ref)).ref()).isEqualTo(ref);
            // and echoed on an error too
            assertInvalid(frame("nope").put("ref", ref), ref);
        }

        @Test
        void refOf64CharsIsAcceptedAnd65IsRejectedWithoutEcho() {
            assertThat(ok(frame("ping").put("ref", "r".repeat(64))).ref()).isEqualTo("r".repeat(64));
            assertInvalid(frame("ping").put("ref", "r".repeat(65)), null);
            assertInvalid(frame("ping").put("ref", "r".repeat(10_000)), null);
        }

        @ParameterizedTest
        @ValueSource(strings = {"7", "7.5", "-1", "true", "false", "{}", "{\"a\":\"b\"}", "[]", "[\"1\"]", "1e3"})
        void nonStringRefIsRejectedWithoutEcho(String rawRef) {
            assertInvalid(raw(frame("ping"), "ref", rawRef), null);
        }

        @Test
        void badRefWinsOverOtherProblems() {
            assertInvalid(raw(frame("nonsense"), "ref", "12"), null);
            assertInvalid(frame("join").put("ref", "r".repeat(65)).put("room", "Bad Room"), null);
        }

        static Stream<Arguments> invalidFramesWithRef() {
            return Stream.of(
                frame("join").put("ref", "a").put("room", "Bad"),
                raw(frame("join").put("ref", "b").put("room", "general"), "since", "-1"),
                frame("leave").put("ref", "c"),
                frame("send").put("ref", "d").put("room", "general").put("id", "m").put("text", "   "),
                frame("send").put("ref", "e").put("room", "general").put("text", "hi"),
                raw(frame("history").put("ref", "f").put("room", "general"), "limit", "0"),
                frame("typing").put("ref", "g").put("room", "dm:bob:alice"),
                raw(frame("presence").put("ref", "h"), "users", "[\"Bob\"]"),
                frame("wave").put("ref", "i"),
                raw(JSON.createObjectNode().put("ref", "j"), "type", "7"),
                JSON.createObjectNode().put("ref", "k"),
                raw(frame("read").put("ref", "l").put("room", "general"), "seq", "-1"),
                frame("read").put("ref", "m").put("room", "general"),
                raw(frame("read").put("ref", "n").put("room", "general"), "seq", "1.5"),
                frame("read").put("ref", "o").put("room", "Bad").put("seq", 1),
                raw(frame("directory").put("ref", "p"), "limit", "101"),
                raw(frame("directory").put("ref", "q"), "limit", "0"),
                raw(frame("directory").put("ref", "r"), "query", "7"),
                frame("directory").put("ref", "s").put("query", "q".repeat(65)),
                frame("edit").put("ref", "t").put("room", "general").put("text", "no target"),
                frame("edit").put("ref", "u").put("room", "general").put("target", 0).put("text", "x"),
                frame("edit").put("ref", "v").put("room", "general").put("target", 3).put("text", "  "),
                frame("edit").put("ref", "w").put("room", "general").put("target", 3).put("id", "").put("text", "x"),
                raw(frame("delete").put("ref", "x").put("room", "general"), "target", "\"3\""),
                frame("react").put("ref", "y").put("room", "general").put("target", 3),
                frame("react").put("ref", "z").put("room", "general").put("target", 3).put("emoji", "👍".repeat(17)),
                frame("react").put("ref", "aa").put("room", "general").put("target", 3).put("emoji", " "),
                frame("search").put("ref", "ac"),
                frame("search").put("ref", "ad").put("query", "   "),
                frame("search").put("ref", "ae").put("query", "q".repeat(201)),
                frame("search").put("ref", "af").put("query", "x").put("room", "Bad"),
                raw(frame("search").put("ref", "ag").put("query", "x"), "limit", "101"),
                raw(frame("react").put("ref", "ab").put("room", "general").put("target", 3).put("emoji", "👍"), "on", "1")
            ).map(Arguments::of);
        }

        @ParameterizedTest
        @MethodSource("invalidFramesWithRef")
        void refIsEchoedOnValidationErrors(ObjectNode node) {
            assertInvalid(node, node.get("ref").textValue());
        }
    }

    @Nested
    class VersionOneOne {

        @Test
        void directoryDefaultsToAllRoomsAndFiftyAndMatchesWithoutCase() {
            assertThat(CODEC.decodeClient("{\"type\":\"directory\"}"))
                .isEqualTo(new Decoded.Ok(new ClientFrame.Directory(null, "", 50)));
            assertThat(CODEC.decodeClient("{\"type\":\"directory\",\"query\":\"Dev\",\"limit\":100}"))
                .isEqualTo(new Decoded.Ok(new ClientFrame.Directory(null, "dev", 100)));
        }

        @Test
        void aReactionIsSetUnlessOnIsFalseAndAnEmojiMayBeSixteenCodePoints() {
            assertThat(CODEC.decodeClient("{\"type\":\"react\",\"room\":\"general\",\"target\":5,\"emoji\":\"🎉\"}"))
                .isEqualTo(new Decoded.Ok(new ClientFrame.React(null, "general", 5, null, "🎉", true)));
            String sixteen = "👍".repeat(16);
            assertThat(CODEC.decodeClient("{\"type\":\"react\",\"room\":\"general\",\"target\":5,\"emoji\":\"" + sixteen
                + "\",\"on\":false,\"id\":\"r1\"}"))
                .isEqualTo(new Decoded.Ok(new ClientFrame.React(null, "general", 5, "r1", sixteen, false)));
        }

        @Test
        void readTakesSeqZeroAndDmRooms() {
            assertThat(CODEC.decodeClient("{\"type\":\"read\",\"room\":\"dm:alice:bob\",\"seq\":0,\"ref\":\"1\"}"))
                .isEqualTo(new Decoded.Ok(new ClientFrame.Read("1", "dm:alice:bob", 0)));
        }

        @Test
        void roomEntriesLeaveOutCountsOfZero() {
            assertThat(FrameCodec.encode(new ServerFrame.Rooms(List.of(ServerFrame.RoomEntry.of("general", 5, 5, 0, 0)))))
                .isEqualTo("{\"type\":\"rooms\",\"rooms\":[{\"room\":\"general\",\"lastSeq\":5,\"lastRead\":5}]}");
        }
    }

    // ------------------------------------------------------------------------------------ type and shape

    @Nested
    class TypeAndShape {

        @ParameterizedTest
        @ValueSource(strings = {"wave", "JOIN", "Join", " join", "join ", "", "welcome", "joined", "message", "error", "pong"})
        void unknownTypeIsInvalidWithRefEchoed(String type) {
            Decoded.Rejected r = rejected(frame(type).put("ref", "77").put("room", "general"));
            assertThat(r.code()).isEqualTo(ErrorCode.INVALID);
            assertThat(r.ref()).isEqualTo("77");
        }

        @Test
        void unknownTypeMessageNamesTheType() {
            assertThat(rejected(frame("wave").put("ref", "1")).message()).contains("wave");
        }

        @Test
        void unknownTypeMessageIsBounded() {
            Decoded.Rejected r = rejected(frame("w".repeat(20_000)).put("ref", "1"));
            assertThat(r.message().length()).isLessThan(500);
        }

        @ParameterizedTest
        @ValueSource(strings = {"1", "null", "true", "[\"join\"]", "{\"name\":\"join\"}"})
        void nonStringTypeIsInvalid(String rawType) {
            assertInvalid(raw(JSON.createObjectNode().put("ref", "q").put("room", "general"), "type", rawType), "q");
        }

        @Test
        void missingTypeIsInvalid() {
            assertInvalid(JSON.createObjectNode().put("ref", "q").put("room", "general"), "q");
        }

        @ParameterizedTest
        @ValueSource(strings = {"", " ", "null", "true", "1", "\"ping\"", "[]", "[{\"type\":\"ping\"}]",
            "{", "}", "{\"type\":\"ping\"", "{\"type\":'ping'}", "{type:\"ping\"}", "{\"type\":\"ping\",}",
            "{\"type\":\"ping\" \"ref\":\"1\"}", "\u0000", "nul", "{\"type\":\"ping\"\u0000}"})
        void nonObjectsAndMalformedJsonAreInvalidWithoutRef(String json) {
            Decoded.Rejected r = rejected(json);
            assertThat(r.code()).isEqualTo(ErrorCode.INVALID);
            assertThat(r.ref()).isNull();
        }

        @Test
        void unknownFieldsAreIgnored() {
            ObjectNode node = frame("send").put("ref", "3").put("room", "general").put("id", "m1").put("text", "hi");
            node.put("extra", "x").put("n", 1.5).put("flag", true).putNull("nothing");
            node.putObject("nested").putArray("deep").add(1).addObject().put("x", "y");
            node.putArray("list").add("a").add(2);
            node.put("Room", "IGNORED").put("TEXT", "");
            assertThat(ok(node)).isEqualTo(new ClientFrame.Send("3", "general", "m1", "hi"));
        }

        @Test
        void unknownFieldsAreIgnoredForEveryType() {
            List<ObjectNode> frames = List.of(
                frame("join").put("room", "general"),
                frame("leave").put("room", "general"),
                frame("send").put("room", "general").put("id", "m").put("text", "t"),
                frame("history").put("room", "general"),
                frame("typing").put("room", "general"),
                raw(frame("presence"), "users", "[\"bob\"]"),
                frame("ping"));
            for (ObjectNode f : frames) {
                ClientFrame plain = ok(f);
                ObjectNode extended = f.deepCopy();
                extended.put("zzz", "1").putArray("yyy").addObject().put("since", -5);
                extended.put("users_", 3).put("limit_", "x");
                assertThat(ok(extended)).isEqualTo(plain);
            }
        }

        @Test
        void trailingContentAfterTheObjectIsInvalid() {
            for (String json : List.of("{\"type\":\"ping\"} garbage", "{\"type\":\"ping\"}{\"type\":\"ping\"}",
                "{\"type\":\"ping\"}]", "{\"type\":\"ping\"}}", "{\"type\":\"ping\"} // comment",
                "{\"type\":\"ping\"}\u0000", "{\"type\":\"ping\"} 1", "{\"type\":\"ping\"}\"x\"", "{\"type\":\"ping\"},")) {
                assertThat(rejected(json).code()).as(json).isEqualTo(ErrorCode.INVALID);
            }
            assertThat(ok("{\"type\":\"ping\"} \r\n\t ")).isEqualTo(new ClientFrame.Ping(null));
        }
    }

    // ------------------------------------------------------------------------------------ room ids

    @Nested
    class Rooms {

        static final List<String> ROOM_TYPES = List.of("join", "leave", "send", "history", "typing");

        static final List<String> VALID = List.of(
            "general", "a", "0", "9lives", "a-b_c.d", "a.", "a-", "a_", "r00m", "a".repeat(64), "0" + "_".repeat(63),
            "dm", "dm.alice", "dm-alice-bob",
            "dm:alice:bob", "dm:a:b", "dm:0:a", "dm:_:a", "dm:a:a.b", "dm:" + "a".repeat(32) + ":" + "b".repeat(32));

        static final List<String> INVALID = List.of(
            "", " ", "General", "GENERAL", "-abc", "_abc", ".abc", "a".repeat(65), "a b", "room/x", "room#1",
            "caf\u00e9", "r\u0000", "general\n", " general", "general ", "\uFF47eneral", "room" + EMOJI, "room:x", "a:b",
            "dm:bob:alice", "dm:alice:alice", "dm:alice", "dm:alice:", "dm::bob", "dm:", "dm:alice:bob:carol",
            "dm:Alice:bob", "dm:alice:Bob", "DM:alice:bob", "dm:alice:bob ", "dm: alice:bob", "dm:alice :bob",
            "dm:" + "a".repeat(33) + ":b", "dm:a:" + "b".repeat(33), "dm:ali ce:bob", "dm:al\u00efce:bob", "dm:alice::bob");

        static Stream<Arguments> validRooms() {
            return ROOM_TYPES.stream().flatMap(t -> VALID.stream().map(r -> Arguments.of(t, r)));
        }

        static Stream<Arguments> invalidRooms() {
            return ROOM_TYPES.stream().flatMap(t -> INVALID.stream().map(r -> Arguments.of(t, r)));
        }

        static ObjectNode withRoom(String type) {
            ObjectNode node = frame(type).put("ref", "r");
            if (type.equals("send")) {
                node.put("id", "m").put("text", "hi");
            }
            return node;
        }

        static String roomOf(ClientFrame f) {
            if (f instanceof ClientFrame.Join j) return j.room();
            if (f instanceof ClientFrame.Leave l) return l.room();
            if (f instanceof ClientFrame.Send s) return s.room();
            if (f instanceof ClientFrame.History h) return h.room();
            if (f instanceof ClientFrame.Typing t) return t.room();
            throw new AssertionError("no room in " + f);
        }

        @ParameterizedTest
        @MethodSource("validRooms")
        void validRoomIsAccepted(String type, String room) {
            ClientFrame f = ok(withRoom(type).put("room", room));
            assertThat(roomOf(f)).isEqualTo(room);
            assertThat(Names.isValidRoom(room)).isTrue();
        }

        @ParameterizedTest
        @MethodSource("invalidRooms")
        void invalidRoomIsRejected(String type, String room) {
            assertInvalid(withRoom(type).put("room", room), "r");
            assertThat(Names.isValidRoom(room)).isFalse();
        }

        @ParameterizedTest
        @ValueSource(strings = {"join", "leave", "send", "history", "typing"})
        void missingOrNonStringRoomIsRejected(String type) {
            assertInvalid(withRoom(type), "r");
            for (String rawRoom : List.of("null", "1", "true", "[\"general\"]", "{\"id\":\"general\"}")) {
                assertInvalid(raw(withRoom(type), "room", rawRoom), "r");
            }
        }

        @Test
        void invalidRoomMessageIsBounded() {
            assertThat(rejected(withRoom("join").put("room", "X".repeat(30_000))).message().length()).isLessThan(500);
        }

        @Test
        void errorMessageForWellFormedInputIsWellFormedUtf16() {
            String room = "a".repeat(79) + EMOJI + "b";
            Decoded.Rejected r = rejected(withRoom("join").put("room", room));
            assertThat(isWellFormedUtf16(r.message())).as(r.message()).isTrue();
            Decoded.Rejected t = rejected(frame("x".repeat(79) + EMOJI));
            assertThat(isWellFormedUtf16(t.message())).as(t.message()).isTrue();
        }
    }

    static boolean isWellFormedUtf16(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) {
                    return false;
                }
                i++;
            } else if (Character.isLowSurrogate(c)) {
                return false;
            }
        }
        return true;
    }

    // ------------------------------------------------------------------------------------ since / before / limit

    @Nested
    class Counts {

        @ParameterizedTest
        @ValueSource(strings = {"-1", "-9223372036854775808", "1.5", "42.0", "0.0", "1e3", "1E+2", "4.2e1",
            "\"42\"", "\"\"", "true", "[]", "[1]", "{}", "9223372036854775808", "99999999999999999999999999",
            "1e400", "-1e400", "123456789012345678901234567890123456789012345678901234567890"})
        void badSinceIsInvalid(String rawSince) {
            assertInvalid(raw(frame("join").put("ref", "s").put("room", "general"), "since", rawSince), "s");
        }

        @Test
        void sinceZeroAndLargeAreAccepted() {
            assertThat(ok(frame("join").put("room", "general").put("since", 0))).isEqualTo(new ClientFrame.Join(null, "general", 0L));
            assertThat(ok(frame("join").put("room", "general").put("since", Long.MAX_VALUE)))
                .isEqualTo(new ClientFrame.Join(null, "general", Long.MAX_VALUE));
            assertThat(ok(frame("join").put("room", "general").putNull("since")))
                .isEqualTo(new ClientFrame.Join(null, "general", null));
        }

        @ParameterizedTest
        @ValueSource(ints = {1, 2, 50, 199, 200})
        void historyLimitInRangeIsAccepted(int limit) {
            assertThat(ok(frame("history").put("room", "general").put("limit", limit)))
                .isEqualTo(new ClientFrame.History(null, "general", null, limit));
        }

        @ParameterizedTest
        @ValueSource(strings = {"0", "201", "-1", "1000", "1.5", "50.0", "5e1", "\"50\"", "true", "[50]", "{}",
            "9223372036854775807", "9223372036854775808", "-9223372036854775809"})
        void historyLimitOutOfRangeIsInvalid(String rawLimit) {
            assertInvalid(raw(frame("history").put("ref", "h").put("room", "general"), "limit", rawLimit), "h");
        }

        @Test
        void historyNullLimitMeansDefault() {
            assertThat(ok(frame("history").put("room", "general").putNull("limit")))
                .isEqualTo(new ClientFrame.History(null, "general", null, 50));
        }

        @Test
        void historyBeforeIsOptionalAndAtLeastOne() {
            assertThat(ok(frame("history").put("room", "general").put("before", 1)))
                .isEqualTo(new ClientFrame.History(null, "general", 1L, 50));
            assertThat(ok(frame("history").put("room", "general").put("before", Long.MAX_VALUE).put("limit", 200)))
                .isEqualTo(new ClientFrame.History(null, "general", Long.MAX_VALUE, 200));
            assertThat(ok(frame("history").put("room", "general").putNull("before")))
                .isEqualTo(new ClientFrame.History(null, "general", null, 50));
        }

        @ParameterizedTest
        @ValueSource(strings = {"0", "-1", "-58", "2.5", "58.0", "1e2", "\"58\"", "false", "[58]", "{}",
            "9223372036854775808", "1e400"})
        void badBeforeIsInvalid(String rawBefore) {
            assertInvalid(raw(frame("history").put("ref", "b").put("room", "general"), "before", rawBefore), "b");
        }
    }

    // ------------------------------------------------------------------------------------ send

    @Nested
    class Send {

        static ObjectNode send(String id, String text) {
            ObjectNode node = frame("send").put("ref", "s").put("room", "general");
            if (id != null) {
                node.put("id", id);
            }
            if (text != null) {
                node.put("text", text);
            }
            return node;
        }

        @ParameterizedTest
        @ValueSource(strings = {"a", "6f1c2f7e-0b8e-4a43-9c1f-2f2f2f2f2f2f", " ", EMOJI, "0123456789012345678901234567890123456789012345678901234567890123"})
        void idOf1To64CharsIsAccepted(String id) {
            assertThat(((ClientFrame.Send) ok(send(id, "hi"))).id()).isEqualTo(id);
        }

        @Test
        void idBoundaries() {
            assertThat(((ClientFrame.Send) ok(send("i".repeat(64), "hi"))).id()).hasSize(64);
            assertInvalid(send("i".repeat(65), "hi"), "s");
            assertInvalid(send("", "hi"), "s");
            assertInvalid(send(null, "hi"), "s");
            for (String rawId : List.of("null", "1", "1.5", "true", "[\"a\"]", "{\"a\":1}")) {
                assertInvalid(raw(send(null, "hi"), "id", rawId), "s");
            }
        }

        @ParameterizedTest
        @ValueSource(strings = {"", " ", "   ", "\t", "\n", "\r\n", " \t\n\r\u000B\f ", "\u2003", "\u3000", "\u2028\u2029", "\u001C\u001F"})
        void emptyOrWhitespaceOnlyTextIsInvalid(String text) {
            assertInvalid(send("m", text), "s");
        }

        @Test
        void missingOrNonStringTextIsInvalid() {
            assertInvalid(send("m", null), "s");
            for (String rawText : List.of("null", "1", "true", "[\"hi\"]", "{\"t\":\"hi\"}")) {
                assertInvalid(raw(send("m", null), "text", rawText), "s");
            }
        }

        @Test
        void textOfOneVisibleCharacterWithPaddingIsAccepted() {
            ClientFrame.Send f = (ClientFrame.Send) ok(send("m", "  x \n"));
            assertThat(f.text().strip()).isEqualTo("x");
        }

        @Test
        void fourThousandCodePointsAreAccepted() {
            assertThat(((ClientFrame.Send) ok(send("m", "a".repeat(4000)))).text()).hasSize(4000);
            String emoji = EMOJI.repeat(4000); // 8000 UTF-16 chars, 4000 code points
            assertThat(((ClientFrame.Send) ok(send("m", emoji))).text()).isEqualTo(emoji);
            String padded = "   " + "b".repeat(4000) + "\n\n";
            assertThat(((ClientFrame.Send) ok(send("m", padded))).text().strip()).hasSize(4000);
        }

        @Test
        void fourThousandAndOneCodePointsAreInvalid() {
            assertInvalid(send("m", "a".repeat(4001)), "s");
            assertInvalid(send("m", EMOJI.repeat(4001)), "s");
            assertInvalid(send("m", EMOJI.repeat(4000) + "a"), "s");
        }

        @Test
        void escapedSurrogatePairsCountAsOneCodePoint() {
            String escaped = "\\ud83d\\ude00".repeat(4000);
            String json = "{\"type\":\"send\",\"room\":\"general\",\"id\":\"m\",\"text\":\"" + escaped + "\"}";
            assertThat(((ClientFrame.Send) ok(json)).text()).isEqualTo(EMOJI.repeat(4000));
            String tooMany = "{\"type\":\"send\",\"room\":\"general\",\"id\":\"m\",\"text\":\"" + escaped + "\\ud83d\\ude00\"}";
            assertThat(rejected(tooMany).code()).isEqualTo(ErrorCode.INVALID);
        }

        @Test
        void textLimitFollowsConfiguredLimits() {
            FrameCodec small = new FrameCodec(new Limits(1024, 10, 20, Duration.ofSeconds(10)));
            String ok10 = text(send("m", "0123456789"));
            assertThat(small.decodeClient(ok10)).isInstanceOf(Decoded.Ok.class);
            Decoded.Rejected r = rejected(small, text(send("m", "01234567890")));
            assertThat(r.code()).isEqualTo(ErrorCode.INVALID);
        }
    }

    // ------------------------------------------------------------------------------------ frame size

    @Nested
    class FrameSize {

        static final String PING_OVERHEAD = "{\"type\":\"ping\",\"pad\":\"\"}";

        static String pingOfBytes(int targetBytes, String unit) {
            int unitBytes = unit.getBytes(StandardCharsets.UTF_8).length;
            int overhead = PING_OVERHEAD.length();
            int units = (targetBytes - overhead) / unitBytes;
            String json = "{\"type\":\"ping\",\"pad\":\"" + unit.repeat(units) + "a".repeat(targetBytes - overhead - units * unitBytes) + "\"}";
            assertThat(json.getBytes(StandardCharsets.UTF_8)).hasSize(targetBytes);
            return json;
        }

        @ParameterizedTest
        @ValueSource(strings = {"a", "\u00e9", "\u20ac", EMOJI})
        void exactlyTheLimitIsAcceptedOneMoreByteIsTooLarge(String unit) {
            assertThat(ok(pingOfBytes(MAX_FRAME, unit))).isEqualTo(new ClientFrame.Ping(null));
            Decoded.Rejected r = rejected(pingOfBytes(MAX_FRAME + 1, unit));
            assertThat(r.code()).isEqualTo(ErrorCode.TOO_LARGE);
        }

        @Test
        void limitIsInUtf8BytesNotChars() {
            String json = "{\"type\":\"ping\",\"pad\":\"" + "\u20ac".repeat(22_000) + "\"}"; // ~66 000 bytes, ~22 000 chars
            assertThat(json.length()).isLessThan(MAX_FRAME);
            assertThat(rejected(json).code()).isEqualTo(ErrorCode.TOO_LARGE);
        }

        @Test
        void tooLargeWinsOverEverythingElse() {
            assertThat(rejected("{".repeat(MAX_FRAME + 1)).code()).isEqualTo(ErrorCode.TOO_LARGE);
            assertThat(rejected("[".repeat(100_000)).code()).isEqualTo(ErrorCode.TOO_LARGE);
            ObjectNode send = frame("send").put("ref", "big").put("room", "general").put("id", "m").put("text", "hi");
            send.put("pad", "p".repeat(MAX_FRAME));
            Decoded.Rejected r = rejected(send);
            assertThat(r.code()).isEqualTo(ErrorCode.TOO_LARGE);
            assertThat(r.message()).hasSizeLessThan(500);
        }

        @Test
        void configuredFrameLimitIsHonoured() {
            FrameCodec small = new FrameCodec(new Limits(1024, 4000, 20, Duration.ofSeconds(10)));
            assertThat(small.decodeClient(pingOfBytes(1024, "a"))).isInstanceOf(Decoded.Ok.class);
            assertThat(rejected(small, pingOfBytes(1025, "a")).code()).isEqualTo(ErrorCode.TOO_LARGE);
        }

        @Test
        void utf8LengthMatchesTheJdkForWellFormedText() {
            for (String s : List.of("", "a", "\u00e9", "\u07ff", "\u0800", "\u20ac", "\uffff", EMOJI, "\u0000",
                "mixed \u00e9\u20ac" + EMOJI + "\u202e\u05d0", "\uD800\uDC00", "\uDBFF\uDFFF")) {
                assertThat(FrameCodec.utf8Length(s)).as(s).isEqualTo(s.getBytes(StandardCharsets.UTF_8).length);
            }
        }

        @Test
        void utf8LengthCountsLoneSurrogatesAsThreeBytes() {
            assertThat(FrameCodec.utf8Length("\uD800")).isEqualTo(3);
            assertThat(FrameCodec.utf8Length("\uDC00")).isEqualTo(3);
            assertThat(FrameCodec.utf8Length("\uDC00\uD800")).isEqualTo(6);
            assertThat(FrameCodec.utf8Length("a\uD800")).isEqualTo(4);
        }

        @Test
        void deepNestingUnderTheSizeLimitIsInvalidNotACrash() {
            for (String json : List.of("[".repeat(60_000), "[".repeat(60_000) + "]".repeat(5_000),
                "{\"a\":".repeat(13_000))) {
                assertThat(rejected(json).code()).isEqualTo(ErrorCode.INVALID);
            }
            // deep nesting inside an unknown field: ignoring it or refusing it are both sound, crashing is not
            String inField = "{\"type\":\"ping\",\"x\":" + "[".repeat(30_000) + "]".repeat(30_000) + "}";
            Decoded d = CODEC.decodeClient(inField);
            if (d instanceof Decoded.Ok o) {
                assertThat(o.frame()).isEqualTo(new ClientFrame.Ping(null));
            } else {
                assertThat(rejected(inField).code()).isEqualTo(ErrorCode.INVALID);
            }
        }

        @Test
        void modestNestingInUnknownFieldsIsIgnored() {
            String json = "{\"type\":\"ping\",\"x\":" + "[".repeat(30) + "]".repeat(30) + "}";
            assertThat(ok(json)).isEqualTo(new ClientFrame.Ping(null));
        }
    }

    // ------------------------------------------------------------------------------------ presence query

    @Nested
    class PresenceUsers {

        @Test
        void usersAreKeptInOrder() {
            assertThat(ok(raw(frame("presence"), "users", "[\"carol\",\"bob\",\"a.b-c_d\"]")))
                .isEqualTo(new ClientFrame.PresenceQuery(null, List.of("carol", "bob", "a.b-c_d")));
        }

        @Test
        void emptyAndHundredUsersAreAccepted() {
            assertThat(ok(raw(frame("presence"), "users", "[]"))).isEqualTo(new ClientFrame.PresenceQuery(null, List.of()));
            List<String> hundred = IntStream.range(0, Limits.MAX_PRESENCE_USERS).mapToObj(i -> "u" + i).toList();
            ObjectNode node = frame("presence");
            ArrayNode arr = node.putArray("users");
            hundred.forEach(arr::add);
            assertThat(ok(node)).isEqualTo(new ClientFrame.PresenceQuery(null, hundred));
        }

        @ParameterizedTest
        @ValueSource(strings = {"null", "\"bob\"", "1", "true", "{\"0\":\"bob\"}", "[\"Bob\"]", "[\"\"]", "[1]",
            "[null]", "[[\"bob\"]]", "[{\"user\":\"bob\"}]", "[\"bob\",\"Carol\"]", "[\"bob carol\"]",
            "[\"dm:a:b\"]", "[\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"]", "[\"b\u00f6b\"]"})
        void badUsersAreInvalid(String rawUsers) {
            assertInvalid(raw(frame("presence").put("ref", "p"), "users", rawUsers), "p");
        }

        @Test
        void missingUsersIsInvalid() {
            assertInvalid(frame("presence").put("ref", "p"), "p");
        }

        @Test
        void tooManyUsersIsInvalid() {
            ObjectNode node = frame("presence").put("ref", "p");
            ArrayNode arr = node.putArray("users");
            IntStream.range(0, Limits.MAX_PRESENCE_USERS + 1).forEach(i -> arr.add("u" + i));
            assertInvalid(node, "p");
        }
    }

    // ------------------------------------------------------------------------------------ server frames

    static final ServerFrame.Message MSG_1 = new ServerFrame.Message("general", 56, "id-56", "bob", "hello", TS);
    static final ServerFrame.Message MSG_2 = new ServerFrame.Message("general", 57, "id-57", "alice",
        "tab\t\"quote\" \\ nul\u0000 rtl\u202e " + EMOJI + " \u00e9\n", "2026-11-29T04:50:01.000Z");

    /** At least one sample of every ServerFrame record, with and without optional fields. */
    static List<ServerFrame> serverSamples() {
        return List.of(
            new ServerFrame.Welcome("alice", "s-1", "10.0.0.1:8080", 15000, ServerFrame.Welcome.PROTOCOL),
            new ServerFrame.Joined("1", "general", 57, List.of(new ServerFrame.Member("bob", "online", null))),
            new ServerFrame.Joined(null, "dm:alice:bob", 0, List.of()),
            new ServerFrame.Joined("1", "general", 3, List.of(new ServerFrame.Member("bob", "online", null),
                new ServerFrame.Member("carol", "offline", TS))),
            new ServerFrame.Synced("general", 57),
            new ServerFrame.Left("2", "general"),
            new ServerFrame.Left(null, "general"),
            new ServerFrame.Ack("3", "general", "uuid-1", 58, TS),
            new ServerFrame.Ack(null, "general", "uuid-1", 58, TS),
            MSG_1,
            MSG_2,
            new ServerFrame.History("4", "general", List.of(MSG_1, MSG_2), true),
            new ServerFrame.History(null, "general", List.of(), false),
            new ServerFrame.Typing("general", "alice"),
            new ServerFrame.MemberChange("general", "carol", ServerFrame.MemberChange.JOINED),
            new ServerFrame.Presence("bob", "offline", TS),
            new ServerFrame.Presence("bob", "online", null),
            new ServerFrame.PresenceList("5", List.of(new ServerFrame.Member("bob", "online", null),
                new ServerFrame.Member("carol", "offline", TS))),
            new ServerFrame.PresenceList(null, List.of()),
            new ServerFrame.Pong("6"),
            new ServerFrame.Pong(null),
            ServerFrame.Error.of("3", ErrorCode.INVALID, "bad room"),
            ServerFrame.Error.of(null, ErrorCode.TOO_LARGE, "frame exceeds 65536 bytes"),
            new ServerFrame.Error("3", ErrorCode.RATE_LIMITED.wire(), "slow down", 1500L),
            new ServerFrame.Rooms(List.of(ServerFrame.RoomEntry.of("general", 57, 50, 7, 1),
                ServerFrame.RoomEntry.of("dm:alice:bob", 3, 3, 0, 0))),
            new ServerFrame.Rooms(List.of()),
            new ServerFrame.Read("7", "general", 57),
            new ServerFrame.Read(null, "general", 0),
            new ServerFrame.Directory("12", List.of(new ServerFrame.DirectoryEntry("dev", 12, 340))),
            new ServerFrame.Directory(null, List.of()),
            new ServerFrame.Search("11", List.of(new ServerFrame.SearchResult("general", 58, "alice", "deploy", TS))),
            new ServerFrame.Search(null, List.of()),
            new ServerFrame.Edited("general", 60, 58, "alice", "hi!", TS),
            new ServerFrame.Edited("general", 60, 58, "alice", null, TS),
            new ServerFrame.Deleted("general", 61, 58, "alice", TS),
            new ServerFrame.Reacted("general", 62, 58, "bob", "👍", false, TS),
            new ServerFrame.Message("general", 58, "m1", "alice", null, TS, null, null, true, null),
            new ServerFrame.Message("general", 57, "m2", "carol", "fixed", TS, null, TS, null,
                Map.of("👍", List.of("bob"))),
            new ServerFrame.History("4", "general", List.of(
                new ServerFrame.Message("general", 57, "m2", "carol", "x", TS),
                new ServerFrame.Reacted("general", 58, 57, "bob", "👍", true, TS)), false));
    }

    static final Map<Class<?>, String> WIRE_TYPE = Map.ofEntries(
        Map.entry(ServerFrame.Welcome.class, "welcome"),
        Map.entry(ServerFrame.Joined.class, "joined"),
        Map.entry(ServerFrame.Synced.class, "synced"),
        Map.entry(ServerFrame.Left.class, "left"),
        Map.entry(ServerFrame.Ack.class, "ack"),
        Map.entry(ServerFrame.Message.class, "message"),
        Map.entry(ServerFrame.Edited.class, "edited"),
        Map.entry(ServerFrame.Deleted.class, "deleted"),
        Map.entry(ServerFrame.Reacted.class, "reacted"),
        Map.entry(ServerFrame.History.class, "history"),
        Map.entry(ServerFrame.Typing.class, "typing"),
        Map.entry(ServerFrame.MemberChange.class, "member"),
        Map.entry(ServerFrame.Presence.class, "presence"),
        Map.entry(ServerFrame.PresenceList.class, "presence"),
        Map.entry(ServerFrame.Pong.class, "pong"),
        Map.entry(ServerFrame.Error.class, "error"),
        Map.entry(ServerFrame.Rooms.class, "rooms"),
        Map.entry(ServerFrame.Read.class, "read"),
        Map.entry(ServerFrame.Directory.class, "directory"),
        Map.entry(ServerFrame.Search.class, "search"));

    @Nested
    class Encoding {

        @Test
        void samplesCoverEveryServerFrameType() {
            Set<Class<?>> permitted = SealedRecords.of(ServerFrame.class);
            Set<Class<?>> sampled = serverSamples().stream().map(Object::getClass).collect(Collectors.toSet());
            assertThat(sampled).containsExactlyInAnyOrderElementsOf(permitted);
            assertThat(WIRE_TYPE.keySet()).containsExactlyInAnyOrderElementsOf(permitted);
        }

        @ParameterizedTest
        @MethodSource("dev.pulse.protocol.FrameCodecTest#serverSamples")
        void everyFrameHasTheContractTypeAndNoNullFields(ServerFrame frame) {
            String wire = FrameCodec.encode(frame);
            JsonNode node = tree(wire);
            assertThat(node.isObject()).isTrue();
            assertThat(node.path("type").textValue()).isEqualTo(WIRE_TYPE.get(frame.getClass()));
            assertNoNullFields(node, "$");
            assertThat(new String(FrameCodec.encodeUtf8(frame), StandardCharsets.UTF_8)).isEqualTo(wire);
        }

        @ParameterizedTest
        @MethodSource("dev.pulse.protocol.FrameCodecTest#serverSamples")
        void roundTripsThroughDecodeServer(ServerFrame frame) {
            assertThat(FrameCodec.decodeServer(FrameCodec.encode(frame))).isEqualTo(frame);
        }

        static Stream<Arguments> contractExamples() {
            return Stream.of(
                Arguments.of(new ServerFrame.Welcome("alice", "abc", "h:1", 15000, ServerFrame.Welcome.PROTOCOL),
                    "{\"type\":\"welcome\",\"user\":\"alice\",\"session\":\"abc\",\"node\":\"h:1\",\"heartbeatMs\":15000,\"protocol\":1.1}"),
                Arguments.of(new ServerFrame.Joined("1", "general", 57, List.of(new ServerFrame.Member("bob", "online", null))),
                    "{\"type\":\"joined\",\"ref\":\"1\",\"room\":\"general\",\"lastSeq\":57,\"members\":[{\"user\":\"bob\",\"status\":\"online\"}]}"),
                Arguments.of(new ServerFrame.Joined(null, "general", 57, List.of()),
                    "{\"type\":\"joined\",\"room\":\"general\",\"lastSeq\":57,\"members\":[]}"),
                Arguments.of(new ServerFrame.Synced("general", 57),
                    "{\"type\":\"synced\",\"room\":\"general\",\"lastSeq\":57}"),
                Arguments.of(new ServerFrame.Left("2", "general"),
                    "{\"type\":\"left\",\"ref\":\"2\",\"room\":\"general\"}"),
                Arguments.of(new ServerFrame.Ack("3", "general", "u-1", 58, TS),
                    "{\"type\":\"ack\",\"ref\":\"3\",\"room\":\"general\",\"id\":\"u-1\",\"seq\":58,\"ts\":\"" + TS + "\"}"),
                Arguments.of(new ServerFrame.Message("general", 58, "u-1", "alice", "hi", TS),
                    "{\"type\":\"message\",\"room\":\"general\",\"seq\":58,\"id\":\"u-1\",\"from\":\"alice\",\"text\":\"hi\",\"ts\":\"" + TS + "\"}"),
                Arguments.of(new ServerFrame.Message("general", 59, "u-2", "alice", "@bob and @carol, see @bob.", TS),
                    "{\"type\":\"message\",\"room\":\"general\",\"seq\":59,\"id\":\"u-2\",\"from\":\"alice\","
                        + "\"text\":\"@bob and @carol, see @bob.\",\"ts\":\"" + TS + "\",\"mentions\":[\"bob\",\"carol\"]}"),
                Arguments.of(new ServerFrame.Typing("general", "alice"),
                    "{\"type\":\"typing\",\"room\":\"general\",\"user\":\"alice\"}"),
                Arguments.of(new ServerFrame.MemberChange("general", "carol", ServerFrame.MemberChange.LEFT),
                    "{\"type\":\"member\",\"room\":\"general\",\"user\":\"carol\",\"event\":\"left\"}"),
                Arguments.of(new ServerFrame.Presence("bob", "offline", TS),
                    "{\"type\":\"presence\",\"user\":\"bob\",\"status\":\"offline\",\"lastSeen\":\"" + TS + "\"}"),
                Arguments.of(new ServerFrame.Presence("bob", "online", null),
                    "{\"type\":\"presence\",\"user\":\"bob\",\"status\":\"online\"}"),
                Arguments.of(new ServerFrame.PresenceList("5", List.of(new ServerFrame.Member("bob", "online", null),
                        new ServerFrame.Member("carol", "offline", TS))),
                    "{\"type\":\"presence\",\"ref\":\"5\",\"users\":[{\"user\":\"bob\",\"status\":\"online\"},"
                        + "{\"user\":\"carol\",\"status\":\"offline\",\"lastSeen\":\"" + TS + "\"}]}"),
                Arguments.of(new ServerFrame.Pong("6"), "{\"type\":\"pong\",\"ref\":\"6\"}"),
                Arguments.of(ServerFrame.Error.of("3", ErrorCode.INVALID, "bad"),
                    "{\"type\":\"error\",\"ref\":\"3\",\"code\":\"invalid\",\"message\":\"bad\"}"),
                Arguments.of(new ServerFrame.Error("3", "rate_limited", "slow down", 1500L),
                    "{\"type\":\"error\",\"ref\":\"3\",\"code\":\"rate_limited\",\"message\":\"slow down\",\"retryAfterMs\":1500}"));
        }

        @ParameterizedTest
        @MethodSource("contractExamples")
        void encodesExactlyAsTheContractShows(ServerFrame frame, String expected) {
            assertThat(tree(FrameCodec.encode(frame))).isEqualTo(tree(expected));
        }

        @Test
        void errorWithoutRetryAfterOmitsIt() {
            JsonNode node = tree(FrameCodec.encode(ServerFrame.Error.of("1", ErrorCode.FORBIDDEN, "no")));
            assertThat(node.has("retryAfterMs")).isFalse();
            assertThat(node.get("code").textValue()).isEqualTo("forbidden");
            JsonNode noRef = tree(FrameCodec.encode(ServerFrame.Error.of(null, ErrorCode.FORBIDDEN, "no")));
            assertThat(noRef.has("ref")).isFalse();
        }

        @Test
        void joinedWithoutRefOmitsIt() {
            JsonNode node = tree(FrameCodec.encode(new ServerFrame.Joined(null, "general", 1, List.of())));
            assertThat(node.has("ref")).isFalse();
            assertThat(node.get("lastSeq").asLong()).isEqualTo(1);
        }

        @Test
        void historyMessagesAreFullMessageObjects() {
            ServerFrame.History h = new ServerFrame.History("4", "general", List.of(MSG_1, MSG_2), true);
            JsonNode node = tree(FrameCodec.encode(h));
            assertThat(node.get("type").textValue()).isEqualTo("history");
            assertThat(node.get("ref").textValue()).isEqualTo("4");
            assertThat(node.get("hasMore").booleanValue()).isTrue();
            JsonNode messages = node.get("messages");
            assertThat(messages.isArray()).isTrue();
            assertThat(messages.size()).isEqualTo(2);
            List<ServerFrame.Message> expected = List.of(MSG_1, MSG_2);
            for (int i = 0; i < 2; i++) {
                JsonNode m = messages.get(i);
                ServerFrame.Message e = expected.get(i);
                assertThat(m.get("room").textValue()).isEqualTo(e.room());
                assertThat(m.get("seq").longValue()).isEqualTo(e.seq());
                assertThat(m.get("id").textValue()).isEqualTo(e.id());
                assertThat(m.get("from").textValue()).isEqualTo(e.from());
                assertThat(m.get("text").textValue()).isEqualTo(e.text());
                assertThat(m.get("ts").textValue()).isEqualTo(e.ts());
                if (m.has("type")) {
                    assertThat(m.get("type").textValue()).isEqualTo("message");
                }
            }
            // ascending by seq, as the contract requires of the server; the codec keeps order
            assertThat(messages.get(0).get("seq").longValue()).isLessThan(messages.get(1).get("seq").longValue());
        }

        @Test
        void everyErrorCodeHasItsWireSpelling() {
            Map<ErrorCode, String> expected = new HashMap<>();
            expected.put(ErrorCode.INVALID, "invalid");
            expected.put(ErrorCode.UNAUTHORIZED, "unauthorized");
            expected.put(ErrorCode.FORBIDDEN, "forbidden");
            expected.put(ErrorCode.NOT_FOUND, "not_found");
            expected.put(ErrorCode.TOO_LARGE, "too_large");
            expected.put(ErrorCode.RATE_LIMITED, "rate_limited");
            expected.put(ErrorCode.UNAVAILABLE, "unavailable");
            expected.put(ErrorCode.CONFLICT, "conflict");
            assertThat(expected.keySet()).containsExactlyInAnyOrder(ErrorCode.values());
            for (ErrorCode code : ErrorCode.values()) {
                assertThat(code.wire()).isEqualTo(expected.get(code));
                assertThat(ErrorCode.fromWire(code.wire())).isEqualTo(code);
                ServerFrame.Error err = ServerFrame.Error.of("r", code, "m");
                assertThat(tree(FrameCodec.encode(err)).get("code").textValue()).isEqualTo(code.wire());
                assertThat(err.errorCode()).isEqualTo(code);
            }
            assertThatThrownBy(() -> ErrorCode.fromWire("INVALID")).isInstanceOf(IllegalArgumentException.class);
        }

        @Test
        void rejectedToErrorCarriesRefCodeAndMessage() {
            Decoded.Rejected r = new Decoded.Rejected("9", ErrorCode.TOO_LARGE, "too big");
            assertThat(r.toError()).isEqualTo(new ServerFrame.Error("9", "too_large", "too big", null));
            assertThat(tree(FrameCodec.encode(r.toError())))
                .isEqualTo(tree("{\"type\":\"error\",\"ref\":\"9\",\"code\":\"too_large\",\"message\":\"too big\"}"));
        }
    }

    @Nested
    class DecodeServer {

        @Test
        void presenceIsToldApartByUsers() {
            assertThat(FrameCodec.decodeServer("{\"type\":\"presence\",\"user\":\"bob\",\"status\":\"online\"}"))
                .isEqualTo(new ServerFrame.Presence("bob", "online", null));
            assertThat(FrameCodec.decodeServer("{\"type\":\"presence\",\"ref\":\"5\",\"users\":[{\"user\":\"bob\",\"status\":\"online\"}]}"))
                .isEqualTo(new ServerFrame.PresenceList("5", List.of(new ServerFrame.Member("bob", "online", null))));
            assertThat(FrameCodec.decodeServer("{\"type\":\"presence\",\"users\":[]}"))
                .isEqualTo(new ServerFrame.PresenceList(null, List.of()));
        }

        @Test
        void unknownFieldsAreIgnored() {
            assertThat(FrameCodec.decodeServer("{\"type\":\"pong\",\"ref\":\"6\",\"node\":\"x\",\"extra\":{\"a\":[1]}}"))
                .isEqualTo(new ServerFrame.Pong("6"));
        }

        @Test
        void errorFrameFromTheContract() {
            ServerFrame f = FrameCodec.decodeServer("{\"type\":\"error\",\"ref\":\"3\",\"code\":\"invalid\",\"message\":\"<human-readable reason>\"}");
            assertThat(f).isEqualTo(ServerFrame.Error.of("3", ErrorCode.INVALID, "<human-readable reason>"));
            assertThat(((ServerFrame.Error) f).errorCode()).isEqualTo(ErrorCode.INVALID);
        }

        @ParameterizedTest
        @ValueSource(strings = {"{\"type\":\"join\",\"room\":\"general\"}", "{\"type\":\"nope\"}", "{}", "[]",
            "not json", "{\"type\":\"welcome\",\"heartbeatMs\":\"soon\"}", "{\"type\":\"joined\",\"members\":7}"})
        void nonServerFramesAreRejected(String json) {
            assertThatThrownBy(() -> FrameCodec.decodeServer(json)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    // ------------------------------------------------------------------------------------ client frame encoding

    static List<ClientFrame> clientSamples() {
        return List.of(
            new ClientFrame.Join("1", "general", null),
            new ClientFrame.Join(null, "general", 0L),
            new ClientFrame.Join("x", "dm:alice:bob", Long.MAX_VALUE),
            new ClientFrame.Leave("2", "general"),
            new ClientFrame.Leave(null, "dm:a:b"),
            new ClientFrame.Send("3", "general", "uuid", "hi"),
            new ClientFrame.Send(null, "r", "i".repeat(64), "  padded \"quoted\" \\ " + EMOJI + " \u202e\u0000 "),
            new ClientFrame.Send("", "r", EMOJI, EMOJI.repeat(4000)),
            new ClientFrame.History("4", "general", 58L, 50),
            new ClientFrame.History(null, "general", null, 1),
            new ClientFrame.History(null, "general", 1L, 200),
            new ClientFrame.Typing("t", "general"),
            new ClientFrame.Typing(null, "a"),
            new ClientFrame.PresenceQuery("5", List.of("bob", "carol")),
            new ClientFrame.PresenceQuery(null, List.of()),
            new ClientFrame.Ping("6"),
            new ClientFrame.Ping(null),
            new ClientFrame.Ping("r".repeat(64)),
            new ClientFrame.Read("7", "general", 57),
            new ClientFrame.Read(null, "dm:alice:bob", 0),
            new ClientFrame.Directory("12", "dev", 50),
            new ClientFrame.Directory(null, "", 100),
            new ClientFrame.Search("11", "deploy", "general", 20),
            new ClientFrame.Search(null, "naïve café", null, 100),
            new ClientFrame.Edit("8", "general", 58, "e1", "hi!"),
            new ClientFrame.Edit(null, "dm:alice:bob", 1, null, "fixed"),
            new ClientFrame.Delete("9", "general", 58, null),
            new ClientFrame.Delete(null, "general", 3, "d1"),
            new ClientFrame.React("10", "general", 58, null, "👍", true),
            new ClientFrame.React(null, "general", 58, "r1", "🇫🇷", false));
    }

    static final Map<Class<?>, String> CLIENT_WIRE_TYPE = Map.ofEntries(
        Map.entry(ClientFrame.Join.class, "join"),
        Map.entry(ClientFrame.Leave.class, "leave"),
        Map.entry(ClientFrame.Send.class, "send"),
        Map.entry(ClientFrame.History.class, "history"),
        Map.entry(ClientFrame.Typing.class, "typing"),
        Map.entry(ClientFrame.PresenceQuery.class, "presence"),
        Map.entry(ClientFrame.Ping.class, "ping"),
        Map.entry(ClientFrame.Read.class, "read"),
        Map.entry(ClientFrame.Directory.class, "directory"),
        Map.entry(ClientFrame.Search.class, "search"),
        Map.entry(ClientFrame.Edit.class, "edit"),
        Map.entry(ClientFrame.Delete.class, "delete"),
        Map.entry(ClientFrame.React.class, "react"));

    @Nested
    class ClientEncoding {

        @Test
        void samplesCoverEveryClientFrameType() {
            Set<Class<?>> permitted = SealedRecords.of(ClientFrame.class);
            assertThat(clientSamples().stream().map(Object::getClass).collect(Collectors.toSet()))
                .containsExactlyInAnyOrderElementsOf(permitted);
            assertThat(CLIENT_WIRE_TYPE.keySet()).containsExactlyInAnyOrderElementsOf(permitted);
        }

        @ParameterizedTest
        @MethodSource("dev.pulse.protocol.FrameCodecTest#clientSamples")
        void encodeThenDecodeClientIsIdentity(ClientFrame frame) {
            String wire = FrameCodec.encode(frame);
            JsonNode node = tree(wire);
            assertThat(node.get("type").textValue()).isEqualTo(CLIENT_WIRE_TYPE.get(frame.getClass()));
            assertNoNullFields(node, "$");
            assertThat(node.has("ref")).isEqualTo(frame.ref() != null);
            assertEquals(new Decoded.Ok(frame), CODEC.decodeClient(wire));
        }

        @Test
        void contractShapes() {
            assertThat(tree(FrameCodec.encode(new ClientFrame.Join("1", "general", 42L))))
                .isEqualTo(tree("{\"type\":\"join\",\"ref\":\"1\",\"room\":\"general\",\"since\":42}"));
            assertThat(tree(FrameCodec.encode(new ClientFrame.Send("3", "general", "u", "hi"))))
                .isEqualTo(tree("{\"type\":\"send\",\"ref\":\"3\",\"room\":\"general\",\"id\":\"u\",\"text\":\"hi\"}"));
            assertThat(tree(FrameCodec.encode(new ClientFrame.History("4", "general", 58L, 50))))
                .isEqualTo(tree("{\"type\":\"history\",\"ref\":\"4\",\"room\":\"general\",\"before\":58,\"limit\":50}"));
            assertThat(tree(FrameCodec.encode(new ClientFrame.PresenceQuery("5", List.of("bob", "carol")))))
                .isEqualTo(tree("{\"type\":\"presence\",\"ref\":\"5\",\"users\":[\"bob\",\"carol\"]}"));
            assertThat(tree(FrameCodec.encode(new ClientFrame.Ping("6"))))
                .isEqualTo(tree("{\"type\":\"ping\",\"ref\":\"6\"}"));
        }
    }

    // ------------------------------------------------------------------------------------ timestamps

    @Test
    void timestampsAreIsoUtcWithMillis() {
        assertThat(Timestamps.format(0)).isEqualTo("1970-01-01T00:00:00.000Z");
        long t = Timestamps.parse(TS);
        assertThat(Timestamps.format(t)).isEqualTo(TS);
        List<Long> samples = new ArrayList<>(List.of(1L, 999L, 1_000L, 1_764_391_800_123L, 253_402_300_799_999L));
        for (long ms : samples) {
            assertThat(Timestamps.parse(Timestamps.format(ms))).isEqualTo(ms);
        }
    }
}
