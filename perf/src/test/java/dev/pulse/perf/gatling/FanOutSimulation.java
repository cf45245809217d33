package dev.pulse.perf.gatling;

import static io.gatling.javaapi.core.CoreDsl.details;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.global;
import static io.gatling.javaapi.core.CoreDsl.jsonPath;
import static io.gatling.javaapi.core.CoreDsl.nothingFor;
import static io.gatling.javaapi.core.CoreDsl.pace;
import static io.gatling.javaapi.core.CoreDsl.pause;
import static io.gatling.javaapi.core.CoreDsl.rampUsers;
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
import java.util.concurrent.atomic.AtomicLong;

/**
 * Fan-out: {@code pulse.rooms} rooms of {@code pulse.membersPerRoom} members each. In every room
 * {@code pulse.sendersPerRoom} of the members are senders; together all senders send
 * {@code pulse.sendRatePerSec} messages per second (each sender paced at
 * {@code senders / rate} seconds per message) for {@code pulse.durationSeconds}; the others are
 * receivers. Every message text starts with {@code t=<epoch millis of the send>}.
 *
 * <p>What is measured:
 * <ul>
 *   <li>{@code ack} (senders, a Gatling check): send frame written → {@code ack} received.</li>
 *   <li>{@code delivery} (receivers, {@link Metrics}): the send time written in the text → the
 *       time the receiver's socket received the {@code message} frame, for every message at every
 *       receiver. Receivers do not use checks after joining (a pending check would drop the frames
 *       it does not match); they let frames collect in the socket's buffer of unmatched frames
 *       ({@code pulse.bufferFrames}) and drain it every {@code pulse.pollMs} with
 *       {@code ws.processUnmatchedMessages}, which hands over each frame with its arrival time, so
 *       the polling adds no error to the figure. Both ends read the same clock (one JVM); against
 *       remote nodes the latency still only spans this machine's clock.</li>
 *   <li>Completeness: each receiver expects every {@code seq} of its room after its join's
 *       {@code lastSeq}, in order, exactly once; a gap is one KO {@code delivery} per missing
 *       message, a repeat or reordering a KO, and at the end (after {@code pulse.drainSeconds})
 *       every message acked in its room and not received is a KO.</li>
 *   <li>{@code pong}: receivers ping every {@code pulse.pingSeconds} (else the node closes an idle
 *       socket) without a check; the {@code pong} is timed from the buffer as well.</li>
 * </ul>
 * Assertions: failed ≤ {@code pulse.maxFailedPercent} %, p99 of {@code ack} below
 * {@code pulse.ackP99Ms} and of {@code delivery} below {@code pulse.deliveryP99Ms}.
 */
public class FanOutSimulation extends Simulation {

    private final PulseTarget target = PulseTarget.fromProperties();
    private final int rooms = Props.positive("pulse.rooms", 2, 2);
    private final int membersPerRoom = Props.positive("pulse.membersPerRoom", 20, 6);
    private final int sendersPerRoom = Props.positive("pulse.sendersPerRoom", 2, 2);
    private final double sendRatePerSec = Props.decimal("pulse.sendRatePerSec", 4, 8);
    private final int durationSeconds = Props.positive("pulse.durationSeconds", 30, 5);
    private final int rampSeconds = Props.integer("pulse.rampSeconds", 5, 1);
    private final int drainSeconds = Props.integer("pulse.drainSeconds", 3, 2);
    private final int pollMs = Props.positive("pulse.pollMs", 500);
    private final int pingSeconds = Props.positive("pulse.pingSeconds", 10, 2);
    private final int timeoutSeconds = Props.positive("pulse.timeoutSeconds", 10);
    private final int textChars = Props.positive("pulse.textChars", 64);
    private final int ackP99Ms = Props.positive("pulse.ackP99Ms", 500, 5_000);
    private final int deliveryP99Ms = Props.positive("pulse.deliveryP99Ms", 500, 5_000);
    private final double maxFailedPercent = Props.decimal("pulse.maxFailedPercent", 0.0);
    private final int bufferFrames;

    /** Highest acked seq per room, from the senders' acks: what every receiver must end with. */
    private static final Map<String, AtomicLong> ACKED = new ConcurrentHashMap<>();
    /** Set in before(): receivers stop listening then (senders' start + duration + drain). */
    private volatile long receiversDeadline = Long.MAX_VALUE;
    private final long settleMillis = 2_000;
    private final long senderSpreadMillis;

