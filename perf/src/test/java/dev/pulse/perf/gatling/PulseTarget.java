package dev.pulse.perf.gatling;

import com.typesafe.config.ConfigFactory;
import dev.pulse.node.NodeSettings;
import dev.pulse.node.PulseNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The Pulse nodes a simulation drives.
 *
 * <ul>
 *   <li>{@code pulse.urls} set (comma-separated {@code http://host:port} base URLs): those nodes;
 *       virtual user <i>n</i> uses URL <i>n</i> mod count (round robin). Their limits are theirs:
 *       a scenario that sends more than 20 messages per 10 s per user needs nodes started with a
 *       higher {@code pulse.limits.send-burst}.</li>
 *   <li>{@code pulse.urls} absent: {@link #start()} (called from the simulation's {@code before()})
 *       starts one node in this JVM on free ports with an embedded H2 database in a temporary
 *       directory, and {@link #stop()} (from {@code after()}) stops it and deletes the directory.</li>
 * </ul>
 *
 * Either way {@link #start()} waits until every node answers {@code GET /health} with 200.
 */
final class PulseTarget {

    /** The fixed token secret of the in-process node (it is a test node on 127.0.0.1). */
    static final String EMBEDDED_TOKEN_SECRET = "gatling-simulation-secret-0123456789";
    private static final Duration HEALTH_TIMEOUT = Duration.ofSeconds(60);

    private final List<String> configuredUrls;
    private final Map<String, String> embeddedConfig = new LinkedHashMap<>();
    private volatile List<String> baseUrls = List.of();
    private long expectedSockets;
    private PulseNode node;
    private Path dataDir;

    private PulseTarget(List<String> configuredUrls) {
        this.configuredUrls = configuredUrls;
    }

    /** Reads {@code pulse.urls}. */
    static PulseTarget fromProperties() {
        List<String> urls = new ArrayList<>();
        for (String url : Props.string("pulse.urls", "").split(",")) {
            String trimmed = url.trim();
            if (!trimmed.isEmpty()) {
                urls.add(trimmed.endsWith("/") ? trimmed.substring(0, trimmed.length() - 1) : trimmed);
            }
        }
        return new PulseTarget(List.copyOf(urls));
    }

    boolean embedded() {
        return configuredUrls.isEmpty();
    }

    /**
     * Configuration of the in-process node (ignored with {@code pulse.urls}), e.g.
     * {@code pulse.limits.send-burst} for a scenario that sends faster than the default limit.
     */
    PulseTarget embeddedConfig(String path, Object value) {
        embeddedConfig.put(path, String.valueOf(value));
        return this;
    }

    /** How many WebSockets the simulation holds open at its peak (for the file-descriptor warning). */
    PulseTarget expectSockets(long sockets) {
        this.expectedSockets = sockets;
        return this;
    }

    /** Starts the in-process node if there is no {@code pulse.urls}; waits until every node is healthy. */
    synchronized void start() {
        warnAboutFileDescriptors();
        if (embedded()) {
            try {
                dataDir = Files.createTempDirectory("pulse-gatling");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Map<String, String> env = new HashMap<>();
            env.put("PULSE_HTTP_HOST", "127.0.0.1");
            env.put("PULSE_HTTP_PORT", "0");
            env.put("PULSE_CLUSTER_HOST", "127.0.0.1");
            env.put("PULSE_CLUSTER_PORT", "0");
            env.put("PULSE_MANAGEMENT_PORT", "0");
            env.put("PULSE_DATA_DIR", dataDir.toString());
            env.put("PULSE_TOKEN_SECRET", EMBEDDED_TOKEN_SECRET);
            // On purpose: virtual users sign in by name (no accounts, no Argon2id per login).
            env.put("PULSE_AUTH", "open");
            Map<String, Object> overrides = new HashMap<>(embeddedConfig);
            overrides.put("pekko.loglevel", "WARNING");
            node = PulseNode.start(NodeSettings.fromEnvironment(env, ConfigFactory.parseMap(overrides)));
            baseUrls = List.of("http://127.0.0.1:" + node.httpPort());
            System.out.println("[pulse] started an in-process node at " + baseUrls.get(0) + " (H2 in " + dataDir
                + (embeddedConfig.isEmpty() ? "" : ", " + embeddedConfig) + ")");
        } else {
            baseUrls = configuredUrls;
            System.out.println("[pulse] driving " + baseUrls);
        }
        awaitHealthy();
    }

    /** Stops the in-process node (a no-op with {@code pulse.urls}). */
    synchronized void stop() {
        if (node != null) {
            node.stop();
            node = null;
        }
        if (dataDir != null) {
            try (Stream<Path> paths = Files.walk(dataDir)) {
                paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
            } catch (IOException e) {
                System.err.println("[pulse] could not delete " + dataDir + ": " + e);
            }
            dataDir = null;
        }
    }

    /**
     * Every WebSocket is a file descriptor in the Gatling JVM and, with the in-process node, one more
     * in the same JVM: warn when the peak would not fit in this process's limit.
     */
    private void warnAboutFileDescriptors() {
        if (!(java.lang.management.ManagementFactory.getOperatingSystemMXBean()
            instanceof com.sun.management.UnixOperatingSystemMXBean os)) {
            return;
        }
        long needed = expectedSockets * (embedded() ? 2 : 1) + 1_000;
        if (needed > os.getMaxFileDescriptorCount()) {
            System.out.println("[pulse] WARNING: about " + needed + " file descriptors needed at the peak, the limit of this process is "
                + os.getMaxFileDescriptorCount() + (embedded()
                    ? ": start the node(s) in their own JVM and pass pulse.urls (see GATLING.md)"
                    : ": raise it (ulimit -n) or run the load from several machines"));
        }
    }

    List<String> baseUrls() {
        if (baseUrls.isEmpty()) {
            throw new IllegalStateException("the target is not started: call start() from before()");
        }
        return baseUrls;
    }

    /** Base URL of virtual user {@code index} (round robin). */
    String baseUrl(long index) {
        List<String> urls = baseUrls();
        return urls.get((int) Math.floorMod(index, (long) urls.size()));
    }

    static String wsUrl(String baseUrl) {
        if (baseUrl.startsWith("https://")) {
            return "wss://" + baseUrl.substring("https://".length());
        }
        if (baseUrl.startsWith("http://")) {
            return "ws://" + baseUrl.substring("http://".length());
        }
        throw new IllegalArgumentException("pulse.urls entries must start with http:// or https://, got " + baseUrl);
    }

    /** Waits (bounded) for {@code GET /health} = 200 on every node: the node is an Up cluster member. */
    private void awaitHealthy() {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + HEALTH_TIMEOUT.toNanos();
        for (String url : baseUrls) {
            HttpRequest health = HttpRequest.newBuilder(URI.create(url + "/health")).timeout(Duration.ofSeconds(2)).build();
            String last = "no answer";
            while (true) {
                try {
                    HttpResponse<String> response = client.send(health, HttpResponse.BodyHandlers.ofString());
                    if (response.statusCode() == 200) {
                        break;
                    }
                    last = response.statusCode() + " " + response.body();
                } catch (IOException e) {
                    last = e.toString();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while waiting for " + url, e);
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(url + "/health did not answer 200 within " + HEALTH_TIMEOUT.toSeconds()
                        + " s; last: " + last);
                }
                try {
                    Thread.sleep(100); // poll interval of a bounded wait for a condition
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while waiting for " + url, e);
                }
            }
        }
    }
}
