package dev.pulse.perf.gatling;

import static io.gatling.javaapi.core.CoreDsl.bodyString;
import static io.gatling.javaapi.core.CoreDsl.details;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.global;
import static io.gatling.javaapi.core.CoreDsl.jsonPath;
import static io.gatling.javaapi.core.CoreDsl.pause;
import static io.gatling.javaapi.core.CoreDsl.rampUsers;
import static io.gatling.javaapi.core.CoreDsl.repeat;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.ws;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pulse.perf.gatling.Metrics.Sample;
import io.gatling.http.action.ws.WsInboundMessage;
import io.gatling.javaapi.core.ChainBuilder;
import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Session;
import io.gatling.javaapi.core.Simulation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Reconnect storm: {@code pulse.users} clients (ramped over {@code pulse.rampSeconds}) log in,
 * connect and join one of {@code pulse.rooms} rooms. Then, all together (Gatling rendezvous):
 * <ol>
 *   <li>the first client of each room, on a second socket, posts {@code pulse.messagesBefore}
 *       messages; every client reads what it received (up to 2 s for the last acked one) and keeps
 *       the highest {@code seq} it has seen without a gap;</li>
 *   <li>every client drops its socket at once;</li>
 *   <li>the room's poster posts {@code pulse.missedMessages} messages that nobody online sees;</li>
 *   <li>every client reconnects at once (same token) and joins with {@code since} = its last seq.</li>
 * </ol>
 * Each resume must answer {@code joined}, then exactly the messages {@code since+1 … lastSeq} in
 * order, then {@code synced} with that {@code lastSeq}, which must cover every message acked in
 * the room.
 *
 * <p>Measured: {@code resume} (per client, {@link Metrics}) from the start of its reconnect
 * (WebSocket upgrade) to its {@code synced}, KO when the replay is wrong; {@code storm} (one
 * sample) from the first reconnect to the last {@code synced} — the storm's resume time; and the
 * Gatling checks {@code rejoined}/{@code synced} (timed from the resume's {@code join} frame).
 * Assertions: failed ≤ {@code pulse.maxFailedPercent} %, p99 of {@code resume} below
 * {@code pulse.p99Ms}, {@code storm} below {@code pulse.stormMs}.
 *
 * <p>Clients are idle while they wait at a rendezvous, and a node closes a socket silent for
 * 2.5 × its heartbeat (37.5 s by default): keep {@code pulse.rampSeconds} well below that.
 */
public class ReconnectStormSimulation extends Simulation {

    private final PulseTarget target = PulseTarget.fromProperties();
    private final int users = Props.positive("pulse.users", 20, 12);
    private final int rampSeconds = Props.integer("pulse.rampSeconds", 5, 2);
    private final int rooms = Props.positive("pulse.rooms", 4, 3);
    private final int messagesBefore = Props.integer("pulse.messagesBefore", 5, 3);
    private final int missedMessages = Props.positive("pulse.missedMessages", 10, 5);
    private final int timeoutSeconds = Props.positive("pulse.timeoutSeconds", 30);
    private final int textChars = Props.positive("pulse.textChars", 64);
    private final int p99Ms = Props.positive("pulse.p99Ms", 5_000);
    private final int stormMs = Props.positive("pulse.stormMs", 20_000);
    private final double maxFailedPercent = Props.decimal("pulse.maxFailedPercent", 0.0);

    private static final Map<String, AtomicLong> ACKED = new ConcurrentHashMap<>();
    private static final AtomicLong STORM_START = new AtomicLong(Long.MAX_VALUE);
    private static final AtomicLong STORM_END = new AtomicLong();
    private static final AtomicInteger RESUMED = new AtomicInteger();
    private static final AtomicInteger RESUME_FAILED = new AtomicInteger();

    {
        if (users < rooms) {
            throw new IllegalArgumentException("pulse.users must be at least pulse.rooms");
        }
        if (messagesBefore + missedMessages > 20) {
            target.embeddedConfig("pulse.limits.send-burst", 1_000_000);
        }
        target.expectSockets(users + rooms);
        int membersPerRoom = (users + rooms - 1) / rooms;
        // presence frames (each member online, offline, online again) and the messages
        int bufferFrames = Props.positive("pulse.bufferFrames", 4 * membersPerRoom + messagesBefore + missedMessages + 1_000);
        Duration timeout = Duration.ofSeconds(timeoutSeconds);

        ScenarioBuilder storm = scenario("reconnect storm")
            .feed(PulseDsl.users(target, "storm-", rooms))
            .exec(PulseDsl.login())
            .exec(PulseDsl.connect("connect", timeout))
            .exec(PulseDsl.join(timeout))
            .exec(session -> session.set("seen", session.contains("lastSeq") ? session.getLong("lastSeq") : 0L))
            .rendezVous(users)
            // 1. live messages
            .doIf(this::poster).then(
                exec(ws("poster connect", "poster").connect("#{wsUrl}/ws?token=#{token}")
                    .await(timeout).on(ws.checkTextMessage("welcome").check(jsonPath("$.type").is("welcome"))))
                    .repeat(messagesBefore).on(post("post", timeout)))
            .rendezVous(users)
            .exec(session -> session.set("readUntil", System.currentTimeMillis() + 2_000))
            .exec(readLive(bufferFrames))
            .asLongAs(session -> session.getLong("seen") < acked(session) && System.currentTimeMillis() < session.getLong("readUntil")).on(
                pause(Duration.ofMillis(20)).exec(readLive(bufferFrames)))
            // 2. everybody drops
            .exec(ws("drop").close())
            .rendezVous(users)
            // 3. messages nobody sees live
            .doIf(this::poster).then(
                repeat(missedMessages).on(post("post missed", timeout))
                    .exec(ws("poster close", "poster").close()))
            .rendezVous(users)
            // 4. the storm
            .exec(session -> {
                long now = System.currentTimeMillis();
                STORM_START.accumulateAndGet(now, Math::min);
                return session.set("reconnectAt", now).set("resume", new Resume(session.getString("room")));
            })
            .exec(PulseDsl.connect("reconnect", timeout))
            .exec(session -> PulseDsl.nextRef(session, "joinRef", "j"))
            .exec(ws("resume join").sendText("{\"type\":\"join\",\"ref\":\"#{joinRef}\",\"room\":\"#{room}\",\"since\":#{seen}}")
                .await(timeout).on(
                    ws.checkTextMessage("rejoined")
                        .matching(jsonPath("$.ref").isEL("#{joinRef}"))
                        .check(jsonPath("$.type").is("joined")),
                    // every frame after joined passes this matching condition: it records the
                    // replayed messages (with their arrival time) and matches the synced frame
                    ws.checkTextMessage("synced")
                        .matching(bodyString().transformWithSession((frame, session) -> session.<Resume>get("resume").offer(frame)).is(true))
                        .check(jsonPath("$.lastSeq").ofLong().saveAs("syncedSeq"))))
            .exec(Metrics.record(this::verifyResume))
            .exec(PulseDsl.close());

        setUp(storm.injectOpen(rampUsers(users).during(Duration.ofSeconds(rampSeconds))))
            .protocols(PulseDsl.protocol(bufferFrames))
            .maxDuration(Duration.ofSeconds(rampSeconds + 10L * timeoutSeconds + 60))
            .assertions(
                global().failedRequests().percent().lte(maxFailedPercent),
                details("resume").responseTime().percentile(99.0).lt(p99Ms),
                details("storm").responseTime().max().lt(stormMs));
    }

    /** The first client of each room posts (users are assigned to rooms round robin). */
    private boolean poster(Session session) {
        return session.getLong("index") < rooms;
    }

    private static long acked(Session session) {
        AtomicLong seq = ACKED.get(session.getString("room"));
        return seq == null ? 0 : seq.get();
    }

    /** One acked post on the poster's socket; the highest acked seq of the room is remembered. */
    private ChainBuilder post(String name, Duration timeout) {
        return exec(session -> PulseDsl.nextMessageId(session, "postId"))
            .exec(ws(name, "poster").sendText(session -> PulseDsl.sendFrame(session.getString("postId"), session.getString("room"),
                    session.getString("postId"), PulseDsl.timedText(System.currentTimeMillis(), textChars)))
                .await(timeout).on(ws.checkTextMessage("ack")
                    .matching(jsonPath("$.ref").isEL("#{postId}"))
                    .check(jsonPath("$.type").is("ack"), jsonPath("$.seq").ofLong().saveAs("ackSeq"))))
            .exec(session -> {
                if (session.contains("ackSeq")) {
                    ACKED.computeIfAbsent(session.getString("room"), room -> new AtomicLong())
                        .accumulateAndGet(session.getLong("ackSeq"), Math::max);
                }
                return session.remove("ackSeq");
            });
    }

    /** Reads the live messages buffered on the client socket: {@code seen} advances while there is no gap. */
    private static ChainBuilder readLive(int bufferFrames) {
        return exec(ws.processUnmatchedMessages((messages, session) -> {
                String room = session.getString("room");
                long seen = session.getLong("seen");
                boolean gap = session.contains("liveGap");
                List<Sample> samples = new ArrayList<>();
                for (WsInboundMessage inbound : messages) {
                    if (gap || !(inbound instanceof WsInboundMessage.Text text) || !text.message().contains("\"message\"")) {
                        continue;
                    }
                    JsonNode frame = PulseDsl.parse(text.message());
                    if (!"message".equals(frame.path("type").asText()) || !room.equals(frame.path("room").asText())) {
                        continue;
                    }
                    long seq = frame.path("seq").asLong();
                    if (seq == seen + 1) {
                        seen = seq;
                        long sentAt = PulseDsl.sentAt(frame.path("text").asText());
                        if (sentAt > 0) {
                            samples.add(Sample.ok("live delivery", sentAt, text.timestamp()));
                        }
                    } else if (seq > seen + 1) {
                        // resume from before the gap: the replay must bring the missing ones
                        gap = true;
                        samples.add(Sample.ko("live delivery", text.timestamp(), text.timestamp(), "gap: seq " + (seen + 1)
                            + "–" + (seq - 1) + " not received live (or dropped by this generator's buffer of " + bufferFrames + " frames)"));
                    } else {
                        samples.add(Sample.ko("live delivery", text.timestamp(), text.timestamp(), "seq " + seq + " again after " + seen));
                    }
                }
                Session next = Metrics.add(session.set("seen", seen), samples);
                return gap ? next.set("liveGap", true) : next;
            }))
            .exec(Metrics.record());
    }

    private Session verifyResume(Session session) {
        Resume resume = session.get("resume");
        long start = session.getLong("reconnectAt");
        long since = session.getLong("seen");
        long now = System.currentTimeMillis();
        String error = null;
        if (resume.syncedAt < 0) {
            error = "no synced within the timeout (" + resume.seqs.size() + " messages replayed)";
        } else {
            long expected = resume.syncedSeq - since;
            if (resume.seqs.size() != expected) {
                error = "replayed " + resume.seqs.size() + " messages, expected " + expected + " (since " + since + ", synced " + resume.syncedSeq + ")";
            } else {
                for (int i = 0; i < resume.seqs.size(); i++) {
                    if (resume.seqs.get(i) != since + 1 + i) {
                        error = "replay out of order: seq " + resume.seqs.get(i) + " at position " + (i + 1) + " after since " + since;
                        break;
                    }
                }
            }
            long roomAcked = acked(session);
            if (error == null && resume.syncedSeq < roomAcked) {
                error = "synced at " + resume.syncedSeq + " but the room has acked " + roomAcked;
            }
        }
        long end = resume.syncedAt > 0 ? resume.syncedAt : now;
        Session next = Metrics.add(session.remove("resume"),
            error == null ? Sample.ok("resume", start, end) : Sample.ko("resume", start, end, error));
        if (error != null) {
            RESUME_FAILED.incrementAndGet();
        }
        STORM_END.accumulateAndGet(end, Math::max);
        // the last client to finish logs the storm as a whole
        if (RESUMED.incrementAndGet() == users) {
            int failed = RESUME_FAILED.get();
            next = Metrics.add(next, failed == 0
                ? Sample.ok("storm", STORM_START.get(), STORM_END.get())
                : Sample.ko("storm", STORM_START.get(), STORM_END.get(), failed + " clients did not resume correctly"));
        }
        return next;
    }

    /**
     * What a resume received after {@code joined}: the replayed messages' seqs and the
     * {@code synced} frame. Mutated only on the virtual user's own event loop, by the check.
     */
    static final class Resume {
        final String room;
        final List<Long> seqs = new ArrayList<>();
        long syncedSeq = -1;
        long syncedAt = -1;

        Resume(String room) {
            this.room = room;
        }

        /** True for this room's {@code synced}; records this room's messages. */
        boolean offer(String frameText) {
            if (!frameText.contains(room)) {
                return false;
            }
            JsonNode frame = PulseDsl.parse(frameText);
            if (!room.equals(frame.path("room").asText())) {
                return false;
            }
            String type = frame.path("type").asText();
            if ("message".equals(type)) {
                seqs.add(frame.path("seq").asLong());
                return false;
            }
            if ("synced".equals(type)) {
                syncedSeq = frame.path("lastSeq").asLong();
                syncedAt = System.currentTimeMillis();
                return true;
            }
            return false;
        }
    }

    @Override
    public void before() {
        System.out.println("[pulse] ReconnectStormSimulation " + Props.describe());
        target.start();
    }

    @Override
    public void after() {
        target.stop();
    }
}