    {
        if (sendersPerRoom >= membersPerRoom) {
            throw new IllegalArgumentException("pulse.sendersPerRoom must be below pulse.membersPerRoom");
        }
        int senders = rooms * sendersPerRoom;
        int receivers = rooms * (membersPerRoom - sendersPerRoom);
        long intervalMillis = Math.max(1, Math.round(senders * 1000.0 / sendRatePerSec));
        // Gatling drops sub-second parts of a ramp's duration (a 0 s ramp never injects): whole seconds
        senderSpreadMillis = Math.max(1, (intervalMillis + 999) / 1000) * 1000;
        double perSenderPer10s = 10_000.0 / intervalMillis;
        if (perSenderPer10s > 10) {
            // the default limit is 20 sends per 10 s per user (a token bucket): keep a margin, and
            // lift it on the in-process node, as this measures fan-out, not the limiter
            target.embeddedConfig("pulse.limits.send-burst", 1_000_000);
            if (!target.embedded() && perSenderPer10s > 15) {
                System.out.printf("[pulse] WARNING: each sender sends %.1f messages per 10 s; nodes with the default limit (20) "
                    + "will answer rate_limited: start them with -Dpulse.limits.send-burst=… or add senders%n", perSenderPer10s);
            }
        }
        target.expectSockets((long) rooms * membersPerRoom);
        double perRoomPerSec = sendRatePerSec / rooms;
        bufferFrames = Props.positive("pulse.bufferFrames",
            (int) Math.max(1_000, Math.ceil(perRoomPerSec * pollMs / 1000.0 * 10) + 2L * membersPerRoom + 100));
        Duration timeout = Duration.ofSeconds(timeoutSeconds);
        Duration ping = Duration.ofSeconds(pingSeconds);

        ChainBuilder sendOne = exec(session -> PulseDsl.nextMessageId(session, "sendId"))
            .exec(ws("send").sendText(session -> {
                    String id = session.getString("sendId");
                    return PulseDsl.sendFrame(id, session.getString("room"), id,
                        PulseDsl.timedText(System.currentTimeMillis(), textChars));
                })
                .await(timeout).on(ws.checkTextMessage("ack")
                    .matching(jsonPath("$.ref").isEL("#{sendId}"))
                    .check(jsonPath("$.type").is("ack"), jsonPath("$.seq").ofLong().saveAs("ackSeq"))))
            .exec(session -> {
                if (session.contains("ackSeq")) {
                    ACKED.computeIfAbsent(session.getString("room"), room -> new AtomicLong())
                        .accumulateAndGet(session.getLong("ackSeq"), Math::max);
                }
                return session.remove("ackSeq");
            });

        ScenarioBuilder sendersScenario = scenario("fan-out senders")
            .feed(PulseDsl.users(target, "fans-", "fan-", rooms))
            .exec(PulseDsl.login())
            .exec(PulseDsl.connect("connect", timeout))
            .exec(PulseDsl.join(timeout))
            .exec(session -> session.set("lastPingAt", System.currentTimeMillis()))
            .during(Duration.ofSeconds(durationSeconds), false).on(
                pace(Duration.ofMillis(intervalMillis))
                    .exec(sendOne)
                    .doIf(session -> PulseDsl.pingDue(session, ping)).then(PulseDsl.ping(timeout)))
            .exec(PulseDsl.close());

        ScenarioBuilder receiversScenario = scenario("fan-out receivers")
            .feed(PulseDsl.users(target, "fanr-", "fan-", rooms))
            .exec(PulseDsl.login())
            .exec(PulseDsl.connect("connect", timeout))
            .exec(PulseDsl.join(timeout))
            .exec(session -> session.set("seen", session.getLong("lastSeq")).set("lastPingAt", System.currentTimeMillis()))
            .asLongAs(session -> System.currentTimeMillis() < receiversDeadline).on(
                pause(Duration.ofMillis(pollMs))
                    .exec(drain())
                    // after drain(), in the same event-loop task: sending clears the socket's buffer
                    .doIf(session -> PulseDsl.pingDue(session, ping)).then(pingWithoutCheck()))
            .exec(drain())
            .exec(Metrics.record(FanOutSimulation::tailCheck))
            .exec(PulseDsl.close());

        // Senders start once the receivers have joined, spread over about one send interval.
        setUp(
            receiversScenario.injectOpen(rampUsers(receivers).during(Duration.ofSeconds(rampSeconds))),
            sendersScenario.injectOpen(
                nothingFor(Duration.ofMillis(rampSeconds * 1000L + settleMillis)),
                rampUsers(senders).during(Duration.ofMillis(senderSpreadMillis))))
            .protocols(PulseDsl.protocol(bufferFrames))
            // a safety net: the run ends by itself well before this
            .maxDuration(Duration.ofSeconds(rampSeconds + durationSeconds + drainSeconds + senderSpreadMillis / 1000 + 4L * timeoutSeconds + 60))
            .assertions(
                global().failedRequests().percent().lte(maxFailedPercent),
                details("ack").responseTime().percentile(99.0).lt(ackP99Ms),
                details("delivery").responseTime().percentile(99.0).lt(deliveryP99Ms));
    }

