package dev.pulse.perf;

import com.typesafe.config.ConfigFactory;
import dev.pulse.node.NodeSettings;
import dev.pulse.node.PulseNode;
import dev.pulse.protocol.ClientFrame;
import dev.pulse.protocol.ServerFrame;
import dev.pulse.protocol.client.PulseClient;
import dev.pulse.protocol.client.PulseConnection;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

/**
 * Slow consumers under a hot room: while a writer posts at a fixed rate, clients stop reading for a
 * while, are closed 1008 "slow consumer" when their bounded outbound queue fills, then resume with
 * {@code since} and stop reading again, over and over. Measures the heap after a full GC every few
 * seconds (it must stay flat: a stalled socket may hold only its bounded queue) and checks that every
 * consumer saw every seq exactly once across its reconnects. Prints one JSON line.
 *
 * <p>The node runs in this JVM, so the heap includes the clients; they do not buffer while paused
 * (java.net.http stops reading the socket), and drain everything when they read.
 *
 * <pre>java -cp … dev.pulse.perf.SlowConsumerBenchmark [--slow 20] [--rate 1000] [--seconds 90] [--pause-seconds 10] [--text-chars 1000] [--db h2|postgres]</pre>
 */
public final class SlowConsumerBenchmark {

    private static final String ROOM = "hot";
    private static final Duration T = Duration.ofSeconds(30);

    public static void main(String[] args) throws Exception {
        Map<String, String> o = Args.parse(args);
        int slow = Integer.parseInt(o.getOrDefault("slow", "20"));
        int rate = Integer.parseInt(o.getOrDefault("rate", "1000"));
        int seconds = Integer.parseInt(o.getOrDefault("seconds", "90"));
        int pauseSeconds = Integer.parseInt(o.getOrDefault("pause-seconds", "10"));
        // 1,000-character messages: a paused reader falls behind by ~1 MB/s, more than the kernel's
        // socket buffers hold within one pause, so the node's bounded queue really fills.
        String filler = "x".repeat(Integer.parseInt(o.getOrDefault("text-chars", "1000")) - 24);

        var dataDir = Files.createTempDirectory("pulse-slow-bench");
        Map<String, String> env = new java.util.HashMap<>(Map.of(
            "PULSE_HTTP_PORT", "0", "PULSE_CLUSTER_PORT", "0", "PULSE_MANAGEMENT_PORT", "0", "PULSE_DATA_DIR", dataDir.toString(),
            "PULSE_TOKEN_SECRET", "slow-consumer-benchmark-secret-0123456789"));
        // --db postgres: an embedded PostgreSQL (zonky) instead of the embedded H2 default
        String db = o.getOrDefault("db", "h2");
        io.zonky.test.db.postgres.embedded.EmbeddedPostgres postgres = null;
        if (db.equals("postgres")) {
            postgres = io.zonky.test.db.postgres.embedded.EmbeddedPostgres.builder().start();
            env.put("PULSE_DB_URL", "jdbc:postgresql://localhost:" + postgres.getPort() + "/postgres");
            env.put("PULSE_DB_USER", "postgres");
            env.put("PULSE_DB_PASSWORD", "postgres");
        }
        PulseNode node = PulseNode.start(NodeSettings.fromEnvironment(env,
            ConfigFactory.parseString("pekko.loglevel = WARNING\npulse.limits.send-burst = 100000000\npulse.limits.send-window = 1s")));
        PulseClient client = new PulseClient(URI.create("http://127.0.0.1:" + node.httpPort()));
        AtomicBoolean running = new AtomicBoolean(true);
        try {
            PulseConnection writer = client.connectAs("writer");
            writer.send(new ClientFrame.Join("j", ROOM, null));
            writer.await(ServerFrame.Joined.class, T);
            AtomicLong acked = new AtomicLong();
            // The writer is a member too (sending joins): at most 64 sends unanswered keeps it from
            // outrunning its own reading and becoming a slow consumer itself.
            java.util.concurrent.Semaphore window = new java.util.concurrent.Semaphore(64);
            Map<String, AtomicLong> errors = new java.util.concurrent.ConcurrentHashMap<>();
            Thread drain = daemon(() -> {
                while (!writer.ended()) {
                    ServerFrame frame = writer.poll(Duration.ofSeconds(1));
                    if (frame instanceof ServerFrame.Ack) {
                        acked.incrementAndGet();
                        window.release();
                    } else if (frame instanceof ServerFrame.Error e) {
                        errors.computeIfAbsent(e.code(), k -> new AtomicLong()).incrementAndGet();
                        window.release();
                    }
                }
            });
            List<Consumer> consumers = new ArrayList<>();
            for (int i = 0; i < slow; i++) {
                consumers.add(new Consumer(client, "slow-" + i, pauseSeconds, running));
            }
            List<CompletableFuture<Void>> runs = consumers.stream()
                .map(c -> CompletableFuture.runAsync(c::run, SlowConsumerBenchmark::daemon)).toList();

            AtomicLong sent = new AtomicLong();
            Thread send = daemon(() -> {
                long start = System.nanoTime();
                while (running.get()) {
                    long due = (System.nanoTime() - start) * rate / 1_000_000_000L;
                    if (sent.get() < due && window.tryAcquire()) {
                        long n = sent.incrementAndGet();
                        writer.trySend(new ClientFrame.Send("s" + n, ROOM, "m-" + n, n + " " + filler));
                    } else {
                        sleepMillis(1);
                    }
                }
            });

            List<Double> heapMb = new ArrayList<>();
            long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
            while (System.nanoTime() < end) {
                sleepMillis(5_000);
                heapMb.add(heapAfterGcMb());
                System.err.printf("[slow-consumer] sent %d, acked %d, errors %s, writer closed %s, closed 1008 %d times, heap after GC %.1f MB%n",
                    sent.get(), acked.get(), errors, writer.closed().getNow(null), consumers.stream().mapToLong(c -> c.closed1008).sum(), heapMb.get(heapMb.size() - 1));
            }
            running.set(false);
            send.join();
            CompletableFuture.allOf(runs.toArray(CompletableFuture[]::new)).get(2, java.util.concurrent.TimeUnit.MINUTES);
            PulseConnection.Closed writerClosed = writer.closed().getNow(null); // must still be open
            writer.close();
            drain.join(5_000);

            long closures = consumers.stream().mapToLong(c -> c.closed1008).sum();
            long gaps = consumers.stream().mapToLong(c -> c.gaps).sum();
            long duplicates = consumers.stream().mapToLong(c -> c.duplicates).sum();
            long failures = consumers.stream().mapToLong(c -> c.failures).sum();
            long minSeen = consumers.stream().mapToLong(c -> c.lastSeq).min().orElse(0);
            int half = heapMb.size() / 2;
            double firstHalfMax = heapMb.subList(0, half).stream().mapToDouble(d -> d).max().orElse(0);
            double secondHalfMax = heapMb.subList(half, heapMb.size()).stream().mapToDouble(d -> d).max().orElse(0);
            System.out.printf("{\"benchmark\":\"slow-consumer\",\"db\":\"%s\",\"slowConsumers\":%d,\"ratePerSec\":%d,\"seconds\":%d,"
                    + "\"pauseSeconds\":%d,\"sent\":%d,\"acked\":%d,\"errors\":\"%s\",\"writerClosed\":\"%s\",\"closed1008\":%d,\"gaps\":%d,\"duplicates\":%d,\"consumerFailures\":%d,\"minLastSeqSeen\":%d,"
                    + "\"heapAfterGcMb\":[%s],\"heapFirstHalfMaxMb\":%.1f,\"heapSecondHalfMaxMb\":%.1f,\"machine\":\"%s\"}%n",
                db, slow, rate, seconds, pauseSeconds, sent.get(), acked.get(), errors, writerClosed, closures, gaps, duplicates, failures, minSeen,
                heapMb.stream().map(d -> String.format("%.1f", d)).collect(Collectors.joining(",")),
                firstHalfMax, secondHalfMax, Machine.describe());
            if (gaps > 0 || duplicates > 0 || failures > 0 || closures == 0 || !errors.isEmpty() || writerClosed != null) {
                System.exit(1);
            }
        } finally {
            running.set(false);
            node.stop();
            if (postgres != null) {
                postgres.close();
            }
        }
    }

