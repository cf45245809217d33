package dev.pulse.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;

/**
 * Property-based fuzzing of {@link FrameCodec#decodeClient}: whatever arrives on the socket, decoding never throws,
 * a rejection is always answerable with a well-formed {@code error} frame, and an accepted frame satisfies every
 * constraint of PROTOCOL.md. Structured inputs are also checked against an independent reference decoder written
 * from the contract.
 */
class FrameDecoderFuzzTest {

    static final FrameCodec CODEC = new FrameCodec(Limits.DEFAULTS);
    static final int MAX_FRAME = Limits.DEFAULTS.maxFrameBytes();
    static final int MAX_TEXT = Limits.DEFAULTS.maxTextChars();
    /** An independent, stock parser for the reference decoder. */
    static final ObjectMapper PLAIN = new ObjectMapper()
        .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS); // a frame is one object

    static final String EMOJI = "\uD83D\uDE00";
    static final List<String> TYPES = List.of("join", "leave", "send", "history", "typing", "presence", "ping");
    static final List<String> FIELDS = List.of("type", "ref", "room", "since", "before", "limit", "id", "text", "users");
    static final String USER_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_.-";
    static final String ROOM_FIRST = "abcdefghijklmnopqrstuvwxyz0123456789";

    /** Characters that tend to break things: NUL, bidi controls, BOM, zero-width, lone surrogates, non-characters. */
    static final List<String> SPECIALS = List.of(
        "\u0000", "\u0001", "\u001f", "\u007f", "\u202E", "\u202C", "\u200F", "\u200E", "\u2066", "\u200B", "\uFEFF",
        "\uD800", "\uDBFF", "\uDC00", "\uDFFF", EMOJI, "\uD83D\uDC68\u200D\uD83D\uDC69\u200D\uD83D\uDC67", "e\u0301",
        "\uFFFF", "\uFFFE", "\n", "\r", "\t", "\"", "\\", "/", "\\u0000", "</script>", "dm:", ":", "general", "alice",
        " ", "\u00A0", "\u2003", "\u3000", "\u2028", "\u00e9", "\u20ac", "\u4e2d", "\u05e9", "\u0627", "{", "}", "[", "]");

    // =============================================================================================== invariants

    /** UTF-8 length, counting a lone surrogate as the three bytes its generalized UTF-8 form takes. */
    static long utf8Bytes(String s) {
        return s.codePoints().mapToLong(cp -> cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4).sum();
    }

    static String abbreviate(String s) {
        return s.length() <= 300 ? s : s.substring(0, 300) + "…(" + s.length() + " chars)";
    }

    /** Decodes and asserts the invariants that hold for every input whatsoever. */
    static Decoded check(String input) {
        Decoded decoded;
        try {
            decoded = CODEC.decodeClient(input);
        } catch (Throwable t) {
            throw new AssertionError("decodeClient threw on " + abbreviate(input), t);
        }
        assertThat(decoded).as("outcome for %s", abbreviate(input)).isNotNull();
        boolean tooLarge = utf8Bytes(input) > MAX_FRAME;
        if (decoded instanceof Decoded.Ok ok) {
            assertThat(tooLarge).as("accepted a frame over the size limit").isFalse();
            assertSatisfiesContract(ok.frame());
        } else if (decoded instanceof Decoded.Rejected r) {
            assertThat(r.code()).isIn(ErrorCode.INVALID, ErrorCode.TOO_LARGE);
            assertThat(r.code() == ErrorCode.TOO_LARGE).as("too_large iff over %d bytes", MAX_FRAME).isEqualTo(tooLarge);
            assertThat(r.message()).isNotNull().isNotBlank();
            assertThat(r.message().length()).as("error message must not reflect the whole input").isLessThan(1000);
            if (r.ref() != null) {
                assertThat(r.ref().length()).isLessThanOrEqualTo(Limits.MAX_REF_CHARS);
            }
            assertErrorFrameIsWellFormed(r);
        } else {
            throw new AssertionError("neither Ok nor Rejected: " + decoded);
        }
        return decoded;
    }

    static void assertErrorFrameIsWellFormed(Decoded.Rejected r) {
        String wire = FrameCodec.encode(r.toError());
        JsonNode node;
        try {
            node = PLAIN.readTree(wire);
        } catch (Exception e) {
            throw new AssertionError("error frame is not JSON: " + wire, e);
        }
        assertThat(node.isObject()).isTrue();
        assertThat(node.path("type").textValue()).isEqualTo("error");
        assertThat(node.path("code").textValue()).isEqualTo(r.code().wire());
        assertThat(node.path("message").textValue()).isEqualTo(r.message());
        assertThat(node.has("retryAfterMs")).isFalse();
        if (r.ref() == null) {
            assertThat(node.has("ref")).isFalse();
        } else {
            assertThat(node.path("ref").textValue()).isEqualTo(r.ref());
        }
        ServerFrame back = FrameCodec.decodeServer(wire);
        assertThat(back).isEqualTo(r.toError());
        assertThat(((ServerFrame.Error) back).errorCode()).isEqualTo(r.code());
    }

    /** The constraints PROTOCOL.md puts on every field of an accepted frame. */
    static void assertSatisfiesContract(ClientFrame f) {
        assertThat(f).isNotNull();
        if (f.ref() != null) {
            assertThat(f.ref().length()).isLessThanOrEqualTo(Limits.MAX_REF_CHARS);
        }
        if (f instanceof ClientFrame.Join j) {
            assertThat(Names.isValidRoom(j.room())).as("room %s", j.room()).isTrue();
            if (j.since() != null) {
                assertThat(j.since()).isNotNegative();
            }
        } else if (f instanceof ClientFrame.Leave l) {
            assertThat(Names.isValidRoom(l.room())).as("room %s", l.room()).isTrue();
        } else if (f instanceof ClientFrame.Typing t) {
            assertThat(Names.isValidRoom(t.room())).as("room %s", t.room()).isTrue();
        } else if (f instanceof ClientFrame.Send s) {
            assertThat(Names.isValidRoom(s.room())).as("room %s", s.room()).isTrue();
            assertThat(s.id()).isNotNull();
            assertThat(s.id().length()).isBetween(1, Limits.MAX_ID_CHARS);
            assertThat(s.text()).isNotNull();
            String trimmed = s.text().strip();
            assertThat(trimmed.codePointCount(0, trimmed.length())).isBetween(1, MAX_TEXT);
        } else if (f instanceof ClientFrame.History h) {
            assertThat(Names.isValidRoom(h.room())).as("room %s", h.room()).isTrue();
            assertThat(h.limit()).isBetween(1, Limits.HISTORY_MAX_LIMIT);
            if (h.before() != null) {
                assertThat(h.before()).isGreaterThanOrEqualTo(1L);
            }
        } else if (f instanceof ClientFrame.PresenceQuery p) {
            assertThat(p.users()).isNotNull();
            assertThat(p.users().size()).isLessThanOrEqualTo(Limits.MAX_PRESENCE_USERS);
            assertThat(p.users()).allSatisfy(u -> assertThat(Names.isValidUser(u)).as("user %s", u).isTrue());
        } else {
            assertThat(f).isInstanceOf(ClientFrame.Ping.class);
        }
    }

    // =============================================================================================== reference decoder

    static final Pattern REF_USER = Pattern.compile("[a-z0-9_.-]{1,32}");
    static final Pattern REF_PUBLIC_ROOM = Pattern.compile("[a-z0-9][a-z0-9_.-]{0,63}");
    static final Pattern INTEGER_LITERAL = Pattern.compile("-?(0|[1-9][0-9]*)");

    /** What the contract says the outcome should be: a frame, or INVALID with the given ref. */
    record Expected(ClientFrame frame, String ref) {}

    static final class Bad extends RuntimeException {
        Bad() {
            super(null, null, false, false);
        }
    }

    static Expected reference(JsonNode root) {
        if (root == null || !root.isObject()) {
            return new Expected(null, null);
        }
        JsonNode refNode = root.get("ref");
        String ref = null;
        if (refNode != null && !refNode.isNull()) {
            if (!refNode.isTextual() || refNode.textValue().length() > 64 || hasLoneSurrogate(refNode.textValue())) {
                return new Expected(null, null);
            }
            ref = refNode.textValue();
        }
        try {
            JsonNode type = root.get("type");
            if (type == null || !type.isTextual()) {
                throw new Bad();
            }
            ClientFrame frame = switch (type.textValue()) {
                case "join" -> new ClientFrame.Join(ref, refRoom(root), refCount(root, "since", 0, Long.MAX_VALUE));
                case "leave" -> new ClientFrame.Leave(ref, refRoom(root));
                case "send" -> new ClientFrame.Send(ref, refRoom(root), refId(root), refText(root));
                case "history" -> {
                    String room = refRoom(root);
                    Long before = refCount(root, "before", 1, Long.MAX_VALUE);
                    Long limit = refCount(root, "limit", 1, 200);
                    yield new ClientFrame.History(ref, room, before, limit == null ? 50 : limit.intValue());
                }
                case "typing" -> new ClientFrame.Typing(ref, refRoom(root));
                case "presence" -> new ClientFrame.PresenceQuery(ref, refUsers(root));
                case "ping" -> new ClientFrame.Ping(ref);
                default -> throw new Bad();
            };
            return new Expected(frame, ref);
        } catch (Bad e) {
            return new Expected(null, ref);
        }
    }

    static boolean referenceRoomIsValid(String room) {
        if (REF_PUBLIC_ROOM.matcher(room).matches()) {
            return true;
        }
        String[] parts = room.split(":", -1);
        return parts.length == 3 && parts[0].equals("dm") && REF_USER.matcher(parts[1]).matches()
            && REF_USER.matcher(parts[2]).matches() && parts[1].compareTo(parts[2]) < 0;
    }

    static String refRoom(JsonNode root) {
        JsonNode n = root.get("room");
        if (n == null || !n.isTextual() || !referenceRoomIsValid(n.textValue())) {
            throw new Bad();
        }
        return n.textValue();
    }

    static Long refCount(JsonNode root, String field, long min, long max) {
        JsonNode n = root.get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isIntegralNumber()) {
            throw new Bad();
        }
        BigInteger v = n.bigIntegerValue();
        if (v.compareTo(BigInteger.valueOf(min)) < 0 || v.compareTo(BigInteger.valueOf(max)) > 0) {
            throw new Bad();
        }
        return v.longValueExact();
    }

    static String refId(JsonNode root) {
        JsonNode n = root.get("id");
        if (n == null || !n.isTextual() || n.textValue().isEmpty() || n.textValue().length() > 64
            || hasLoneSurrogate(n.textValue())) {
            throw new Bad();
        }
        return n.textValue();
    }

    /** Text with no UTF-8 form: a surrogate that is not part of a pair. The codec rejects it. */
    static boolean hasLoneSurrogate(String s) {
        return !s.codePoints().allMatch(cp -> cp < Character.MIN_SURROGATE || cp > Character.MAX_SURROGATE);
    }

    static String refText(JsonNode root) {
        JsonNode n = root.get("text");
        if (n == null || !n.isTextual() || hasLoneSurrogate(n.textValue())) {
            throw new Bad();
        }
        String t = n.textValue().strip();
        int cps = t.codePointCount(0, t.length());
        if (cps < 1 || cps > MAX_TEXT) {
            throw new Bad();
        }
        return n.textValue();
    }

    static List<String> refUsers(JsonNode root) {
        JsonNode n = root.get("users");
        if (n == null || !n.isArray() || n.size() > 100) {
            throw new Bad();
        }
        List<String> users = new ArrayList<>();
        for (JsonNode u : n) {
            if (!u.isTextual() || !REF_USER.matcher(u.textValue()).matches()) {
                throw new Bad();
            }
            users.add(u.textValue());
        }
        return users;
    }

    /** Checks the codec's outcome against the reference decoder (inputs whose nesting stays shallow). */
    static void assertAgreesWithReference(String input, Decoded decoded) {
        if (utf8Bytes(input) > MAX_FRAME) {
            return; // too_large, already checked
        }
        JsonNode root;
        try {
            root = PLAIN.readTree(input);
        } catch (Exception e) {
            // a stock parser refuses it (malformed, or a number longer than Jackson's default 1000 digits)
            assertThat(decoded).as("accepted what a stock parser refuses: %s", abbreviate(input))
                .isInstanceOf(Decoded.Rejected.class);
            assertThat(((Decoded.Rejected) decoded).code()).isEqualTo(ErrorCode.INVALID);
            return;
        }
        Expected expected = reference(root);
        if (expected.frame() != null) {
            assertThat(decoded).as("decoding %s", abbreviate(input)).isEqualTo(new Decoded.Ok(expected.frame()));
        } else {
            assertThat(decoded).as("decoding %s", abbreviate(input)).isInstanceOf(Decoded.Rejected.class);
            Decoded.Rejected r = (Decoded.Rejected) decoded;
            assertThat(r.code()).isEqualTo(ErrorCode.INVALID);
            assertThat(r.ref()).as("echoed ref for %s", abbreviate(input)).isEqualTo(expected.ref());
        }
    }

    // =============================================================================================== JSON rendering

    /** A value that is already JSON text. */
    record Raw(String json) {}

    record Field(String name, Object value) {}

    /** mode 0: minimal escaping; 1: non-ASCII as \\uXXXX; 2: every character as \\uXXXX. */
    static String quote(String s, int mode) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (mode == 2 || c < 0x20 || (mode == 1 && c >= 0x7f)) {
                switch (c) {
                    case '\n' -> b.append(mode == 2 ? "\\u000a" : "\\n");
                    case '\t' -> b.append(mode == 2 ? "\\u0009" : "\\t");
                    default -> b.append(String.format("\\u%04x", (int) c));
                }
            } else if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }

    static String render(Object value, int mode) {
        if (value == null) {
            return "null";
        } else if (value instanceof Raw r) {
            return r.json();
        } else if (value instanceof String s) {
            return quote(s, mode);
        } else if (value instanceof Number || value instanceof Boolean) {
            return value.toString();
        } else if (value instanceof List<?> list) {
            List<String> parts = new ArrayList<>();
            for (Object o : list) {
                parts.add(render(o, mode));
            }
            return "[" + String.join(",", parts) + "]";
        }
        throw new IllegalArgumentException("cannot render " + value);
    }

    static String render(List<Field> fields, int mode, String separator) {
        List<String> parts = new ArrayList<>();
        for (Field f : fields) {
            parts.add(quote(f.name(), mode) + ":" + separator + render(f.value(), mode));
        }
        return "{" + String.join("," + separator, parts) + "}";
    }

    // =============================================================================================== generators

    static Arbitrary<String> weirdStrings(int maxTokens) {
        Arbitrary<String> token = Arbitraries.frequencyOf(
            Tuple.of(3, Arbitraries.of(SPECIALS)),
            Tuple.of(3, Arbitraries.strings().alpha().numeric().ofMaxLength(8)),
            Tuple.of(2, Arbitraries.strings().all().ofMaxLength(4)),
            Tuple.of(1, Arbitraries.strings().withCharRange('\u0590', '\u06ff').ofMaxLength(4)));
        return token.list().ofMaxSize(maxTokens).map(l -> String.join("", l));
    }

    static Arbitrary<String> numberLiterals() {
        Arbitrary<String> digits = Arbitraries.strings().numeric().ofMinLength(1).ofMaxLength(30)
            .map(s -> s.replaceFirst("^0+(?=.)", ""));
        Arbitrary<String> hugeDigits = Arbitraries.integers().between(19, 1200).withoutEdgeCases()
            .map(n -> "9".repeat(n));
        return Arbitraries.frequencyOf(
            Tuple.of(3, Arbitraries.integers().between(-5, 300).map(String::valueOf)),
            Tuple.of(2, Arbitraries.longs().map(String::valueOf)),
            Tuple.of(2, Combinators.combine(Arbitraries.of("", "-"), digits).as(String::concat)),
            Tuple.of(1, Combinators.combine(Arbitraries.of("", "-"), hugeDigits).as(String::concat)),
            Tuple.of(2, Arbitraries.doubles().map(String::valueOf).filter(s -> !s.contains("N") && !s.contains("I"))),
            Tuple.of(2, Arbitraries.of("0", "-0", "0.0", "-0.0", "1.0", "50.0", "1e3", "1E+2", "5e1", "1e-7", "1e400",
                "-1e400", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
                "-9223372036854775809", "18446744073709551616", "4.9e-324", "1.7976931348623157e308",
                "1", "2", "49", "51", "64", "65", "199", "200", "201", "202")));
    }

    static Arbitrary<String> jsonLeaves() {
        return Arbitraries.frequencyOf(
            Tuple.of(4, Combinators.combine(weirdStrings(6), Arbitraries.integers().between(0, 2)).as(FrameDecoderFuzzTest::quote)),
            Tuple.of(3, numberLiterals()),
            Tuple.of(1, Arbitraries.of("true", "false", "null")));
    }

    static Arbitrary<String> jsonValues(int depth) {
        if (depth <= 0) {
            return jsonLeaves();
        }
        Arbitrary<String> inner = Arbitraries.lazy(() -> jsonValues(depth - 1));
        Arbitrary<String> key = Arbitraries.oneOf(Arbitraries.of(FIELDS), weirdStrings(3));
        Arbitrary<String> member = Combinators.combine(key, inner, Arbitraries.integers().between(0, 2))
            .as((k, v, mode) -> quote(k, mode) + ":" + v);
        return Arbitraries.frequencyOf(
            Tuple.of(4, jsonLeaves()),
            Tuple.of(1, inner.list().ofMaxSize(4).map(l -> "[" + String.join(",", l) + "]")),
            Tuple.of(1, member.list().ofMaxSize(4).map(l -> "{" + String.join(",", l) + "}")));
    }

    static Arbitrary<String> users() {
        return Arbitraries.strings().withChars(USER_CHARS).ofMinLength(1).ofMaxLength(32);
    }

    static Arbitrary<String> publicRooms() {
        return Combinators.combine(Arbitraries.chars().with(ROOM_FIRST.toCharArray()),
                Arbitraries.strings().withChars(USER_CHARS).ofMaxLength(63))
            .as((c, s) -> c + s);
    }

    static Arbitrary<String> dmRooms() {
        return Combinators.combine(users(), users())
            .filter((a, b) -> !a.equals(b))
            .as((a, b) -> a.compareTo(b) < 0 ? "dm:" + a + ":" + b : "dm:" + b + ":" + a);
    }

    static Arbitrary<String> rooms() {
        return Arbitraries.frequencyOf(Tuple.of(3, publicRooms()), Tuple.of(1, dmRooms()), Tuple.of(1, Arbitraries.of("general")));
    }

    /** Rooms that are almost valid: the favourite hiding place of validation bugs. */
    static Arbitrary<String> nearlyRooms() {
        return Arbitraries.oneOf(
            rooms().map(r -> r + "x".repeat(Math.max(0, 65 - r.length()))),
            rooms().map(String::toUpperCase),
            rooms().map(r -> r + " "),
            rooms().map(r -> "-" + r),
            dmRooms().map(r -> {
                String[] p = r.split(":");
                return "dm:" + p[2] + ":" + p[1];
            }),
            users().map(u -> "dm:" + u + ":" + u),
            users().map(u -> "dm:" + u),
            Combinators.combine(users(), users(), users()).as((a, b, c) -> "dm:" + a + ":" + b + ":" + c),
            Arbitraries.of("", "dm:", "dm::", ":", "dm:a:", "dm::a", "DM:a:b", "dm:a:B", "dm:\u0430:b" /* Cyrillic a */));
    }

    static Arbitrary<String> refs() {
        return Arbitraries.frequencyOf(
            Tuple.of(2, Arbitraries.strings().all().ofMaxLength(64)),
            Tuple.of(2, Arbitraries.strings().alpha().numeric().ofMaxLength(8)),
            Tuple.of(1, Arbitraries.integers().between(60, 66).map("r"::repeat)));
    }

    static Arbitrary<String> texts() {
        Arbitrary<String> ordinary = weirdStrings(30);
        Arbitrary<String> nearLimit = Combinators.combine(Arbitraries.integers().between(3995, 4000),
                Arbitraries.of("a", EMOJI, "\u00e9", "\u4e2d", "\u0000"), Arbitraries.of("", " ", "\n\t ", "\u3000"))
            .as((n, unit, pad) -> pad + unit.repeat(n) + pad);
        return Arbitraries.frequencyOf(Tuple.of(9, ordinary), Tuple.of(1, nearLimit))
            .filter(t -> !hasLoneSurrogate(t))
            .filter(t -> {
                String s = t.strip();
                int cps = s.codePointCount(0, s.length());
                return cps >= 1 && cps <= MAX_TEXT;
            });
    }

    record Sample(List<Field> fields, ClientFrame expected) {}

    static List<Field> fields(String type, String ref, Object... nameValues) {
        List<Field> fields = new ArrayList<>();
        fields.add(new Field("type", type));
        if (ref != null) {
            fields.add(new Field("ref", ref));
        }
        for (int i = 0; i < nameValues.length; i += 2) {
            if (nameValues[i + 1] != null) {
                fields.add(new Field((String) nameValues[i], nameValues[i + 1]));
            }
        }
        return fields;
    }

    static Arbitrary<Sample> validSamples() {
        Arbitrary<String> ref = refs().filter(r -> r.length() <= 64 && !hasLoneSurrogate(r)).injectNull(0.3);
        Arbitrary<Sample> join = Combinators.combine(ref, rooms(),
                Arbitraries.longs().between(0, Long.MAX_VALUE).injectNull(0.4))
            .as((r, room, since) -> new Sample(fields("join", r, "room", room, "since", since),
                new ClientFrame.Join(r, room, since)));
        Arbitrary<Sample> leave = Combinators.combine(ref, rooms())
            .as((r, room) -> new Sample(fields("leave", r, "room", room), new ClientFrame.Leave(r, room)));
        Arbitrary<Sample> send = Combinators.combine(ref, rooms(), Arbitraries.strings().all().ofMinLength(1).ofMaxLength(64).filter(id -> !hasLoneSurrogate(id)), texts())
            .as((r, room, id, text) -> new Sample(fields("send", r, "room", room, "id", id, "text", text),
                new ClientFrame.Send(r, room, id, text)));
        Arbitrary<Sample> history = Combinators.combine(ref, rooms(),
                Arbitraries.longs().between(1, Long.MAX_VALUE).injectNull(0.4),
                Arbitraries.integers().between(1, 200).injectNull(0.4))
            .as((r, room, before, limit) -> new Sample(fields("history", r, "room", room, "before", before, "limit", limit),
                new ClientFrame.History(r, room, before, limit == null ? 50 : limit)));
        Arbitrary<Sample> typing = Combinators.combine(ref, rooms())
            .as((r, room) -> new Sample(fields("typing", r, "room", room), new ClientFrame.Typing(r, room)));
        Arbitrary<Sample> presence = Combinators.combine(ref, users().list().ofMaxSize(12))
            .as((r, us) -> new Sample(fields("presence", r, "users", us), new ClientFrame.PresenceQuery(r, us)));
        Arbitrary<Sample> ping = ref.map(r -> new Sample(fields("ping", r), new ClientFrame.Ping(r)));
        return Arbitraries.oneOf(join, leave, send, history, typing, presence, ping)
            .flatMap(s -> Arbitraries.shuffle(s.fields()).map(f -> new Sample(f, s.expected())));
    }

    // ------------------------------------------------------------------------------------ mutations

    enum Kind { DROP, REPLACE, DUPLICATE, ADD, RENAME, SET_TYPE }

    record Mutation(Kind kind, int index, Object value, String name) {

        List<Field> apply(List<Field> in) {
            List<Field> out = new ArrayList<>(in);
            int i = out.isEmpty() ? 0 : Math.floorMod(index, out.size());
            switch (kind) {
                case DROP -> {
                    if (!out.isEmpty()) {
                        out.remove(i);
                    }
                }
                case REPLACE -> {
                    if (!out.isEmpty()) {
                        out.set(i, new Field(out.get(i).name(), value));
                    }
                }
                case DUPLICATE -> {
                    if (!out.isEmpty()) {
                        // same key twice; the position decides which value a last-wins parser keeps
                        Field dup = new Field(out.get(i).name(), value);
                        out.add(index % 2 == 0 ? i : i + 1, dup);
                    }
                }
                case ADD -> out.add(Math.floorMod(index, out.size() + 1), new Field(name, value));
                case RENAME -> {
                    if (!out.isEmpty()) {
                        out.set(i, new Field(name, out.get(i).value()));
                    }
                }
                case SET_TYPE -> {
                    out.removeIf(f -> f.name().equals("type"));
                    out.add(Math.floorMod(index, out.size() + 1), new Field("type", value));
                }
            }
            return out;
        }
    }

    /** Values of every JSON type, aimed at the boundaries of every field. */
    static Arbitrary<Object> wrongValues() {
        Arbitrary<Object> targeted = Arbitraries.of(
            new Raw("null"), new Raw("true"), new Raw("false"), new Raw("0"), new Raw("-1"), new Raw("1"), new Raw("1.5"),
            new Raw("42.0"), new Raw("1e3"), new Raw("200"), new Raw("201"), new Raw("50"), new Raw("[]"), new Raw("{}"),
            new Raw("[\"bob\"]"), new Raw("[1]"), new Raw("[null]"), new Raw("{\"room\":\"general\"}"),
            new Raw("99999999999999999999"), new Raw("-9223372036854775809"), new Raw("9223372036854775807"),
            "", " ", "\t\n", "\u3000", "42", "general", "General", "dm:alice:bob", "dm:bob:alice", "join", "ping", "bob",
            "x".repeat(64), "x".repeat(65), "y".repeat(MAX_TEXT), "y".repeat(MAX_TEXT + 1), EMOJI.repeat(MAX_TEXT + 1),
            List.of("bob", "Carol"), List.of("alice", "bob"), List.of());
        return Arbitraries.frequencyOf(
            Tuple.of(4, targeted),
            Tuple.of(3, jsonValues(2).map(Raw::new)),
            Tuple.of(1, weirdStrings(8).map(s -> (Object) s)),
            Tuple.of(1, rooms().map(s -> (Object) s)),
            Tuple.of(1, nearlyRooms().map(s -> (Object) s)),
            Tuple.of(1, users().list().ofMaxSize(3).map(l -> (Object) l)),
            Tuple.of(1, Arbitraries.integers().between(95, 105).map(n -> (Object) java.util.stream.IntStream.range(0, n)
                .mapToObj(k -> "u" + k).toList())));
    }

    static Arbitrary<String> fieldNames() {
        return Arbitraries.oneOf(Arbitraries.of(FIELDS),
            Arbitraries.of("Type", "TYPE", "Room", "ref ", " ref", "", "type\u0000", "r\u00e9f", "users[]"),
            weirdStrings(2));
    }

    static Arbitrary<Mutation> mutations() {
        Arbitrary<Integer> idx = Arbitraries.integers().between(0, 50);
        Arbitrary<Object> typeValues = Arbitraries.oneOf(Arbitraries.of(TYPES).map(t -> (Object) t),
            Arbitraries.of("Join", "pong", "", "error", "welcome").map(t -> (Object) t), wrongValues());
        return Arbitraries.oneOf(
            idx.map(i -> new Mutation(Kind.DROP, i, null, null)),
            Combinators.combine(idx, wrongValues()).as((i, v) -> new Mutation(Kind.REPLACE, i, v, null)),
            Combinators.combine(idx, wrongValues()).as((i, v) -> new Mutation(Kind.DUPLICATE, i, v, null)),
            Combinators.combine(idx, fieldNames(), wrongValues()).as((i, n, v) -> new Mutation(Kind.ADD, i, v, n)),
            Combinators.combine(idx, fieldNames()).as((i, n) -> new Mutation(Kind.RENAME, i, null, n)),
            Combinators.combine(idx, typeValues).as((i, v) -> new Mutation(Kind.SET_TYPE, i, v, null)));
    }

    // =============================================================================================== properties

    @Provide
    Arbitrary<String> anyStrings() {
        return Arbitraries.frequencyOf(
            Tuple.of(2, Arbitraries.strings().all().ofMaxLength(300)),
            Tuple.of(2, Arbitraries.strings().withChars("{}[]\":,0123456789-+.eEtrufalsn \\/\t\nu\u0000\uD800").ofMaxLength(300)),
            Tuple.of(1, weirdStrings(40)));
    }

    @Property(tries = 2000)
    void randomStringsNeverBreakTheDecoder(@ForAll("anyStrings") String input) {
        check(input);
    }

    @Provide
    Arbitrary<String> jsonDocuments() {
        Arbitrary<String> key = Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.of(FIELDS)), Tuple.of(1, weirdStrings(3)));
        Arbitrary<String> member = Combinators.combine(key, jsonValues(3), Arbitraries.integers().between(0, 2))
            .as((k, v, mode) -> quote(k, mode) + ":" + v);
        Arbitrary<String> objects = member.list().ofMaxSize(8).map(l -> "{" + String.join(",", l) + "}");
        Arbitrary<String> documents = Arbitraries.frequencyOf(Tuple.of(3, objects), Tuple.of(1, jsonValues(4)));
        return Combinators.combine(documents, Arbitraries.of("", " ", "\n", "\t \r\n"))
            .as((json, ws) -> ws + json + ws);
    }

    @Property(tries = 1500)
    void randomJsonDocumentsAgreeWithTheReference(@ForAll("jsonDocuments") String input) {
        assertAgreesWithReference(input, check(input));
    }

    @Provide
    Arbitrary<String> frameLikeObjects() {
        Arbitrary<String> plausible = Arbitraries.oneOf(
            rooms().map(r -> quote(r, 0)), nearlyRooms().map(r -> quote(r, 1)), numberLiterals(),
            users().list().ofMaxSize(3).map(l -> render(l, 0)), jsonValues(2), refs().map(r -> quote(r, 0)),
            texts().map(t -> quote(t, 0)));
        Arbitrary<String> entry = Arbitraries.frequencyOf(
            Tuple.of(8, Combinators.combine(Arbitraries.of(FIELDS), plausible).as((k, v) -> quote(k, 0) + ":" + v)),
            Tuple.of(1, Combinators.combine(weirdStrings(3), jsonValues(3)).as((k, v) -> quote(k, 1) + ":" + v)));
        Arbitrary<String> type = Arbitraries.frequencyOf(
            Tuple.of(8, Arbitraries.of(TYPES).map(t -> "\"type\":\"" + t + "\"")),
            Tuple.of(1, jsonValues(1).map(v -> "\"type\":" + v)),
            Tuple.of(1, Arbitraries.just("")));
        return Combinators.combine(type, entry.list().ofMaxSize(8), Arbitraries.integers().between(0, 8))
            .as((t, entries, at) -> {
                List<String> all = new ArrayList<>(entries);
                if (!t.isEmpty()) {
                    all.add(Math.min(at, all.size()), t);
                }
                return "{" + String.join(",", all) + "}";
            });
    }

    @Property(tries = 2000)
    void randomFrameLikeObjectsAgreeWithTheReference(@ForAll("frameLikeObjects") String input) {
        assertAgreesWithReference(input, check(input));
    }

    @Provide
    Arbitrary<Sample> valid() {
        return validSamples();
    }

    @Property(tries = 1500)
    void validFramesDecodeToExactlyTheirRecord(@ForAll("valid") Sample sample,
                                               @ForAll @IntRange(min = 0, max = 2) int escapeMode,
                                               @ForAll boolean spaced) {
        String input = render(sample.fields(), escapeMode, spaced ? " " : "");
        Decoded decoded = check(input);
        assertThat(decoded).as("decoding %s", abbreviate(input)).isEqualTo(new Decoded.Ok(sample.expected()));
        // what a client would send for the same frame decodes the same
        assertThat(CODEC.decodeClient(FrameCodec.encode(sample.expected()))).isEqualTo(new Decoded.Ok(sample.expected()));
    }

    @Provide
    Arbitrary<List<Mutation>> mutationLists() {
        return mutations().list().ofMinSize(1).ofMaxSize(4);
    }

    @Property(tries = 2000)
    void mutatedValidFramesAgreeWithTheReference(@ForAll("valid") Sample sample,
                                                 @ForAll("mutationLists") List<Mutation> mutations,
                                                 @ForAll @IntRange(min = 0, max = 2) int escapeMode) {
        List<Field> fields = sample.fields();
        for (Mutation m : mutations) {
            fields = m.apply(fields);
        }
        String input = render(fields, escapeMode, "");
        assertAgreesWithReference(input, check(input));
    }

    @Provide
    Arbitrary<String> wrongTypedFields() {
        // every field of every frame type, with a value of each wrong JSON type
        return Combinators.combine(validSamples(), Arbitraries.of(FIELDS), wrongValues())
            .as((s, field, value) -> {
                List<Field> out = new ArrayList<>(s.fields());
                out.removeIf(f -> f.name().equals(field));
                out.add(new Field(field, value));
                return render(out, 0, "");
            });
    }

    @Property(tries = 1500)
    void wrongTypesInEveryFieldAgreeWithTheReference(@ForAll("wrongTypedFields") String input) {
        assertAgreesWithReference(input, check(input));
    }

    @Property(tries = 1000)
    void anythingAfterTheObjectButWhitespaceIsInvalid(@ForAll("valid") Sample sample,
                                                      @ForAll("anyStrings") String trailer) {
        String frame = render(sample.fields(), 0, "");
        String input = frame + trailer;
        Decoded decoded = check(input);
        if (trailer.isBlank() && trailer.chars().allMatch(c -> c == ' ' || c == '\t' || c == '\n' || c == '\r')) {
            assertThat(decoded).as(input).isEqualTo(new Decoded.Ok(sample.expected()));
        } else {
            assertThat(decoded).as(input).isInstanceOf(Decoded.Rejected.class);
            assertThat(((Decoded.Rejected) decoded).code()).isEqualTo(ErrorCode.INVALID);
        }
    }

    // ------------------------------------------------------------------------------------ near misses

    static final java.util.Map<String, List<String>> FIELDS_BY_TYPE = java.util.Map.of(
        "join", List.of("ref", "room", "since"),
        "leave", List.of("ref", "room"),
        "send", List.of("ref", "room", "id", "text"),
        "history", List.of("ref", "room", "before", "limit"),
        "typing", List.of("ref", "room"),
        "presence", List.of("ref", "users"),
        "ping", List.of("ref"));

    static Arbitrary<Object> rawNumbers(String... literals) {
        return Arbitraries.of(literals).map(Raw::new);
    }

    static Arbitrary<Object> asObject(Arbitrary<?> a) {
        return a.map(o -> (Object) o);
    }

    /** Values on and just past the contract's boundary for one field. */
    static Arbitrary<Object> nearMiss(String field) {
        Arbitrary<Object> notAString = rawNumbers("null", "1", "true", "[]", "{}", "[\"a\"]");
        return switch (field) {
            case "ref" -> Arbitraries.oneOf(
                asObject(Combinators.combine(Arbitraries.integers().between(62, 66), Arbitraries.of("r", EMOJI, "\u00e9", "\u0000"))
                    .as((n, u) -> u.repeat(n))),
                asObject(refs()), notAString);
            case "room" -> Arbitraries.oneOf(asObject(nearlyRooms()), asObject(rooms()), notAString);
            case "since" -> Arbitraries.oneOf(rawNumbers("-1", "0", "-0", "1", "0.0", "1.0", "9223372036854775807",
                "9223372036854775808", "-9223372036854775808", "1e0", "\"0\"", "null"), asObject(Arbitraries.longs()));
            case "before" -> Arbitraries.oneOf(rawNumbers("-1", "0", "-0", "1", "2", "1.0", "9223372036854775807",
                "9223372036854775808", "\"1\"", "null"), asObject(Arbitraries.longs()));
            case "limit" -> Arbitraries.oneOf(rawNumbers("-1", "0", "1", "2", "49", "50", "51", "199", "200", "201",
                "202", "50.0", "2e2", "\"50\"", "null", "2147483648", "4294967297"), asObject(Arbitraries.integers()));
            case "id" -> Arbitraries.oneOf(
                asObject(Combinators.combine(Arbitraries.integers().between(0, 66), Arbitraries.of("i", EMOJI, " ", "\uD800"))
                    .as((n, u) -> u.repeat(n))),
                notAString);
            case "text" -> Arbitraries.oneOf(
                asObject(Combinators.combine(Arbitraries.integers().between(3998, 4002), Arbitraries.of("a", EMOJI, "\u00e9", "\u0000", "\u200b"),
                        Arbitraries.of("", " ", "\n\t", "\u3000", "\u00a0"))
                    .as((n, u, pad) -> pad + u.repeat(n) + pad)),
                asObject(Arbitraries.strings().withChars(" \t\n\r\u000B\f\u2003\u3000\u2028\u2029\u001C\u0085\u00a0\u200b").ofMaxLength(12)),
                asObject(texts()), notAString);
            case "users" -> {
                Arbitrary<Object> badUser = Arbitraries.oneOf(
                    asObject(Arbitraries.of("", "Bob", "a".repeat(33), "a:b", "bob ", "b\u00f6b", EMOJI, "dm:a:b")),
                    rawNumbers("1", "null", "[]", "{}", "[\"bob\"]"));
                Arbitrary<List<String>> many = Arbitraries.integers().between(98, 102)
                    .map(n -> java.util.stream.IntStream.range(0, n).mapToObj(k -> "u" + k).toList());
                Arbitrary<List<String>> lists = Arbitraries.oneOf(users().list().ofMaxSize(5), many);
                yield Arbitraries.oneOf(
                    asObject(Combinators.combine(lists, badUser, Arbitraries.integers().between(0, 102), Arbitraries.of(true, false))
                        .as((list, bad, pos, inject) -> {
                            List<Object> out = new ArrayList<>(list);
                            if (inject) {
                                out.add(Math.min(pos, out.size()), bad);
                            }
                            return out;
                        })),
                    rawNumbers("null", "\"bob\"", "{\"0\":\"bob\"}", "1", "[[]]"));
            }
            default -> throw new IllegalArgumentException(field);
        };
    }

    @Provide
    Arbitrary<String> nearMisses() {
        return validSamples().flatMap(sample -> {
            String type = (String) sample.fields().stream().filter(f -> f.name().equals("type")).findFirst().orElseThrow().value();
            return Arbitraries.of(FIELDS_BY_TYPE.get(type)).flatMap(field -> nearMiss(field).map(value -> {
                List<Field> out = new ArrayList<>(sample.fields());
                out.removeIf(f -> f.name().equals(field));
                out.add(new Field(field, value));
                return render(out, 0, "");
            }));
        });
    }

    @Property(tries = 2000)
    void nearMissesOnEveryBoundaryAgreeWithTheReference(@ForAll("nearMisses") String input) {
        assertAgreesWithReference(input, check(input));
    }

    // ------------------------------------------------------------------------------------ nesting, size, numbers

    @Property(tries = 150)
    void deepNestingNeverBreaksTheDecoder(@ForAll @IntRange(min = 1, max = 100_000) int depth,
                                          @ForAll @IntRange(min = 0, max = 2) int opener,
                                          @ForAll boolean closed,
                                          @ForAll boolean insideAFrame) {
        String open = switch (opener) {
            case 0 -> "[";
            case 1 -> "{\"a\":";
            default -> "[{\"b\":";
        };
        String close = switch (opener) {
            case 0 -> "]";
            case 1 -> "}";
            default -> "}]";
        };
        int reps = Math.max(1, depth / open.length());
        StringBuilder b = new StringBuilder();
        if (insideAFrame) {
            b.append("{\"type\":\"ping\",\"ref\":\"n\",\"x\":");
        }
        b.append(open.repeat(reps));
        if (closed) {
            b.append(opener == 0 ? "" : "0").append(close.repeat(reps));
        }
        if (insideAFrame) {
            b.append('}');
        }
        String input = b.toString();
        Decoded decoded = check(input);
        if (!closed || !insideAFrame) {
            assertThat(decoded).isInstanceOf(Decoded.Rejected.class);
        }
        if (closed && insideAFrame && reps * (opener == 2 ? 2 : 1) <= 30) {
            assertThat(decoded).isEqualTo(new Decoded.Ok(new ClientFrame.Ping("n")));
        }
    }

    @Example
    void hundredThousandBracketsAreTooLarge() {
        Decoded decoded = check("[".repeat(100_000));
        assertThat(((Decoded.Rejected) decoded).code()).isEqualTo(ErrorCode.TOO_LARGE);
    }

    @Example
    void nestingJustUnderTheSizeLimitIsInvalid() {
        Decoded decoded = check("[".repeat(MAX_FRAME));
        assertThat(((Decoded.Rejected) decoded).code()).isEqualTo(ErrorCode.INVALID);
        decoded = check("{\"a\":".repeat(MAX_FRAME / 5));
        assertThat(((Decoded.Rejected) decoded).code()).isEqualTo(ErrorCode.INVALID);
    }

    @Provide
    Arbitrary<Integer> frameSizes() {
        return Arbitraries.frequencyOf(
            Tuple.of(1, Arbitraries.integers().between(MAX_FRAME - 4, MAX_FRAME + 4)),
            Tuple.of(2, Arbitraries.integers().between(MAX_FRAME - 300, 3 * MAX_FRAME)));
    }

    @Property(tries = 150)
    void hugeFramesAreTooLargeExactlyWhenOverTheByteLimit(@ForAll("frameSizes") int targetBytes,
                                                          @ForAll @IntRange(min = 0, max = 4) int unitKind,
                                                          @ForAll @IntRange(min = 0, max = 3) int where) {
        String unit = switch (unitKind) {
            case 0 -> "a";
            case 1 -> "\u00e9";
            case 2 -> "\u20ac";
            case 3 -> EMOJI;
            default -> "\\u0000"; // six bytes of JSON for one char
        };
        int unitBytes = unitKind == 4 ? 6 : (int) utf8Bytes(unit);
        String prefix = switch (where) {
            case 0 -> "{\"type\":\"ping\",\"pad\":\"";
            case 1 -> "{\"type\":\"send\",\"room\":\"general\",\"id\":\"m\",\"text\":\"";
            case 2 -> "{\"type\":\"join\",\"room\":\"";
            default -> "{\"type\":\"ping\",\"ref\":\"";
        };
        String suffix = "\"}";
        int room = targetBytes - prefix.length() - suffix.length();
        int units = Math.max(0, room / unitBytes);
        String input = prefix + unit.repeat(units) + "a".repeat(Math.max(0, room - units * unitBytes)) + suffix;
        assertThat(utf8Bytes(input)).isEqualTo(targetBytes);
        Decoded decoded = check(input);
        if (utf8Bytes(input) <= MAX_FRAME) {
            if (where == 0) {
                assertThat(decoded).isEqualTo(new Decoded.Ok(new ClientFrame.Ping(null)));
            } else {
                // a text/room/ref that long is over its own limit
                assertThat(((Decoded.Rejected) decoded).code()).isEqualTo(ErrorCode.INVALID);
            }
        } else {
            assertThat(((Decoded.Rejected) decoded).code()).isEqualTo(ErrorCode.TOO_LARGE);
        }
    }

    @Provide
    Arbitrary<String> hugeNumberLiterals() {
        Arbitrary<String> digits = Combinators.combine(Arbitraries.chars().range('1', '9'),
                Arbitraries.strings().numeric().ofMaxLength(1500))
            .as((first, rest) -> first + rest);
        return Arbitraries.frequencyOf(
            Tuple.of(4, Combinators.combine(Arbitraries.of("", "-"), digits).as(String::concat)),
            Tuple.of(2, Combinators.combine(Arbitraries.of("", "-"), digits, Arbitraries.strings().numeric().ofMinLength(1).ofMaxLength(40))
                .as((sign, d, frac) -> sign + d + "." + frac)),
            Tuple.of(2, Combinators.combine(Arbitraries.of("", "-"), digits.map(d -> d.substring(0, Math.min(d.length(), 20))),
                    Arbitraries.of("e", "E", "e+", "e-", "E-"), Arbitraries.integers().between(0, 100_000))
                .as((sign, d, e, exp) -> sign + d + e + exp)),
            Tuple.of(2, numberLiterals()));
    }

    @Property(tries = 1000)
    void hugeNumbersAreAcceptedOnlyWhenIntegralAndInRange(@ForAll("hugeNumberLiterals") String number,
                                                          @ForAll @IntRange(min = 0, max = 2) int which) {
        String field = List.of("since", "before", "limit").get(which);
        String type = field.equals("since") ? "join" : "history";
        String input = "{\"type\":\"" + type + "\",\"ref\":\"n\",\"room\":\"general\",\"" + field + "\":" + number + "}";
        Decoded decoded = check(input);
        long min = field.equals("since") ? 0 : 1;
        long max = field.equals("limit") ? 200 : Long.MAX_VALUE;
        boolean integral = INTEGER_LITERAL.matcher(number).matches();
        boolean inRange = integral && new BigInteger(number).compareTo(BigInteger.valueOf(min)) >= 0
            && new BigInteger(number).compareTo(BigInteger.valueOf(max)) <= 0;
        if (inRange) {
            long v = new BigInteger(number).longValueExact();
            ClientFrame expected = switch (field) {
                case "since" -> new ClientFrame.Join("n", "general", v);
                case "before" -> new ClientFrame.History("n", "general", v, 50);
                default -> new ClientFrame.History("n", "general", null, (int) v);
            };
            assertThat(decoded).as(input).isEqualTo(new Decoded.Ok(expected));
        } else {
            assertThat(decoded).as(abbreviate(input)).isInstanceOf(Decoded.Rejected.class);
            Decoded.Rejected r = (Decoded.Rejected) decoded;
            assertThat(r.code()).isEqualTo(ErrorCode.INVALID);
            if (number.length() < 900) {
                assertThat(r.ref()).as("ref echoed for %s", abbreviate(input)).isEqualTo("n");
            }
        }
    }

    @Property(tries = 1000)
    void utf8LengthAgreesWithTheJdkOnWellFormedText(@ForAll("anyStrings") String s) {
        String wellFormed = s.codePoints()
            .filter(cp -> cp < Character.MIN_SURROGATE || cp > Character.MAX_SURROGATE)
            .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
        assertThat(FrameCodec.utf8Length(wellFormed))
            .isEqualTo(wellFormed.getBytes(java.nio.charset.StandardCharsets.UTF_8).length);
        assertThat((long) FrameCodec.utf8Length(s)).isEqualTo(utf8Bytes(s));
    }

    @Example
    void fixedNastyInputs() {
        List<String> inputs = List.of(
            "", " ", "\u0000", "\uFEFF", "\uD800", "{", "}", "[]", "{}", "null", "\"type\"", "{\"type\":null}",
            "{\"type\":\"\\ud800\"}", "{\"type\":\"join\",\"room\":\"\\u0000\"}", "{\"type\":\"send\",\"room\":\"general\",\"id\":\"\\udfff\",\"text\":\"\\ud800\"}",
            "{\"type\":\"ping\",\"ref\":\"\\ud800\"}", "{\"\\u0074ype\":\"ping\"}", "{\"type\":\"p\\u0069ng\"}",
            "{\"type\":\"ping\",\"ref\":\"" + "\\u0041".repeat(64) + "\"}", "{\"type\":\"ping\",\"ref\":\"" + "\\u0041".repeat(65) + "\"}",
            "{\"type\":\"presence\",\"users\":" + "[".repeat(70) + "]".repeat(70) + "}",
            "{\"type\":\"join\",\"room\":\"general\",\"since\":" + "1".repeat(5000) + "}",
            "{\"type\":\"join\",\"room\":\"general\",\"since\":0." + "0".repeat(5000) + "1}",
            "{\"type\":\"join\",\"room\":\"general\",\"since\":1e" + "9".repeat(2000) + "}",
            "{\"type\":\"send\",\"room\":\"general\",\"id\":\"m\",\"text\":\"" + "\u202E".repeat(4000) + "\"}",
            "{\"type\":\"send\",\"room\":\"general\",\"id\":\"m\",\"text\":\"" + "\\u0000".repeat(4001) + "\"}",
            "{\"type\":\"ping\"," + "\"k\":1,".repeat(9000) + "\"z\":0}",
            "{\"" + "k".repeat(60_000) + "\":1,\"type\":\"ping\"}",
            "\"" + "s".repeat(60_000) + "\"",
            "{\"type\":\"ping\",\"ref\":\"a\",\"ref\":\"" + "b".repeat(65) + "\"}",
            "{\"type\":\"join\",\"type\":\"ping\"}",
            "{\"type\":\"ping\"}\u0000",
            "\u0000{\"type\":\"ping\"}");
        for (String input : inputs) {
            assertAgreesWithReference(input, check(input));
        }
    }

    @Example
    void rejectionsOnlyUseInvalidOrTooLarge() {
        Set<ErrorCode> seen = new java.util.HashSet<>();
        for (String input : List.of("x", "[".repeat(MAX_FRAME + 1), "{\"type\":\"send\"}")) {
            seen.add(((Decoded.Rejected) check(input)).code());
        }
        assertThat(seen).containsExactlyInAnyOrder(ErrorCode.INVALID, ErrorCode.TOO_LARGE);
    }
}
