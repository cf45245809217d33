package dev.pulse.node.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.typesafe.config.ConfigFactory;
import dev.pulse.node.NodeSettings;
import dev.pulse.node.TestNode;
import dev.pulse.node.testkit.ChatPeer;
import dev.pulse.node.testkit.HaproxyStats;
import dev.pulse.node.testkit.Wire;
import dev.pulse.protocol.ClientFrame;
import dev.pulse.protocol.client.PulseClient;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docker-compose.yml, without a Docker engine: {@code docker-compose config} accepts it and its resolved
 * topology is three Pulse nodes bootstrapping one cluster on a health-checked PostgreSQL behind a load
 * balancer, with a grace period that covers a graceful leave. The load balancer's configuration
 * (cluster-node/haproxy/haproxy.cfg, the policy bin/pulse-cluster runs too, and compose-nodes.cfg,
 * compose's servers) is checked by HAProxy and then run for real, by a local HAProxy in front of three
 * local nodes: clients through it chat across nodes, and a node that leaves is taken out of rotation
 * by the health check on its /ready.
 */
class DockerComposeTest {

    private static final String HAPROXY_CFG = "cluster-node/haproxy/haproxy.cfg";
    private static final String COMPOSE_NODES = "cluster-node/haproxy/compose-nodes.cfg";

    @TempDir
    Path dir;

    /** {@code docker-compose config}: the file as Compose reads it, variables and anchors resolved. */
    private static JsonNode composeConfig() throws IOException {
        // the defaults, not whatever PULSE_* the machine running the test has set
        Tools.Result config = Tools.run(Tools.repository(), null, "env", "-u", "PULSE_TOKEN_SECRET", "-u", "PULSE_DB_PASSWORD",
            "-u", "PULSE_LOG_FORMAT", "docker-compose", "-f", "docker-compose.yml", "config").ok("docker-compose config");
        return new YAMLMapper().readTree(config.stdout());
    }

    private static Map<String, String> environment(JsonNode service) {
        Map<String, String> env = new HashMap<>();
        service.path("environment").fields().forEachRemaining(e -> env.put(e.getKey(), e.getValue().asText()));
        return env;
    }

    @Test
    void threeNodesBootstrapOneClusterOnAHealthCheckedPostgresBehindALoadBalancer() throws IOException {
        JsonNode services = composeConfig().path("services");
        List<String> names = new ArrayList<>();
        services.fieldNames().forEachRemaining(names::add);
        assertThat(names).containsExactlyInAnyOrder("cluster-tls", "postgres", "node1", "node2", "node3", "lb");
        assertThat(services.path("cluster-tls").path("volumes").toString())
            .contains("cluster-node/bin/pulse-cluster-tls:/pulse-cluster-tls");

        JsonNode postgres = services.path("postgres");
        assertThat(postgres.path("image").asText()).startsWith("postgres:");
        assertThat(postgres.path("healthcheck").path("test").toString()).contains("pg_isready");

        int managementPort = NodeSettings.fromEnvironment(Map.of(), ConfigFactory.empty()).config().getInt("pulse.management.port");
        Set<String> endpoints = new HashSet<>();
        Set<String> databases = new HashSet<>();
        Set<String> secrets = new HashSet<>();
        for (String name : List.of("node1", "node2", "node3")) {
            JsonNode node = services.path(name);
            assertThat(node.path("build").path("dockerfile").asText()).isEqualTo("cluster-node/Dockerfile");
            assertThat(node.path("depends_on").path("postgres").path("condition").asText()).isEqualTo("service_healthy");
            // remoting over TLS: the certificates exist before any node starts
            assertThat(node.path("depends_on").path("cluster-tls").path("condition").asText())
                .isEqualTo("service_completed_successfully");
            Map<String, String> env = environment(node);
            // remoting and management bind the name the others (and the load balancer) reach it by
            assertThat(env).containsEntry("PULSE_CLUSTER_HOST", name).containsEntry("PULSE_DISCOVERY", "config")
                .containsEntry("PULSE_CLUSTER_TLS_DIR", "/var/run/secrets/pulse-cluster-tls");
            assertThat(node.path("volumes").toString()).contains("/var/run/secrets/pulse-cluster-tls");
            assertThat(node.path("hostname").asText(name)).isEqualTo(name);
            endpoints.add(env.get("PULSE_DISCOVERY_ENDPOINTS"));
            databases.add(env.get("PULSE_DB_URL"));
            secrets.add(env.get("PULSE_TOKEN_SECRET"));
            assertThat(seconds(node.path("stop_grace_period").asText())).as(name + " stop_grace_period")
                .isGreaterThanOrEqualTo(KubernetesManifestsTest.coordinatedShutdownTimeout().toSeconds());
        }
        assertThat(endpoints).containsExactly("node1:" + managementPort + ",node2:" + managementPort + ",node3:" + managementPort);
        assertThat(databases).as("one journal for the cluster").containsExactly("jdbc:postgresql://postgres:5432/pulse");
        assertThat(secrets).as("tokens valid on every node").hasSize(1);

        JsonNode lb = services.path("lb");
        assertThat(lb.path("image").asText()).startsWith("haproxy:");
        assertThat(lb.path("volumes").toString()).contains("cluster-node/haproxy:/usr/local/etc/haproxy");
        assertThat(lb.path("command").toString()).isEqualTo(
            "[\"haproxy\",\"-f\",\"/usr/local/etc/haproxy/haproxy.cfg\",\"-f\",\"/usr/local/etc/haproxy/compose-nodes.cfg\"]");
        assertThat(lb.path("ports").toString()).contains("8080");
        List<String> behind = new ArrayList<>();
        lb.path("depends_on").fieldNames().forEachRemaining(behind::add);
        assertThat(behind).containsExactlyInAnyOrder("node1", "node2", "node3");
    }

    @Test
    void theLoadBalancerChecksEveryComposeNodesReadyOnItsManagementPort() throws IOException {
        String cfg = Files.readString(Tools.repository().resolve(HAPROXY_CFG));
        Tools.Result check = Tools.run(Tools.repository(), null, "haproxy", "-c", "-f", HAPROXY_CFG, "-f", COMPOSE_NODES);
        assertThat(check.exitCode()).as(check.stdout() + check.stderr()).isZero();

        assertThat(cfg).contains("http-check send meth GET uri /ready ", "http-check expect status 200");
        assertThat(cfg).containsPattern("timeout tunnel\\s+1h");
        String servers = Files.readString(Tools.repository().resolve(COMPOSE_NODES));
        assertThat(servers).as("compose's servers take the shared policy").contains("backend nodes from pulse-nodes");
        Matcher server = Pattern.compile("server (node\\d) \"\\$\\{PULSE_NODE\\d_HTTP-([^}]+)}\" check port \"\\$\\{PULSE_NODE\\d_MANAGEMENT_PORT-(\\d+)}\"")
            .matcher(servers);
        Map<String, String> addresses = new HashMap<>();
        while (server.find()) {
            assertThat(server.group(3)).isEqualTo("7626");
            addresses.put(server.group(1), server.group(2));
        }
        assertThat(addresses).containsOnly(Map.entry("node1", "node1:8080"), Map.entry("node2", "node2:8080"),
            Map.entry("node3", "node3:8080"));
    }

    @Test
    void clientsThroughTheLoadBalancerChatAcrossNodesAndALeavingNodeIsTakenOutOfRotation() throws Exception {
        int[] management = {TestNode.freePort(), TestNode.freePort(), TestNode.freePort()};
        String endpoints = "127.0.0.1:" + management[0] + ",127.0.0.1:" + management[1] + ",127.0.0.1:" + management[2];
        var quick = ConfigFactory.parseString(
            "pekko.management.cluster.bootstrap.contact-point-discovery { stable-margin = 1s, interval = 500ms }");
        List<TestNode> nodes = new ArrayList<>();
        Process haproxy = null;
        try {
            for (int port : management) {
                nodes.add(TestNode.startOnPostgres(dir, Map.of("PULSE_DISCOVERY", "config", "PULSE_DISCOVERY_ENDPOINTS", endpoints,
                    "PULSE_MANAGEMENT_PORT", String.valueOf(port)), quick));
            }
            for (TestNode node : nodes) {
                Cluster cluster = Cluster.get(node.node().system());
                Wire.awaitUntil("three Up members seen by " + node.node().node(), Duration.ofSeconds(60),
                    () -> cluster.state().members().size() == 3 && cluster.selfMember().status() == MemberStatus.up());
            }

            int lbPort = TestNode.freePort();
            int statsPort = TestNode.freePort();
            ProcessBuilder builder = new ProcessBuilder("haproxy", "-db", "-f", Tools.repository().resolve(HAPROXY_CFG).toString(),
                    "-f", Tools.repository().resolve(COMPOSE_NODES).toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("haproxy.log").toFile());
            builder.environment().put("PULSE_LB_BIND", "127.0.0.1:" + lbPort);
            builder.environment().put("PULSE_LB_STATS_BIND", "127.0.0.1:" + statsPort);
            for (int i = 0; i < 3; i++) {
                builder.environment().put("PULSE_NODE" + (i + 1) + "_HTTP", "127.0.0.1:" + nodes.get(i).httpPort());
                builder.environment().put("PULSE_NODE" + (i + 1) + "_MANAGEMENT_PORT", String.valueOf(management[i]));
            }
            haproxy = builder.start();
            URI stats = URI.create("http://127.0.0.1:" + statsPort + "/stats;csv");
            Process lb = haproxy;
            Wire.awaitUntil("HAProxy's checks pass on all three nodes", Duration.ofSeconds(30),
                () -> alive(lb) && HaproxyStats.servers(stats).equals(Map.of("node1", "UP", "node2", "UP", "node3", "UP")));

            PulseClient viaLb = new PulseClient(URI.create("http://127.0.0.1:" + lbPort));
            try (ChatPeer alice = ChatPeer.connect(viaLb, "alice"); ChatPeer bob = ChatPeer.connect(viaLb, "bob")) {
                // leastconn: the second socket goes to a node without one
                assertThat(alice.welcome().path("node").asText()).isNotEqualTo(bob.welcome().path("node").asText());
                alice.join("j1", "lobby");
                bob.join("j2", "lobby");
                alice.send(new ClientFrame.Send("s1", "lobby", "m-1", "hello through the load balancer"));
                assertThat(alice.expectReply("s1").path("type").asText()).isEqualTo("ack");
                assertThat(bob.expectMessage("lobby").path("text").asText()).isEqualTo("hello through the load balancer");
            }

            // Issue 12: a client trickling its headers held a node's connection for 300 s. Pekko HTTP has
            // no bound on header time; the balancer's (timeout http-request) answers 408 and closes.
            assertThat(trickledHeadersAreCut(lbPort)).isLessThan(Duration.ofSeconds(14));

            // node3 leaves gracefully (SIGTERM's coordinated shutdown): its /ready fails, HAProxy takes it out
            String leaving = nodes.get(2).node().node();
            nodes.remove(2).close();
            Wire.awaitUntil("HAProxy takes node3 out of rotation", Duration.ofSeconds(30),
                () -> HaproxyStats.servers(stats).get("node3") != null && HaproxyStats.servers(stats).get("node3").startsWith("DOWN"));
            List<ChatPeer> after = new ArrayList<>();
            try {
                for (int i = 0; i < 4; i++) {
                    after.add(ChatPeer.connect(viaLb, "carol" + i));
                }
                assertThat(after).extracting(peer -> peer.welcome().path("node").asText())
                    .doesNotContain(leaving)
                    .containsAnyElementsOf(List.of(nodes.get(0).node().node(), nodes.get(1).node().node()));
            } finally {
                after.forEach(ChatPeer::close);
            }
        } finally {
            if (haproxy != null) {
                haproxy.destroy();
                if (!haproxy.waitFor(10, TimeUnit.SECONDS)) {
                    haproxy.destroyForcibly();
                }
            }
            nodes.forEach(TestNode::close);
        }
    }

    /** Sends a request's headers a byte every 500 ms; how long until the balancer answers 408 and closes. */
    private static Duration trickledHeadersAreCut(int lbPort) throws IOException, InterruptedException {
        long start = System.nanoTime();
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", lbPort)) {
            socket.setSoTimeout(500);
            var out = socket.getOutputStream();
            out.write("GET /health HTTP/1.1\r\nHost: pulse\r\nX-Slow: ".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            StringBuilder answer = new StringBuilder();
            while (Duration.ofNanos(System.nanoTime() - start).compareTo(Duration.ofSeconds(30)) < 0) {
                try {
                    out.write('a');
                    out.flush();
                } catch (IOException closed) {
                    break; // cut while we wrote
                }
                try {
                    int read = socket.getInputStream().read();
                    if (read < 0) {
                        break;
                    }
                    answer.append((char) read).append(new String(socket.getInputStream().readNBytes(
                        socket.getInputStream().available()), java.nio.charset.StandardCharsets.US_ASCII));
                } catch (java.net.SocketTimeoutException quiet) {
                    // nothing yet: the next byte after this 500 ms pause
                } catch (IOException reset) {
                    break;
                }
            }
            assertThat(answer.toString()).as("the balancer's answer").startsWith("HTTP/1.1 408");
        }
        return Duration.ofNanos(System.nanoTime() - start);
    }

    private boolean alive(Process haproxy) {
        if (!haproxy.isAlive()) {
            String log;
            try {
                log = Files.readString(dir.resolve("haproxy.log"));
            } catch (IOException e) {
                log = e.toString();
            }
            throw new AssertionError("haproxy exited with " + haproxy.exitValue() + ":\n" + log);
        }
        return true;
    }

    /** Compose's durations as {@code docker-compose config} writes them: "90s", "1m30s". */
    static long seconds(String duration) {
        Matcher part = Pattern.compile("(\\d+)(h|m|s)").matcher(duration);
        long seconds = 0;
        int matched = 0;
        while (part.find()) {
            long value = Long.parseLong(part.group(1));
            seconds += switch (part.group(2)) {
                case "h" -> value * 3600;
                case "m" -> value * 60;
                default -> value;
            };
            matched += part.group().length();
        }
        assertThat(matched).as("a duration: " + duration).isEqualTo(duration.length()).isPositive();
        return seconds;
    }
}