    /** Reads, stops reading, drains, resumes with since when it was closed; checks seq continuity. */
    private static final class Consumer {
        private final PulseClient client;
        private final String user;
        private final int pauseSeconds;
        private final AtomicBoolean running;
        long lastSeq;
        long closed1008;
        long gaps;
        long duplicates;
        long failures;

        Consumer(PulseClient client, String user, int pauseSeconds, AtomicBoolean running) {
            this.client = client;
            this.user = user;
            this.pauseSeconds = pauseSeconds;
            this.running = running;
        }

        void run() {
            String token = client.login(user).token();
            boolean first = true;
            while (running.get()) {
                try {
                    cycle(token, first);
                    first = false;
                } catch (RuntimeException | AssertionError e) {
                    failures++;
                    System.err.println("[slow-consumer] " + user + ": " + e);
                }
            }
        }

        /** One connection: join (resuming from lastSeq after the first), read and pause until closed. */
        private void cycle(String token, boolean first) {
            PulseConnection c = client.connect(token);
            c.send(new ClientFrame.Join("j", ROOM, first ? null : lastSeq));
            ServerFrame.Joined joined = c.await(ServerFrame.Joined.class, T);
            if (first) {
                lastSeq = joined.lastSeq();
            }
            while (running.get() && !c.ended()) {
                read(c, Duration.ofSeconds(1));
                c.pauseReading();
                sleepMillis(pauseSeconds * 1000L);
                c.resumeReading();
            }
            read(c, Duration.ofSeconds(5));
            if (c.closed().isDone() && c.closed().join().code() == 1008) {
                closed1008++;
            }
            c.abort();
        }

        /** Reads for {@code budget}, or until the socket has ended. */
        private void read(PulseConnection c, Duration budget) {
            long deadline = System.nanoTime() + budget.toNanos();
            ServerFrame frame;
            while (System.nanoTime() < deadline && (frame = c.poll(Duration.ofMillis(200))) != null) {
                if (frame instanceof ServerFrame.Message m && m.room().equals(ROOM)) {
                    if (m.seq() <= lastSeq) {
                        duplicates++;
                    } else {
                        if (m.seq() > lastSeq + 1) {
                            gaps++;
                        }
                        lastSeq = m.seq();
                    }
                }
            }
        }
    }

    private static double heapAfterGcMb() {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / (1024.0 * 1024.0);
    }

    private static final java.util.concurrent.ThreadFactory THREADS = Bench.daemon("slow-consumer-bench");

    private static Thread daemon(Runnable task) {
        Thread thread = THREADS.newThread(task);
        thread.start();
        return thread;
    }

    private static void sleepMillis(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
