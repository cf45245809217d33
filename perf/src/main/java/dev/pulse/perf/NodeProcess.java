package dev.pulse.perf;

import dev.pulse.protocol.client.PulseClient;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Pulse node in its own JVM, started by the README's launcher {@code cluster-node/bin/pulse-node}
 * (so with the JVM settings every user gets) on this classpath ({@code PULSE_CLASSPATH}), with
 * {@code -Xmx…} and the benchmark's options in {@code PULSE_JAVA_OPTS}, configured through PULSE_*
 * variables on free ports, its output in a log file. The per-user send
 * rate limit is lifted ({@code pulse.limits.send-burst=100000000}, {@code send-window=1s}): the
 * benchmarks measure the node, not the limiter.
 */
final class NodeProcess {

    static final List<String> LIFT_RATE_LIMIT = List.of("-Dpulse.limits.send-burst=100000000", "-Dpulse.limits.send-window=1s");

    /**
     * How to launch one node.
     *
     * @param seedNodes {@code PULSE_SEED_NODES} ({@code host:port,…}), or null for a cluster of one
     * @param dbUrl PostgreSQL JDBC URL, or null for the embedded H2 database in a temporary data directory
     * @param poolSize {@code PULSE_DB_POOL_SIZE}, or null for the node's default
     * @param javaHome the JDK to run the node on (e.g. {@code /usr/lib/jvm/temurin-25-jdk-amd64}), or null
     *     for the benchmark's own
     */
    record Spec(String javaHome, String heap, List<String> jvmOptions, int httpPort, int clusterPort, String seedNodes,
                String dbUrl, String dbUser, String dbPassword, String tokenSecret, String poolSize, Path log) {}

    /** Heap used and committed after a full GC, and the resident set size then, in KiB. */
    record Memory(long heapUsedKb, long heapCommittedKb, long rssKb) {}

    private final Process process;
    private final Spec spec;
    private final Path dataDir;
    private final int managementPort;

    private NodeProcess(Process process, Spec spec, Path dataDir, int managementPort) {
        this.process = process;
        this.spec = spec;
        this.dataDir = dataDir;
        this.managementPort = managementPort;
    }

    static NodeProcess start(Spec spec) throws IOException {
        return start(spec, Map.of());
    }

