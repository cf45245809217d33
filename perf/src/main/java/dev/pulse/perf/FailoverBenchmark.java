package dev.pulse.perf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pulse.protocol.client.PulseClient;
import dev.pulse.protocol.client.PulseConnection;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What a client sees when a node of a cluster dies: {@code --nodes} node JVMs on one embedded
 * PostgreSQL, {@code --clients} protocol-following chatters spread over the nodes and over
 * {@code --rooms} rooms (each sends every {@code --send-ms}, retries an unanswered send with the same
 * id, reconnects to the next node when its socket closes after a random pause of up to 2 s, and
 * rejoins every room with {@code since}), plus one silent "ghost" member per room on the node that
 * dies, which never comes back. After {@code --before} s, node {@code --kill} (0 = the oldest, home of
 * the shard coordinator) gets SIGKILL; the run goes on {@code --after} s. With {@code --mode rolling}
 * no node is killed: each node in turn gets SIGTERM (a graceful leave), is started again on the same
 * ports once it has exited, and the next one follows {@code --after} s after it is back.
 *
 * <p>One JSON line: per chatter the longest wait between two acks ({@code ackGapMs…}: median and
 * max over chatters), how long the ghosts took to be shown offline to the others
 * ({@code ghostOfflineMs…}; -1 when never), and what every chatter saw: seqs missed in its live view
 * or repeated, and, read back from history at the end, acked messages lost or stored twice.
 * Node logs stay in a temporary directory (named on stderr): they say where the time went.
 */
public final class FailoverBenchmark {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SECRET = "failover-benchmark-secret-0123456789abcdef";

    private final Map<String, String> options;
    private final List<NodeProcess> nodes = new ArrayList<>();
    private final AtomicBoolean stop = new AtomicBoolean();
    private final Map<String, Long> ghostOfflineAt = new ConcurrentHashMap<>();
    private volatile long killedAtNanos;

    private FailoverBenchmark(Map<String, String> options) {
        this.options = options;
    }

    public static void main(String[] args) throws Exception {
        try (Cleanup cleanup = new Cleanup(FailoverBenchmark::log)) {
            System.out.println(new FailoverBenchmark(Args.parse(args)).run(cleanup));
        }
        System.exit(0);
    }

    private int option(String name, int otherwise) {
        return Integer.parseInt(options.getOrDefault(name, String.valueOf(otherwise)));
    }

    private Json run(Cleanup cleanup) throws Exception {
        int nodeCount = option("nodes", 3);
        int clients = option("clients", 30);
        int rooms = option("rooms", 10);
        int kill = option("kill", 1);
        int sendMs = option("send-ms", 250);
        int before = option("before", 20);
        int after = option("after", 40);
        String runId = Long.toString(System.currentTimeMillis() % 1_000_000, 36);
        List<String> nodeOpts = options.containsKey("node-opts") ? List.of(options.get("node-opts").trim().split("\\s+")) : List.of();

        EmbeddedDb db = EmbeddedDb.start("on", "on", 50 + 20 * nodeCount);
        cleanup.add("PostgreSQL", db::close);
        Path logs = Files.createTempDirectory("pulse-failover-logs");
        log("node logs in " + logs);
        // Every node is a seed, so a restarted first node joins the others instead of forming a cluster of its own.
        List<Integer> clusterPorts = new ArrayList<>();
        for (int i = 0; i < nodeCount; i++) {
            clusterPorts.add(Bench.freePort());
        }
        String seeds = String.join(",", clusterPorts.stream().map(port -> "127.0.0.1:" + port).toList());
        for (int i = 0; i < nodeCount; i++) {
            NodeProcess node = NodeProcess.start(new NodeProcess.Spec(null, "512m", nodeOpts, Bench.freePort(), clusterPorts.get(i), seeds,
                db.url(), EmbeddedDb.USER, EmbeddedDb.PASSWORD, SECRET, null, logs.resolve("node-" + i + ".log")));
            nodes.add(node);
            int index = i;
            cleanup.add("node " + i, () -> nodes.get(index).stop()); // whichever process is node i by then
            node.awaitHealthy(Duration.ofSeconds(120), i == 0 ? 1 : 0);
        }
        for (NodeProcess node : nodes) {
            node.awaitHealthy(Duration.ofSeconds(120), nodeCount);
        }
        log(nodeCount + " nodes up");

        List<URI> bases = nodes.stream().map(NodeProcess::base).toList();
        List<Chatter> chatters = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            chatters.add(new Chatter("c" + runId + "." + c, "r" + runId + "." + (c % rooms), bases, c % nodeCount, sendMs));
        }
        List<PulseConnection> ghosts = new ArrayList<>();
        for (int r = 0; r < rooms; r++) {
            PulseConnection ghost = new PulseClient(bases.get(kill)).connectAs("g" + runId + "." + r);
            ghost.sendRaw("{\"type\":\"join\",\"ref\":\"j\",\"room\":\"r" + runId + "." + r + "\"}");
            ghosts.add(ghost);
        }
        List<Thread> threads = new ArrayList<>();
        for (Chatter chatter : chatters) {
            Thread thread = new Thread(chatter, chatter.user);
            thread.setDaemon(true);
            thread.start();
            threads.add(thread);
        }

