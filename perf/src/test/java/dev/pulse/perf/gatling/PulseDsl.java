package dev.pulse.perf.gatling;

import static io.gatling.javaapi.core.CoreDsl.StringBody;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.jsonPath;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;
import static io.gatling.javaapi.http.HttpDsl.ws;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gatling.javaapi.core.ChainBuilder;
import io.gatling.javaapi.core.Session;
import io.gatling.javaapi.http.HttpProtocolBuilder;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The Pulse wire protocol (protocol/PROTOCOL.md) as Gatling chains: log in, connect, join,
 * ping, leave, close, and the frames they send. Each virtual user is fed {@code user},
 * {@code baseUrl}, {@code wsUrl}, {@code room} and {@code index} by {@link #users}.
 *
 * <p>Request names in the reports: {@code login} (HTTP), {@code connect} (WebSocket upgrade) and
 * {@code welcome} (first frame), {@code join}/{@code joined}, {@code ping}/{@code pong},
 * {@code leave}/{@code left}, {@code close}. A WebSocket "request" such as {@code join} is the
 * frame being written (always 0 ms); the check named after the answer ({@code joined}) is timed
 * from that write to the answer's arrival.
 */
final class PulseDsl {

    /** Distinguishes the users and rooms of one run from earlier runs against the same nodes. */
    static final String RUN_ID = Props.string("pulse.runId", Long.toString(System.currentTimeMillis() / 1000 % 60_466_176L, 36));

    static final ObjectMapper JSON = new ObjectMapper();

    private PulseDsl() {}

    /**
     * HTTP/WebSocket protocol: no warm-up request (the default one goes to the Internet), login
     * connections shared by all virtual users (each would otherwise keep its own idle keep-alive
     * connection, a file descriptor per user on both sides), and a buffer of {@code unmatchedFrames}
     * frames per socket for {@code ws.processUnmatchedMessages} (0: no buffering).
     */
    static HttpProtocolBuilder protocol(int unmatchedFrames) {
        return http.disableWarmUp()
            .shareConnections()
            .acceptHeader("application/json")
            .wsUnmatchedInboundMessageBufferSize(unmatchedFrames);
    }

    /** {@link #users(PulseTarget, String, String, int)} with rooms named after the users. */
    static Iterator<Map<String, Object>> users(PulseTarget target, String prefix, int rooms) {
        return users(target, prefix, prefix, rooms);
    }

    /**
     * Endless feeder of distinct users: {@code index} 0, 1, 2, …; {@code user} =
     * {@code <prefix><runId>-<index>}; round robin over the nodes and over {@code rooms} rooms
     * named {@code <roomPrefix><runId>-r<k>}. Evaluated as users start, so after {@code before()}.
     */
    static Iterator<Map<String, Object>> users(PulseTarget target, String prefix, String roomPrefix, int rooms) {
        AtomicLong next = new AtomicLong();
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return true;
            }

            @Override
            public Map<String, Object> next() {
                long index = next.getAndIncrement();
                String baseUrl = target.baseUrl(index);
                int room = (int) (index % rooms);
                return Map.of(
                    "index", index,
                    "user", prefix + RUN_ID + "-" + index,
                    "baseUrl", baseUrl,
                    "wsUrl", PulseTarget.wsUrl(baseUrl),
                    "roomIndex", room,
                    "room", roomName(roomPrefix, room));
            }
        };
    }

    static String roomName(String prefix, int room) {
        return prefix + RUN_ID + "-r" + room;
    }

    /** {@code POST /api/login} → {@code token}. */
    static ChainBuilder login() {
        return exec(http("login").post("#{baseUrl}/api/login")
            .header("Content-Type", "application/json")
            .body(StringBody("{\"user\":\"#{user}\"}"))
            .check(status().is(200), jsonPath("$.token").saveAs("token")));
    }

    /** Opens the (default) WebSocket and checks the {@code welcome} frame. */
    static ChainBuilder connect(String requestName, Duration timeout) {
        return exec(ws(requestName).connect("#{wsUrl}/ws?token=#{token}")
            .await(timeout).on(ws.checkTextMessage("welcome").check(jsonPath("$.type").is("welcome"))));
    }

    /** Joins {@code #{room}}; saves the room's {@code lastSeq}. */
    static ChainBuilder join(Duration timeout) {
        return exec(session -> nextRef(session, "joinRef", "j"))
            .exec(ws("join").sendText("{\"type\":\"join\",\"ref\":\"#{joinRef}\",\"room\":\"#{room}\"}")
                .await(timeout).on(ws.checkTextMessage("joined")
                    .matching(jsonPath("$.ref").isEL("#{joinRef}"))
                    .check(jsonPath("$.type").is("joined"), jsonPath("$.lastSeq").ofLong().saveAs("lastSeq"))));
    }

    /** Heartbeat: {@code ping}, checked {@code pong}; remembers when it was sent in {@code lastPingAt}. */
    static ChainBuilder ping(Duration timeout) {
        return exec(session -> nextRef(session, "pingRef", "p").set("lastPingAt", System.currentTimeMillis()))
            .exec(ws("ping").sendText("{\"type\":\"ping\",\"ref\":\"#{pingRef}\"}")
                .await(timeout).on(ws.checkTextMessage("pong")
                    .matching(jsonPath("$.ref").isEL("#{pingRef}"))
                    .check(jsonPath("$.type").is("pong"))));
    }

    /** True when {@code interval} has passed since the last {@link #ping} (or since {@code lastPingAt} was set). */
    static boolean pingDue(Session session, Duration interval) {
        long last = session.contains("lastPingAt") ? session.getLong("lastPingAt") : 0L;
        return System.currentTimeMillis() - last >= interval.toMillis();
    }

    static ChainBuilder leave(Duration timeout) {
        return exec(session -> nextRef(session, "leaveRef", "l"))
            .exec(ws("leave").sendText("{\"type\":\"leave\",\"ref\":\"#{leaveRef}\",\"room\":\"#{room}\"}")
                .await(timeout).on(ws.checkTextMessage("left")
                    .matching(jsonPath("$.ref").isEL("#{leaveRef}"))
                    .check(jsonPath("$.type").is("left"))));
    }

    static ChainBuilder close() {
        return exec(ws("close").close());
    }

    /** Sets {@code key} to a ref unique within this virtual user: {@code <prefix><n>}. */
    static Session nextRef(Session session, String key, String prefix) {
        long n = session.contains("refCounter") ? session.getLong("refCounter") + 1 : 1;
        return session.set("refCounter", n).set(key, prefix + n);
    }

    /** A message id unique in the run: {@code <user>-<n>} (at most 64 characters). */
    static Session nextMessageId(Session session, String key) {
        long n = session.contains("msgCounter") ? session.getLong("msgCounter") + 1 : 1;
        return session.set("msgCounter", n).set(key, session.getString("user") + "-" + n);
    }

    /** A {@code send} frame; {@code ref} and {@code id} must be JSON-safe (ours are). */
    static String sendFrame(String ref, String room, String id, String text) {
        return "{\"type\":\"send\",\"ref\":\"" + ref + "\",\"room\":\"" + room + "\",\"id\":\"" + id + "\",\"text\":\"" + text + "\"}";
    }

    /**
     * Message text carrying its send time: {@code t=<epoch millis>} then filler up to
     * {@code chars} characters. {@link #sentAt} reads the time back.
     */
    static String timedText(long sentAtMillis, int chars) {
        StringBuilder text = new StringBuilder(Math.max(chars, 20)).append("t=").append(sentAtMillis).append(' ');
        while (text.length() < chars) {
            text.append((char) ('a' + text.length() % 26));
        }
        return text.toString();
    }

    /** The send time written by {@link #timedText}, or -1. */
    static long sentAt(String text) {
        if (text == null || !text.startsWith("t=")) {
            return -1;
        }
        int end = text.indexOf(' ', 2);
        try {
            return Long.parseLong(end < 0 ? text.substring(2) : text.substring(2, end));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    static JsonNode parse(String frame) {
        try {
            return JSON.readTree(frame);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("not JSON: " + frame, e);
        }
    }
}
