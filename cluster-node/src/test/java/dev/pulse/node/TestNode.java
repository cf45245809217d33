package dev.pulse.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.pulse.node.testkit.NodeProcess;
import dev.pulse.node.testkit.PrometheusText;
import dev.pulse.protocol.client.PulseClient;
import java.net.URI;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * A real Pulse node for tests: real sockets on free ports, a real database ({@link TestDatabase}:
 * H2 in {@code dataDir}, or PostgreSQL).
 * Start another one on the same {@code dataDir} after {@link #close()} to test a restart.
 */
public final class TestNode implements AutoCloseable {

    private final PulseNode node;
    private final PulseClient client;
    private final int managementPort;

    private TestNode(PulseNode node, int managementPort) {
        this.node = node;
        this.managementPort = managementPort;
        this.client = new PulseClient(URI.create("http://127.0.0.1:" + node.httpPort()));
    }

    /** A node with default settings on free ports. */
    public static TestNode start(Path dataDir) {
        return start(dataDir, Map.of());
    }

    /**
     * @param env PULSE_* variables on top of the test defaults (free ports, {@code dataDir}, a fixed
     *            token secret); e.g. {@code PULSE_HEARTBEAT_MS}
     */
    public static TestNode start(Path dataDir, Map<String, String> env) {
        return start(dataDir, env, ConfigFactory.empty());
    }

    /**
     * A node on PostgreSQL whatever the test run's database: what nodes of one cluster need, as a
     * node on the embedded database refuses to be one of several. Nodes on the same {@code dataDir}
     * share a database.
     */
    public static TestNode startOnPostgres(Path dataDir, Map<String, String> env) {
        return startOnPostgres(dataDir, env, ConfigFactory.empty());
    }

    public static TestNode startOnPostgres(Path dataDir, Map<String, String> env, Config overrides) {
        return start(dataDir, TestDatabase.postgresEnvironment(dataDir), env, overrides);
    }

    /** A node on the embedded database whatever the test run's database. */
    public static TestNode startEmbedded(Path dataDir, Map<String, String> env) {
        return start(dataDir, Map.of(), env, ConfigFactory.empty());
    }

    public static TestNode start(Path dataDir, Map<String, String> env, Config overrides) {
        return start(dataDir, TestDatabase.environment(dataDir), env, overrides);
    }

    private static TestNode start(Path dataDir, Map<String, String> database, Map<String, String> env, Config overrides) {
        Map<String, String> all = new HashMap<>();
        all.put("PULSE_HTTP_HOST", "127.0.0.1");
        all.put("PULSE_HTTP_PORT", "0");
        all.put("PULSE_CLUSTER_HOST", "127.0.0.1");
        all.put("PULSE_CLUSTER_PORT", "0");
        all.put("PULSE_MANAGEMENT_PORT", String.valueOf(freePort()));
        all.put("PULSE_DATA_DIR", dataDir.toString());
        all.put("PULSE_TOKEN_SECRET", "test-secret-of-at-least-32-bytes!!");
        // The protocol's tests sign in by name; the accounts' own tests (AccountsE2ETest) and the UI's
        // set PULSE_AUTH=accounts, the default of a real node.
        all.put("PULSE_AUTH", "open");
        all.putAll(database);
        all.putAll(env);
        Config quiet = ConfigFactory.parseString(
            "pekko.loglevel = WARNING\npekko.cluster.jmx.multi-mbeans-in-same-jvm = on");
        return new TestNode(PulseNode.start(NodeSettings.fromEnvironment(all, overrides.withFallback(quiet))),
            Integer.parseInt(all.get("PULSE_MANAGEMENT_PORT")));
    }

    /** Pekko Management's port: /alive, /ready, cluster bootstrap. */
    public int managementPort() {
        return managementPort;
    }

    /** A scrape of the node's {@code /metrics} on its management port, as Prometheus does it. */
    public PrometheusText metrics() {
        var response = new PulseClient(URI.create("http://127.0.0.1:" + managementPort)).get("/metrics");
        if (response.statusCode() != 200) {
            throw new AssertionError("GET /metrics answered " + response.statusCode() + ": " + response.body());
        }
        return PrometheusText.parse(response.body());
    }

    /**
     * A free port for settings that must be known before the node starts. Below the ephemeral range:
     * a port the kernel hands out for outgoing connections could be taken by one of the tests' own
     * client sockets between this call and the node's bind (it happened in CI).
     */
    public static int freePort() {
        return NodeProcess.Ports.stablePort();
    }

    public PulseClient client() {
        return client;
    }

    public PulseNode node() {
        return node;
    }

    public int httpPort() {
        return node.httpPort();
    }

    @Override
    public void close() {
        try {
            node.stop();
        } catch (IllegalStateException stuck) {
            // Once in CI a node's actor system did not terminate in 60 s: say what every thread was doing.
            StringBuilder dump = new StringBuilder("[test-node] " + node.node() + " did not stop; threads:\n");
            Thread.getAllStackTraces().forEach((thread, stack) -> {
                dump.append('"').append(thread.getName()).append("\" ").append(thread.getState()).append('\n');
                for (StackTraceElement frame : stack) {
                    dump.append("    at ").append(frame).append('\n');
                }
            });
            System.out.println(dump);
            throw stuck;
        }
    }
}