    /** Reads the frames buffered since the last drain and records their samples. */
    private ChainBuilder drain() {
        int buffer = bufferFrames;
        return exec(ws.processUnmatchedMessages((messages, session) -> receive(messages, session, buffer)))
            .exec(Metrics.record());
    }

    private static ChainBuilder pingWithoutCheck() {
        return exec(session -> {
                Session next = session;
                if (session.contains("pingRef") && !session.contains("pongSeen")) {
                    long sent = session.getLong("lastPingAt");
                    next = Metrics.add(next, Sample.ko("pong", sent, System.currentTimeMillis(), "no pong before the next ping"));
                }
                return PulseDsl.nextRef(next, "pingRef", "p").set("lastPingAt", System.currentTimeMillis()).remove("pongSeen");
            })
            .exec(Metrics.record())
            .exec(ws("ping").sendText("{\"type\":\"ping\",\"ref\":\"#{pingRef}\"}"));
    }

    private static Session receive(List<WsInboundMessage> messages, Session session, int bufferFrames) {
        String room = session.getString("room");
        long seen = session.getLong("seen");
        String pingRef = session.contains("pingRef") ? session.getString("pingRef") : null;
        boolean pongSeen = session.contains("pongSeen");
        List<Sample> samples = new ArrayList<>();
        for (WsInboundMessage inbound : messages) {
            if (!(inbound instanceof WsInboundMessage.Text text)) {
                continue;
            }
            long at = text.timestamp();
            JsonNode frame = PulseDsl.parse(text.message());
            String type = frame.path("type").asText();
            if ("message".equals(type) && room.equals(frame.path("room").asText())) {
                long seq = frame.path("seq").asLong();
                if (seq <= seen) {
                    samples.add(Sample.ko("delivery", at, at, "seq " + seq + " received again or out of order (after " + seen + ")"));
                    continue;
                }
                long missing = seq - seen - 1;
                for (long i = 0; i < Math.min(missing, 10_000); i++) {
                    samples.add(Sample.ko("delivery", at, at, "gap: seq " + (seen + 1) + "–" + (seq - 1)
                        + " never received (or dropped by this generator's buffer of " + bufferFrames + " frames: raise pulse.bufferFrames)"));
                }
                seen = seq;
                long sentAt = PulseDsl.sentAt(frame.path("text").asText());
                if (sentAt > 0) {
                    samples.add(Sample.ok("delivery", sentAt, at));
                }
            } else if ("pong".equals(type) && pingRef != null && pingRef.equals(frame.path("ref").asText())) {
                samples.add(Sample.ok("pong", session.getLong("lastPingAt"), at));
                pongSeen = true;
            } else if ("error".equals(type)) {
                samples.add(Sample.ko("server error", at, at, frame.path("code").asText() + ": " + frame.path("message").asText()));
            }
        }
        Session next = Metrics.add(session.set("seen", seen), samples);
        return pongSeen ? next.set("pongSeen", true) : next;
    }

    /** After the drain: every message acked in the room must have reached this receiver. */
    private static Session tailCheck(Session session) {
        AtomicLong acked = ACKED.get(session.getString("room"));
        long seen = session.getLong("seen");
        long missing = acked == null ? 0 : acked.get() - seen;
        if (missing <= 0) {
            return session;
        }
        long now = System.currentTimeMillis();
        List<Sample> samples = new ArrayList<>();
        for (long i = 0; i < Math.min(missing, 10_000); i++) {
            samples.add(Sample.ko("delivery", now, now, "acked seq " + (seen + 1) + "–" + acked.get() + " never received"));
        }
        return Metrics.add(session, samples);
    }

    @Override
    public void before() {
        System.out.println("[pulse] FanOutSimulation " + Props.describe() + " (buffer " + bufferFrames + " frames)");
        target.start();
        // receivers listen until the senders are done (they start after the ramp + settle, spread
        // over one interval, and run durationSeconds) plus the drain
        receiversDeadline = System.currentTimeMillis() + rampSeconds * 1000L + settleMillis + senderSpreadMillis
            + durationSeconds * 1000L + drainSeconds * 1000L;
    }

    @Override
    public void after() {
        target.stop();
    }
}
