package dev.pulse.node.testkit;

import dev.pulse.node.TestNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A Pulse node in a JVM of its own ({@code java -cp <the test classpath> dev.pulse.node.Main}),
 * configured like production: PULSE_* environment variables plus {@code -D} overrides. Its output
 * goes to a log file. {@link #kill()} is {@link Process#destroyForcibly()}, i.e. SIGKILL on Linux:
 * no shutdown hook, no coordinated shutdown, no flush; {@link #terminate} is SIGTERM, a graceful
 * leave. {@link #startAgain()} starts the same node (same ports, same settings) once it has exited.
 */
public final class NodeProcess implements AutoCloseable {

    /** The node's three ports, fixed for its life and for its restarts. */
    public record Ports(int http, int cluster, int management) {

        /**
         * Three free ports below the kernel's ephemeral range: a port from that range (what
         * {@link TestNode#freePort} hands out) may become the source port of an outgoing connection
         * in the seconds a node JVM takes to start (or between its runs), and the node fails to bind
         * it (CrashSafetyTest did, with a load test's connections on the machine).
         */
        public static Ports stable() {
            return new Ports(stablePort(), stablePort(), stablePort());
        }

        /** A free port below the ephemeral range, where no outgoing connection can take it meanwhile. */
        public static int stablePort() {
            int low = 32768;
            try {
                // readAllLines, not readString: procfs reports a size of 0 and readString then reads one byte
                low = Integer.parseInt(Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).get(0).trim().split("\\s+")[0]);
            } catch (IOException | RuntimeException e) {
                // not Linux: the usual lower bound
            }
            for (int attempt = 0; attempt < 100; attempt++) {
                int port = java.util.concurrent.ThreadLocalRandom.current().nextInt(Math.min(10_000, low / 2), low);
                try (java.net.ServerSocket socket = new java.net.ServerSocket()) {
                    socket.bind(new java.net.InetSocketAddress(port)); // the wildcard address: free on every address
                    return port;
                } catch (IOException taken) {
                    // another one
                }
            }
            throw new IllegalStateException("no free port below " + low);
        }
    }

    /**
     * How to launch a node.
     *
     * @param host       where its HTTP, cluster and management ports are bound (127.0.0.1, or an address
     *                   of a network namespace)
     * @param env        PULSE_* variables on top of the host and ports
     * @param properties {@code -D} system properties, e.g. {@code pulse.limits.send-burst=100000}
     * @param jvmOptions other JVM options, e.g. {@code -XX:TieredStopAtLevel=1}
     * @param launcher   words before {@code java}, e.g. {@code ip netns exec <ns>} (they must exec it, so
     *                   the process is the JVM); empty for none
     */
    public record Spec(String name, String host, Ports ports, Map<String, String> env, List<String> properties,
                       List<String> jvmOptions, List<String> launcher, Path log) {}

    private final Spec spec;
    private final Process process;
    private final long startedNanos = System.nanoTime();

    private NodeProcess(Spec spec, Process process) {
        this.spec = spec;
        this.process = process;
    }

    /** A node on 127.0.0.1 on free ports; returns at once: call {@link #awaitHealthy} before using it. */
    public static NodeProcess start(String name, Map<String, String> env, List<String> properties, Path logDir) {
        try {
            Files.deleteIfExists(logDir.resolve(name + ".log")); // a fresh node: a fresh log
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return start(new Spec(name, "127.0.0.1", Ports.stable(), env, properties, List.of(), List.of(), logDir.resolve(name + ".log")));
    }

    /** Starts the process and returns at once; its output is appended to {@code spec.log()}. */
    public static NodeProcess start(Spec spec) {
        List<String> command = new ArrayList<>(spec.launcher());
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx512m");
        // as cluster-node/bin/pulse-node launches a node (the common pool's floor of 2)
        command.add("-Djava.util.concurrent.ForkJoinPool.common.parallelism=" + Math.max(2, Runtime.getRuntime().availableProcessors() - 1));
        command.addAll(spec.jvmOptions());
        spec.properties().forEach(p -> command.add("-D" + p));
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add("dev.pulse.node.Main");
        ProcessBuilder builder = new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(spec.log().toFile()));
        // Only what we pass: nothing of the surrounding PULSE_* environment leaks in.
        builder.environment().keySet().removeIf(key -> key.startsWith("PULSE_"));
        builder.environment().put("PULSE_HTTP_HOST", spec.host());
        builder.environment().put("PULSE_HTTP_PORT", Integer.toString(spec.ports().http()));
        builder.environment().put("PULSE_CLUSTER_HOST", spec.host());
        builder.environment().put("PULSE_CLUSTER_PORT", Integer.toString(spec.ports().cluster()));
        builder.environment().put("PULSE_MANAGEMENT_PORT", Integer.toString(spec.ports().management()));
        // The cluster tests' clients sign in by name (a test may still ask for accounts).
        builder.environment().put("PULSE_AUTH", "open");
        builder.environment().putAll(spec.env());
        try {
            Files.createDirectories(spec.log().getParent());
            Files.writeString(spec.log(), "==== " + java.time.Instant.now() + " starting " + spec.name() + ": "
                + String.join(" ", spec.launcher()) + " java ... dev.pulse.node.Main\n", StandardCharsets.UTF_8,
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
            return new NodeProcess(spec, builder.start());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start node process " + spec.name(), e);
        }
    }

    /** The same node again (same ports and settings, the log continued); this one must have exited. */
    public NodeProcess startAgain() {
        if (process.isAlive()) {
            throw new IllegalStateException(spec.name() + " (pid " + process.pid() + ") is still running");
        }
        return start(spec);
    }

    public Spec spec() {
        return spec;
    }

    public String name() {
        return spec.name();
    }

    public int httpPort() {
        return spec.ports().http();
    }

    public int clusterPort() {
        return spec.ports().cluster();
    }

    /** {@code host:port} of the node's cluster (Artery) address, as PULSE_SEED_NODES names it. */
    public String clusterAddress() {
        return spec.host() + ":" + spec.ports().cluster();
    }

    public URI base() {
        return URI.create("http://" + spec.host() + ":" + spec.ports().http());
    }

    /** Pekko Management: /alive, /ready, /cluster/members, /cluster/shards/{type}. */
    public URI management() {
        return URI.create("http://" + spec.host() + ":" + spec.ports().management());
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public Path log() {
        return spec.log();
    }

    /** Polls {@code GET /health} until it answers 200; fails at once if the process dies. */
    public void awaitHealthy(Duration timeout) {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        HttpRequest health = HttpRequest.newBuilder(base().resolve("/health")).timeout(Duration.ofSeconds(2)).GET().build();
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "no answer";
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new AssertionError(name() + " exited with " + process.exitValue() + " before it was healthy; log:\n" + logTail());
            }
            try {
                HttpResponse<String> response = http.send(health, HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 200) {
                    return;
                }
                last = response.statusCode() + " " + response.body();
            } catch (IOException e) {
                last = e.toString();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted", e);
            }
            // The pause between polls; returns early if the process exits.
            waitForExit(Duration.ofMillis(100));
        }
        throw new AssertionError(name() + " not healthy within " + timeout + " (last: " + last + "); log:\n" + logTail());
    }

    /** SIGKILL, and waits until the process is gone; returns its exit code (137 = 128 + SIGKILL). */
    public int kill() {
        process.destroyForcibly();
        if (!waitForExit(Duration.ofSeconds(10))) {
            throw new AssertionError(name() + " (pid " + process.pid() + ") still alive 10 s after SIGKILL");
        }
        return process.exitValue();
    }

    /** SIGTERM (coordinated shutdown: a graceful leave), and waits up to {@code timeout} for the exit; returns its code. */
    public int terminate(Duration timeout) {
        process.destroy();
        if (!waitForExit(timeout)) {
            throw new AssertionError(name() + " (pid " + process.pid() + ") did not exit within " + timeout
                + " of SIGTERM; log:\n" + logTail());
        }
        return process.exitValue();
    }

    /** Whether the process exited within {@code timeout}. */
    public boolean waitForExit(Duration timeout) {
        try {
            return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !process.isAlive();
        }
    }

    /** The exit code; the process must have exited. */
    public int exitValue() {
        return process.exitValue();
    }

    /** How long this process has been running, in ms. */
    public long uptimeMs() {
        return (System.nanoTime() - startedNanos) / 1_000_000;
    }

    /**
     * Appends a thread dump ({@code jcmd <pid> Thread.print}) to the node's log, e.g. of a node that
     * should have exited and did not; returns the log it went to.
     */
    public Path dumpThreads() {
        try {
            Process jcmd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                Long.toString(process.pid()), "Thread.print").redirectErrorStream(true).start();
            String dump = new String(jcmd.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            jcmd.waitFor(30, TimeUnit.SECONDS);
            Files.writeString(log(), "==== thread dump taken by the test\n" + dump, StandardCharsets.UTF_8,
                java.nio.file.StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return log();
    }

    public String logTail() {
        try {
            List<String> lines = Files.readAllLines(log(), StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
        } catch (IOException | UncheckedIOException e) {
            return "(log unreadable: " + e + ")";
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
            waitForExit(Duration.ofSeconds(10));
        }
    }
}
