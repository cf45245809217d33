package dev.pulse.node.metrics;

import dev.pulse.protocol.ClientFrame;
import dev.pulse.protocol.ErrorCode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the sessions of a node record: frames in and out by type, sends acked and rejected, ack and
 * fan-out latency, slow-consumer closes, and how many sessions and users the node holds. Every
 * counter is registered up front; the hot path only looks one up by class or type and increments it.
 * Thread-safe: every session records into the same instance.
 */
public final class ClientMetrics {

    private final Map<Class<?>, Counter> framesIn = new HashMap<>();
    private final Counter invalidFramesIn;
    private final Map<String, Counter> framesOut = new ConcurrentHashMap<>();
    private final Counter acked;
    private final EnumMap<ErrorCode, Counter> rejected = new EnumMap<>(ErrorCode.class);
    private final Timer ackLatency;
    private final Timer fanOutLatency;
    private final Counter slowConsumerCloses;
    private final AtomicInteger sessions = new AtomicInteger();
    private final AtomicInteger users = new AtomicInteger();
    private final MeterRegistry registry;

    public ClientMetrics(MeterRegistry registry) {
        this.registry = registry;
        FrameTypes.clientTypes().forEach((type, name) -> framesIn.put(type, frameIn(name)));
        invalidFramesIn = frameIn("invalid");
        FrameTypes.serverTypes().forEach(this::frameOutCounter);
        acked = Counter.builder("pulse.sends.acked").description("sends committed and acked").register(registry);
        for (ErrorCode code : ErrorCode.values()) {
            rejected.put(code, Counter.builder("pulse.sends.rejected").tag("code", code.wire())
                .description("sends answered with an error, by error code").register(registry));
        }
        ackLatency = Timer.builder("pulse.ack.latency").serviceLevelObjectives(Buckets.LATENCY)
            .description("from a send read off the socket to its ack queued for the client").register(registry);
        fanOutLatency = Timer.builder("pulse.fanout.latency").serviceLevelObjectives(Buckets.LATENCY)
            .description("from a message's server timestamp to its frame queued on a recipient's socket").register(registry);
        slowConsumerCloses = Counter.builder("pulse.slow.consumer.closes")
            .description("sockets closed because the client did not read fast enough").register(registry);
        Gauge.builder("pulse.sessions", sessions, AtomicInteger::get).description("sessions on this node").register(registry);
        Gauge.builder("pulse.session.users", users, AtomicInteger::get)
            .description("distinct users with a session on this node").register(registry);
    }

    private Counter frameIn(String type) {
        return Counter.builder("pulse.frames.in").tag("type", type).description("frames read from clients, by type")
            .register(registry);
    }

    private Counter frameOutCounter(String type) {
        return framesOut.computeIfAbsent(type, t -> Counter.builder("pulse.frames.out").tag("type", t)
            .description("frames queued for clients, by type").register(registry));
    }

    public void frameIn(ClientFrame frame) {
        framesIn.get(frame.getClass()).increment();
    }

    /** A frame that could not be decoded (malformed, too large, binary). */
    public void invalidFrameIn() {
        invalidFramesIn.increment();
    }

    /** A frame queued on a socket; {@code type} is its wire type. */
    public void frameOut(String type) {
        Counter counter = framesOut.get(type);
        (counter != null ? counter : frameOutCounter(type)).increment();
    }

    /** A send acked; {@code sentNanos} is when it was read ({@link System#nanoTime()}). */
    public void acked(long sentNanos) {
        acked.increment();
        ackLatency.record(System.nanoTime() - sentNanos, TimeUnit.NANOSECONDS);
    }

    public void rejected(ErrorCode code) {
        rejected.get(code).increment();
    }

    /**
     * A live message queued on a recipient's socket; {@code ts} is its server timestamp (epoch ms,
     * from the clock of the node that hosts the room).
     */
    public void delivered(long ts) {
        fanOutLatency.record(Math.max(0, System.currentTimeMillis() - ts), TimeUnit.MILLISECONDS);
    }

    public void slowConsumerClosed() {
        slowConsumerCloses.increment();
    }

    /** The node's session directory changed. */
    public void sessions(int sessionCount, int userCount) {
        sessions.set(sessionCount);
        users.set(userCount);
    }
}