        Thread.sleep(before * 1000L);
        boolean rolling = "rolling".equals(options.get("mode"));
        if (rolling) {
            for (int i = 0; i < nodeCount; i++) {
                log("SIGTERM node " + i + " (pid " + nodes.get(i).pid() + ")");
                nodes.set(i, nodes.get(i).restart(Duration.ofSeconds(120), nodeCount));
                log("node " + i + " is back");
                Thread.sleep(after * 1000L);
            }
        } else {
            log("SIGKILL node " + kill + " (pid " + nodes.get(kill).pid() + ")");
            killedAtNanos = System.nanoTime();
            nodes.get(kill).kill();
            Thread.sleep(after * 1000L);
        }
        stop.set(true);
        for (Thread thread : threads) {
            thread.join(30_000);
        }
        ghosts.forEach(PulseConnection::abort);

        long[] gaps = chatters.stream().mapToLong(chatter -> chatter.maxAckGapNanos).sorted().toArray();
        long[] ghostOffline = new long[rooms];
        for (int r = 0; r < rooms; r++) {
            Long at = ghostOfflineAt.get("g" + runId + "." + r);
            ghostOffline[r] = at == null ? -1 : Math.max(0, at - killedAtNanos);
        }
        Arrays.sort(ghostOffline);
        long lost = 0;
        long stored2 = 0;
        PulseConnection reader = new PulseClient(bases.get((kill + 1) % nodeCount)).connectAs("reader" + runId);
        for (int r = 0; r < rooms; r++) {
            Map<String, Integer> stored = history(reader, "r" + runId + "." + r);
            for (Chatter chatter : chatters) {
                if (chatter.room.equals("r" + runId + "." + r)) {
                    for (String id : chatter.acked) {
                        int times = stored.getOrDefault(chatter.user + "/" + id, 0);
                        lost += times == 0 ? 1 : 0;
                        stored2 += times > 1 ? 1 : 0;
                    }
                }
            }
        }
        reader.close();
        return new Json()
            .put("benchmark", "failover").put("mode", rolling ? "rolling" : "kill").put("nodes", nodeCount)
            .put("killed", rolling ? -1 : kill).put("clients", clients).put("rooms", rooms)
            .put("acked", chatters.stream().mapToLong(chatter -> chatter.acked.size()).sum())
            .put("ackGapMsMedian", Bench.ms(Bench.percentile(gaps, 0.5)))
            .put("ackGapMsMax", Bench.ms(gaps[gaps.length - 1]))
            .put("chattersOver10s", Arrays.stream(gaps).filter(gap -> gap > 10_000_000_000L).count())
            // Only a kill has silent members to watch: a rolling restart closes their sockets like anyone's.
            .put("ghostOfflineMsMedian", rolling ? null : ghostOffline[rooms / 2] < 0 ? -1 : Bench.ms(ghostOffline[rooms / 2]))
            .put("ghostOfflineMsMax", rolling ? null : ghostOffline[0] < 0 ? -1 : Bench.ms(ghostOffline[rooms - 1]))
            .put("ghostsNeverOffline", rolling ? null : Arrays.stream(ghostOffline).filter(at -> at < 0).count())
            .put("liveMissed", chatters.stream().mapToLong(chatter -> chatter.missed).sum())
            .put("liveDuplicates", chatters.stream().mapToLong(chatter -> chatter.duplicates).sum())
            .put("ackedLost", lost).put("ackedStoredTwice", stored2)
            .put("reconnects", chatters.stream().mapToLong(chatter -> chatter.reconnects).sum())
            .put("unavailable", chatters.stream().mapToLong(chatter -> chatter.unavailable).sum())
            .put("nodeOpts", String.join(" ", nodeOpts))
            .put("logs", logs.toString())
            .put("date", java.time.Instant.now().toString());
    }

    /** user/id → how often it is stored, from history pages of 200. */
    private static Map<String, Integer> history(PulseConnection reader, String room) throws Exception {
        Map<String, Integer> stored = new HashMap<>();
        Long before = null;
        int page = 0;
        while (true) {
            String ref = "h" + page++;
            reader.sendRaw("{\"type\":\"history\",\"ref\":\"" + ref + "\",\"room\":\"" + room + "\",\"limit\":200"
                + (before == null ? "" : ",\"before\":" + before) + "}");
            JsonNode answer = null;
            while (answer == null) {
                String raw = reader.pollRaw(Duration.ofSeconds(10));
                if (raw == null) {
                    throw new IllegalStateException("no history answer for " + room);
                }
                JsonNode frame = JSON.readTree(raw);
                answer = ref.equals(frame.path("ref").asText()) ? frame : null;
            }
            for (JsonNode message : answer.path("messages")) {
                stored.merge(message.path("from").asText() + "/" + message.path("id").asText(), 1, Integer::sum);
                before = before == null ? message.path("seq").asLong() : Math.min(before, message.path("seq").asLong());
            }
            if (!answer.path("hasMore").asBoolean()) {
                return stored;
            }
        }
    }

    /** A protocol-following client: send, retry the same id until acked, move node when cut off, resume with since. */
    private final class Chatter implements Runnable {
        final String user;
        final String room;
        final List<URI> nodes;
        final int sendMs;
        final int retryMs = option("retry-ms", 1500);
        final Set<String> acked = ConcurrentHashMap.newKeySet();
        int node;
        long lastSeq = -1;
        long missed;
        long duplicates;
        long reconnects;
        long unavailable;
        volatile long maxAckGapNanos;
        private final AtomicLong counter = new AtomicLong();

        Chatter(String user, String room, List<URI> nodes, int node, int sendMs) {
            this.user = user;
            this.room = room;
            this.nodes = nodes;
            this.node = node;
            this.sendMs = sendMs;
        }

        @Override
        public void run() {
            String pendingId = null;
            long lastAck = System.nanoTime();
            while (!stop.get()) {
                PulseConnection connection;
                try {
                    connection = new PulseClient(nodes.get(node)).connectAs(user);
                    if (!join(connection)) {
                        connection.abort();
                        moveOn();
                        continue;
                    }
                } catch (Exception cutOff) {
                    moveOn();
                    continue;
                }
                try {
                    while (!stop.get() && connection.isOpen()) {
                        if (pendingId == null) {
                            pendingId = "m" + counter.incrementAndGet();
                        }
                        String ref = "s" + counter.incrementAndGet();
                        connection.sendRaw("{\"type\":\"send\",\"ref\":\"" + ref + "\",\"room\":\"" + room + "\",\"id\":\""
                            + pendingId + "\",\"text\":\"failover\"}");
                        long deadline = System.nanoTime() + retryMs * 1_000_000L;
                        boolean answered = false;
                        while (!answered && System.nanoTime() < deadline && connection.isOpen()) {
                            String raw = connection.pollRaw(Duration.ofMillis(100));
                            if (raw == null) {
                                continue;
                            }
                            JsonNode frame = JSON.readTree(raw);
                            String type = frame.path("type").asText();
                            if (type.equals("message")) {
                                see(frame.path("seq").asLong());
                            } else if (type.equals("error") && frame.path("ref").isMissingNode()) {
                                connection.abort(); // the node dropped the room ("join again with since"): resume
                            } else if (type.equals("presence") && "offline".equals(frame.path("status").asText())
                                && frame.path("user").asText().startsWith("g") && killedAtNanos != 0) {
                                ghostOfflineAt.putIfAbsent(frame.path("user").asText(), System.nanoTime());
                            } else if (ref.equals(frame.path("ref").asText())) {
                                answered = true;
                                if (type.equals("ack")) {
                                    long now = System.nanoTime();
                                    if (!acked.isEmpty()) { // from the first ack on: not the cluster's start-up
                                        maxAckGapNanos = Math.max(maxAckGapNanos, now - lastAck);
                                    }
                                    lastAck = now;
                                    acked.add(pendingId);
                                    pendingId = null;
                                } else {
                                    unavailable++;
                                }
                            }
                        }
                        Thread.sleep(sendMs);
                    }
                } catch (Exception broken) {
                    // the socket went away mid-read: reconnect below
                }
                connection.abort();
                if (!stop.get()) {
                    moveOn();
                }
            }
        }

        /** Joins (resuming from lastSeq), retrying while the room is unavailable; false when the socket is gone. */
        private boolean join(PulseConnection connection) throws Exception {
            for (int attempt = 0; !stop.get() && connection.isOpen(); attempt++) {
                String ref = "j" + attempt;
                connection.sendRaw("{\"type\":\"join\",\"ref\":\"" + ref + "\",\"room\":\"" + room + "\""
                    + (lastSeq < 0 ? "" : ",\"since\":" + lastSeq) + "}");
                long deadline = System.nanoTime() + 6_000_000_000L;
                while (System.nanoTime() < deadline && connection.isOpen()) {
                    String raw = connection.pollRaw(Duration.ofMillis(100));
                    if (raw == null) {
                        continue;
                    }
                    JsonNode frame = JSON.readTree(raw);
                    if (frame.path("type").asText().equals("message")) {
                        see(frame.path("seq").asLong());
                    } else if (ref.equals(frame.path("ref").asText())) {
                        if (frame.path("type").asText().equals("joined")) {
                            if (lastSeq < 0) {
                                lastSeq = frame.path("lastSeq").asLong(); // the first join: live from here
                            }
                            return true;
                        }
                        break; // an error (the room is moving): join again
                    }
                }
                Thread.sleep(500);
            }
            return false;
        }

        private void see(long seq) {
            if (lastSeq >= 0 && seq <= lastSeq) {
                duplicates++;
                return;
            }
            if (lastSeq >= 0 && seq > lastSeq + 1) {
                missed += seq - lastSeq - 1;
            }
            lastSeq = seq;
        }

        private void moveOn() {
            reconnects++;
            node = (node + 1) % nodes.size();
            try {
                Thread.sleep(ThreadLocalRandom.current().nextInt(2000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void log(String line) {
        System.err.println("[failover] " + line);
    }

}
