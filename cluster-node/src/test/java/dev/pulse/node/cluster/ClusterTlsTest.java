package dev.pulse.node.cluster;

import static dev.pulse.node.testkit.Wire.awaitUntil;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pulse.node.TestDatabase;
import dev.pulse.node.testkit.ChatPeer;
import dev.pulse.node.testkit.NodeProcess;
import dev.pulse.protocol.ClientFrame;
import dev.pulse.protocol.ServerFrame;
import dev.pulse.protocol.client.PulseClient;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cluster port over TLS with mutual authentication (issue 12: a rogue process joined a cluster
 * through its plain seed port and served its DMs). Certificates come from bin/pulse-cluster-tls:
 * nodes with the cluster's form one cluster and chat across it; a process with certificates of
 * another CA, or with none (plain TCP), knocks at the seed node and never becomes a member.
 *
 * <p>Every node is a process of its own. A node that took part in failed TLS handshakes (the
 * intruders, and the seed they knock at) can hang in Artery's shutdown, which waits for its streams
 * without a bound (Pekko issue 3247, bounded only from Pekko 2.0); such an actor system cannot be
 * stopped inside the test's JVM, and a process halts itself ({@code Main}), as in production.
 */
class ClusterTlsTest {

    private static final Duration T = Duration.ofSeconds(20);
    /** How long intruders are given to get in: longer than a join takes between real nodes. */
    private static final Duration KNOCKING = Duration.ofSeconds(8);
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    private static final Pattern MEMBERS = Pattern.compile("\"members\":(\\d+)");

    @TempDir
    Path dir;
    private final List<NodeProcess> nodes = new ArrayList<>();

    @AfterEach
    void stop() {
        nodes.forEach(NodeProcess::close);
    }

    private static Path certificates(Path dir) throws IOException, InterruptedException {
        Path repository = Path.of("").toAbsolutePath();
        while (!Files.isDirectory(repository.resolve("cluster-node/bin"))) {
            repository = repository.getParent();
        }
        Process process = new ProcessBuilder("sh", repository.resolve("cluster-node/bin/pulse-cluster-tls").toString(),
            dir.toString()).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes());
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(output).isZero();
        return dir;
    }

    /** A node process with {@code tls} certificates (or none) that joins {@code seed} (or forms a cluster). */
    private NodeProcess start(String name, Path tls, String seed) {
        Map<String, String> env = new HashMap<>(TestDatabase.postgresEnvironment(dir.resolve("data")));
        env.put("PULSE_DATA_DIR", dir.resolve(name).toString());
        env.put("PULSE_TOKEN_SECRET", "tls-test-secret-of-at-least-32-bytes!");
        if (seed != null) {
            env.put("PULSE_SEED_NODES", seed);
        }
        if (tls != null) {
            env.put("PULSE_CLUSTER_TLS_DIR", tls.toString());
        }
        NodeProcess process = NodeProcess.start(name, env, List.of(), dir.resolve("logs"));
        nodes.add(process);
        return process;
    }

    /** {@code GET /health}: its status (200 only for an Up member), or -1 while nothing answers. */
    private static HttpResponse<String> health(NodeProcess node) {
        try {
            return HTTP.send(HttpRequest.newBuilder(node.base().resolve("/health")).timeout(Duration.ofSeconds(2)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static int status(NodeProcess node) {
        HttpResponse<String> response = health(node);
        return response == null ? -1 : response.statusCode();
    }

    /** The members an Up node counts, or -1 when it is not an Up member. */
    private static int upMembers(NodeProcess node) {
        HttpResponse<String> response = health(node);
        if (response == null || response.statusCode() != 200) {
            return -1;
        }
        Matcher members = MEMBERS.matcher(response.body());
        return members.find() ? Integer.parseInt(members.group(1)) : -1;
    }

    @Test
    void nodesWithTheClustersCertificatesJoinAndProcessesWithoutThemNever() throws Exception {
        Path ours = certificates(dir.resolve("ours"));
        Path theirs = certificates(dir.resolve("theirs"));

        NodeProcess first = start("first", ours, null);
        first.awaitHealthy(Duration.ofSeconds(60));
        NodeProcess second = start("second", ours, first.clusterAddress());
        awaitUntil("both nodes with the cluster's certificates are up", Duration.ofSeconds(60),
            () -> upMembers(first) == 2 && upMembers(second) == 2);

        // Chat across the TLS link: a room lives on one node, a member on each.
        ChatPeer alice = ChatPeer.connect(new PulseClient(first.base()), "alice", T);
        ChatPeer bob = ChatPeer.connect(new PulseClient(second.base()), "bob", T);
        for (int i = 0; i < 6; i++) {
            String room = "tls-room-" + i;
            alice.join("j" + i, room);
            bob.join("j" + i, room);
            alice.send(new ClientFrame.Send("s" + i, room, "m" + i, "over tls " + i));
            alice.expectReply("s" + i, ServerFrame.Ack.class);
            assertThat(bob.expectPush(ServerFrame.Message.class, m -> m.room().equals(room)).text()).isEqualTo("over tls " + i);
        }

        NodeProcess otherCa = start("other-ca", theirs, first.clusterAddress());
        NodeProcess plain = start("plain", null, first.clusterAddress());
        // Running (their HTTP answers, and a node starts joining its seeds before it binds HTTP): now they knock.
        awaitUntil("both intruders run", Duration.ofSeconds(60), () -> status(otherCa) != -1 && status(plain) != -1);
        long deadline = System.nanoTime() + KNOCKING.toNanos();
        while (System.nanoTime() < deadline) {
            assertThat(upMembers(first)).as("members the seed counts while intruders knock").isEqualTo(2);
            assertThat(status(otherCa)).as("/health of a node with another CA's certificate (200: an Up member)").isNotEqualTo(200);
            assertThat(status(plain)).as("/health of a node without TLS (200: an Up member)").isNotEqualTo(200);
            Thread.sleep(250); // sampling an absence over a window: nothing to await
        }
        alice.close();
        bob.close();
    }
}