    /** {@code env}: more of the node's environment (e.g. {@code PULSE_MIN_MEMBERS}), set last. */
    static NodeProcess start(Spec spec, Map<String, String> extraEnv) throws IOException {
        List<String> javaOptions = new ArrayList<>(List.of("-Xmx" + spec.heap()));
        javaOptions.addAll(LIFT_RATE_LIMIT);
        javaOptions.addAll(spec.jvmOptions());
        ProcessBuilder builder = new ProcessBuilder("sh", launcher().toString()); // it execs java: same pid
        Map<String, String> env = builder.environment();
        env.put("JAVA_HOME", spec.javaHome() != null ? spec.javaHome() : System.getProperty("java.home"));
        env.put("PULSE_CLASSPATH", System.getProperty("java.class.path"));
        env.put("PULSE_JAVA_OPTS", String.join(" ", javaOptions));
        env.put("PULSE_HTTP_HOST", "127.0.0.1");
        env.put("PULSE_HTTP_PORT", Integer.toString(spec.httpPort()));
        env.put("PULSE_CLUSTER_HOST", "127.0.0.1");
        env.put("PULSE_CLUSTER_PORT", Integer.toString(spec.clusterPort()));
        int managementPort = Bench.freePort();
        env.put("PULSE_MANAGEMENT_PORT", Integer.toString(managementPort));
        env.remove("PULSE_SEED_NODES");
        if (spec.seedNodes() != null) {
            env.put("PULSE_SEED_NODES", spec.seedNodes());
        }
        Path dataDir = Files.createTempDirectory("pulse-bench-node"); // H2 lives here; never ./data
        env.put("PULSE_DATA_DIR", dataDir.toString());
        env.remove("PULSE_DB_URL");
        if (spec.dbUrl() != null) {
            env.put("PULSE_DB_URL", spec.dbUrl());
            env.put("PULSE_DB_USER", spec.dbUser());
            env.put("PULSE_DB_PASSWORD", spec.dbPassword());
        }
        env.put("PULSE_TOKEN_SECRET", spec.tokenSecret());
        // On purpose: load agents sign in thousands of users by name (no Argon2id per login).
        env.put("PULSE_AUTH", "open");
        if (spec.poolSize() != null) {
            env.put("PULSE_DB_POOL_SIZE", spec.poolSize());
        }
        env.putAll(extraEnv);
        builder.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(spec.log().toFile()));
        return new NodeProcess(builder.start(), spec, dataDir, managementPort);
    }

    /**
     * The collector and object layout the node runs with, as the launcher chose them (e.g.
     * {@code "UseShenandoahGC UseCompactObjectHeaders"}), from {@code jcmd VM.flags}.
     */
    String jvmChoices() {
        try {
            String flags = jcmd("VM.flags");
            List<String> chosen = new ArrayList<>();
            Matcher m = Pattern.compile("-XX:\\+(Use\\w*GC|UseCompactObjectHeaders)\\b").matcher(flags);
            while (m.find()) {
                chosen.add(m.group(1));
            }
            return String.join(" ", chosen);
        } catch (IOException | InterruptedException e) {
            return "unknown (" + e + ")";
        }
    }

    /** {@code cluster-node/bin/pulse-node} of this checkout: the benchmarks run from its top level or below. */
    static Path launcher() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path launcher = dir.resolve("cluster-node/bin/pulse-node");
            if (Files.isRegularFile(launcher)) {
                return launcher;
            }
        }
        throw new IllegalStateException("cluster-node/bin/pulse-node not found above " + Path.of("").toAbsolutePath()
            + "; run the benchmarks from the repository");
    }

    /** {@code $JAVA_HOME/bin/<tool>} of this JVM (java, jcmd, …). */
    static String javaCommand(String tool) {
        return tool(null, tool);
    }

    /** {@code <javaHome>/bin/<tool>}; this JVM's when {@code javaHome} is null. */
    private static String tool(String javaHome, String tool) {
        return Path.of(javaHome == null ? System.getProperty("java.home") : javaHome, "bin", tool).toString();
    }

    long pid() {
        return process.pid();
    }

    URI base() {
        return URI.create("http://127.0.0.1:" + spec.httpPort());
    }

    Path log() {
        return spec.log();
    }

    int clusterPort() {
        return spec.clusterPort();
    }

    /** Waits for {@code GET /health} 200 (an Up member) in a cluster that has {@code members} members. */
    void awaitHealthy(Duration timeout, int members) throws Exception {
        PulseClient probe = new PulseClient(base());
        Pattern count = Pattern.compile("\"members\":(\\d+)");
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("the node exited with " + process.exitValue() + ":\n" + tail());
            }
            try {
                HttpResponse<String> health = probe.get("/health");
                Matcher m = count.matcher(health.body());
                if (health.statusCode() == 200 && m.find() && Integer.parseInt(m.group(1)) >= members) {
                    return;
                }
            } catch (RuntimeException notYet) {
                // not listening yet
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("the node was not healthy within " + timeout + ":\n" + tail());
    }

    /** Waits for the management port's {@code /ready} 200: an Up member whose journal and shards are warm. */
    void awaitReady(Duration timeout) throws Exception {
        PulseClient management = new PulseClient(URI.create("http://127.0.0.1:" + managementPort));
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("the node exited with " + process.exitValue() + ":\n" + tail());
            }
            try {
                if (management.get("/ready").statusCode() == 200) {
                    return;
                }
            } catch (RuntimeException notYet) {
                // not listening yet
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("the node was not ready within " + timeout + ":\n" + tail());
    }

    /** Full GC ({@code jcmd GC.run}), then heap used and committed ({@code GC.heap_info}) and RSS. */
    Memory memoryAfterGc() throws IOException, InterruptedException {
        jcmd("GC.run");
        String info = jcmd("GC.heap_info");
        long rssKb = Math.round(ProcStats.rssMb(pid()) * 1024);
        // G1 on JDK 21+: "garbage-first heap   total reserved 2097152K, committed 87040K, used 30319K"
        Matcher m = Pattern.compile("total reserved \\d+K, committed (\\d+)K, used (\\d+)K").matcher(info);
        if (m.find()) {
            return new Memory(Long.parseLong(m.group(2)), Long.parseLong(m.group(1)), rssKb);
        }
        // G1 on JDK 17: "total 123K, used 45K" once; Parallel and Serial: once per generation (summed)
        m = Pattern.compile("total (\\d+)K, used (\\d+)K").matcher(info);
        long total = 0;
        long used = 0;
        boolean found = false;
        while (m.find()) {
            found = true;
            total += Long.parseLong(m.group(1));
            used += Long.parseLong(m.group(2));
        }
        if (found) {
            return new Memory(used, total, rssKb);
        }
        // Shenandoah: "23552K committed, 23489K used"; ZGC: "used 20M, capacity 38M"
        m = Pattern.compile("(\\d+)([KMG]) committed, (\\d+)([KMG]) used").matcher(info);
        if (m.find()) {
            return new Memory(kb(m.group(3), m.group(4)), kb(m.group(1), m.group(2)), rssKb);
        }
        m = Pattern.compile("used (\\d+)([KMG]), capacity (\\d+)([KMG])").matcher(info);
        if (m.find()) {
            return new Memory(kb(m.group(1), m.group(2)), kb(m.group(3), m.group(4)), rssKb);
        }
        throw new IllegalStateException("unexpected GC.heap_info output: " + info);
    }

    private static long kb(String amount, String unit) {
        long n = Long.parseLong(amount);
        return switch (unit) {
            case "G" -> n * 1024 * 1024;
            case "M" -> n * 1024;
            default -> n;
        };
    }

    /** {@code jcmd GC.class_histogram}: live objects by class, largest first (it runs a full GC). */
    String classHistogram() throws IOException, InterruptedException {
        return jcmd("GC.class_histogram");
    }

    private String jcmd(String command) throws IOException, InterruptedException {
        Process jcmd = new ProcessBuilder(tool(spec.javaHome(), "jcmd"), Long.toString(pid()), command).redirectErrorStream(true).start();
        String out = new String(jcmd.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!jcmd.waitFor(120, TimeUnit.SECONDS) || jcmd.exitValue() != 0) {
            throw new IllegalStateException("jcmd " + command + " failed: " + out);
        }
        return out;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    String tail() throws IOException {
        List<String> lines = Files.readAllLines(spec.log());
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    }

    /**
     * SIGTERM (a graceful leave: the node hands its shards off and exits), then the same node again on
     * the same ports, healthy in a cluster of {@code members}.
     */
    NodeProcess restart(Duration timeout, int members) throws Exception {
        process.destroy();
        if (!process.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
            throw new IllegalStateException("the node did not exit within " + timeout + " of SIGTERM:\n" + tail());
        }
        NodeProcess again = start(spec);
        again.awaitHealthy(timeout, members);
        return again;
    }

    /** SIGKILL: no shutdown hook, no leaving the cluster; waits until the process is gone. */
    void kill() throws InterruptedException {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }

    void stop() throws InterruptedException, IOException {
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
        try (var files = Files.walk(dataDir)) {
            for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(file);
            }
        }
    }
}
