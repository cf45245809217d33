package dev.pulse.node.crash;

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
 * no shutdown hook, no coordinated shutdown, no flush.
 */
final class NodeProcess implements AutoCloseable {

    private final String name;
    private final Process process;
    private final int httpPort;
    private final Path log;

    private NodeProcess(String name, Process process, int httpPort, Path log) {
        this.name = name;
        this.process = process;
        this.httpPort = httpPort;
        this.log = log;
    }

    /**
     * Starts the process and returns at once; call {@link #awaitHealthy} before using it.
     *
     * @param env        PULSE_* variables on top of free ports on 127.0.0.1
     * @param properties {@code -D} system properties, e.g. {@code pulse.limits.send-burst=100000}
     */
    static NodeProcess start(String name, Map<String, String> env, List<String> properties, Path logDir) {
        int httpPort = TestNode.freePort();
        Path log = logDir.resolve(name + ".log");
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx512m");
        // as cluster-node/bin/pulse-node launches a node (the common pool's floor of 2)
        command.add("-Djava.util.concurrent.ForkJoinPool.common.parallelism=" + Math.max(2, Runtime.getRuntime().availableProcessors() - 1));
        properties.forEach(p -> command.add("-D" + p));
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add("dev.pulse.node.Main");
        ProcessBuilder builder = new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
        // Only what we pass: nothing of the surrounding PULSE_* environment leaks in.
        builder.environment().keySet().removeIf(key -> key.startsWith("PULSE_"));
        builder.environment().put("PULSE_HTTP_HOST", "127.0.0.1");
        builder.environment().put("PULSE_HTTP_PORT", Integer.toString(httpPort));
        builder.environment().put("PULSE_CLUSTER_HOST", "127.0.0.1");
        builder.environment().put("PULSE_CLUSTER_PORT", Integer.toString(TestNode.freePort()));
        builder.environment().put("PULSE_MANAGEMENT_PORT", Integer.toString(TestNode.freePort()));
        builder.environment().putAll(env);
        try {
            Files.createDirectories(logDir);
            return new NodeProcess(name, builder.start(), httpPort, log);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start node process " + name, e);
        }
    }

    int httpPort() {
        return httpPort;
    }

    URI base() {
        return URI.create("http://127.0.0.1:" + httpPort);
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    Path log() {
        return log;
    }

    /** Polls {@code GET /health} until it answers 200; fails at once if the process dies. */
    void awaitHealthy(Duration timeout) {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        HttpRequest health = HttpRequest.newBuilder(base().resolve("/health")).timeout(Duration.ofSeconds(2)).GET().build();
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "no answer";
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new AssertionError(name + " exited with " + process.exitValue() + " before it was healthy; log:\n" + logTail());
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
        throw new AssertionError(name + " not healthy within " + timeout + " (last: " + last + "); log:\n" + logTail());
    }

    /** SIGKILL, and waits until the process is gone; returns its exit code (137 = 128 + SIGKILL). */
    int kill() {
        process.destroyForcibly();
        if (!waitForExit(Duration.ofSeconds(10))) {
            throw new AssertionError(name + " (pid " + process.pid() + ") still alive 10 s after SIGKILL");
        }
        return process.exitValue();
    }

    private boolean waitForExit(Duration timeout) {
        try {
            return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !process.isAlive();
        }
    }

    String logTail() {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
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
