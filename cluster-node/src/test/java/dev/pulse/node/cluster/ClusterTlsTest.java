package dev.pulse.node.cluster;

import static dev.pulse.node.testkit.Wire.awaitUntil;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pulse.node.TestDatabase;
import dev.pulse.node.TestNode;
import dev.pulse.node.testkit.ChatPeer;
import dev.pulse.node.testkit.NodeProcess;
import dev.pulse.protocol.ClientFrame;
import dev.pulse.protocol.ServerFrame;
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
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cluster port over TLS with mutual authentication (issue 12: a rogue process joined a cluster
 * through its plain seed port and served its DMs). Certificates come from bin/pulse-cluster-tls:
 * nodes with the cluster's form one cluster and chat across it; a process with certificates of
 * another CA, or with none (plain TCP), knocks at the seed node and never becomes a member.
 *
 * <p>The intruders are node processes of their own, as a rogue would be: a node whose TLS handshakes
 * keep failing can hang in Artery's shutdown, which waits for its streams without a bound (Pekko
 * issue 3247, bounded only from 2.0), and an actor system that never terminates cannot be stopped
 * inside the test's JVM. Its process halts itself ({@code Main}), as in production.
 */
class ClusterTlsTest {

    private static final Duration T = Duration.ofSeconds(20);
    /** How long intruders are given to get in: longer than a join takes between real nodes. */
    private static final Duration KNOCKING = Duration.ofSeconds(8);
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

    @TempDir
    Path dir;
    private final List<TestNode> nodes = new ArrayList<>();
    private final List<NodeProcess> intruders = new ArrayList<>();

    @AfterEach
    void stop() {
        intruders.forEach(NodeProcess::close);
        nodes.forEach(TestNode::close);
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

    private TestNode start(Path data, Path tls, String seed) {
        Map<String, String> env = new HashMap<>();
        if (tls != null) {
            env.put("PULSE_CLUSTER_TLS_DIR", tls.toString());
        }
        if (seed != null) {
            env.put("PULSE_SEED_NODES", seed);
        }
        TestNode node = TestNode.startOnPostgres(data, env);
        nodes.add(node);
        return node;
    }

    /** A node process that knocks at {@code seed}, with {@code tls} certificates or none; running once it answers HTTP. */
    private NodeProcess intruder(String name, Path data, Path tls, String seed) {
        Map<String, String> env = new HashMap<>(TestDatabase.postgresEnvironment(data));
        env.put("PULSE_SEED_NODES", seed);
        env.put("PULSE_DATA_DIR", dir.resolve(name).toString());
        env.put("PULSE_TOKEN_SECRET", "intruders-secret-of-at-least-32-bytes");
        if (tls != null) {
            env.put("PULSE_CLUSTER_TLS_DIR", tls.toString());
        }
        NodeProcess process = NodeProcess.start(name, env, List.of(), dir.resolve("logs"));
        intruders.add(process);
        return process;
    }

    /** The status of {@code GET /health} (200 only for an Up member), or -1 while nothing answers. */
    private static int health(NodeProcess node) {
        try {
            return HTTP.send(HttpRequest.newBuilder(node.base().resolve("/health")).timeout(Duration.ofSeconds(2)).GET().build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static int upMembers(TestNode node) {
        int up = 0;
        for (var member : Cluster.get(node.node().system()).state().getMembers()) {
            if (member.status() == MemberStatus.up()) {
                up++;
            }
        }
        return up;
    }

    @Test
    void nodesWithTheClustersCertificatesJoinAndProcessesWithoutThemNever() throws Exception {
        Path ours = certificates(dir.resolve("ours"));
        Path theirs = certificates(dir.resolve("theirs"));
        Path data = dir.resolve("data");

        TestNode first = start(data, ours, null);
        TestNode second = start(data, ours, first.node().node());
        awaitUntil("both nodes with the cluster's certificates are up", T, () -> upMembers(first) == 2 && upMembers(second) == 2);

        // Chat across the TLS link: a room lives on one node, a member on each.
        ChatPeer alice = ChatPeer.connect(first.client(), "alice", T);
        ChatPeer bob = ChatPeer.connect(second.client(), "bob", T);
        for (int i = 0; i < 6; i++) {
            String room = "tls-room-" + i;
            alice.join("j" + i, room);
            bob.join("j" + i, room);
            alice.send(new ClientFrame.Send("s" + i, room, "m" + i, "over tls " + i));
            alice.expectReply("s" + i, ServerFrame.Ack.class);
            assertThat(bob.expectPush(ServerFrame.Message.class, m -> m.room().equals(room)).text()).isEqualTo("over tls " + i);
        }

        NodeProcess otherCa = intruder("other-ca", data, theirs, first.node().node());
        NodeProcess plain = intruder("plain", data, null, first.node().node());
        // Running (their HTTP answers, and a node starts joining its seeds before it binds HTTP): now they knock.
        awaitUntil("both intruders run", Duration.ofSeconds(60), () -> health(otherCa) != -1 && health(plain) != -1);
        long deadline = System.nanoTime() + KNOCKING.toNanos();
        while (System.nanoTime() < deadline) {
            assertThat(Cluster.get(first.node().system()).state().getMembers())
                .as("members while intruders knock").hasSize(2);
            assertThat(health(otherCa)).as("/health of a node with another CA's certificate (200: an Up member)").isNotEqualTo(200);
            assertThat(health(plain)).as("/health of a node without TLS (200: an Up member)").isNotEqualTo(200);
            Thread.sleep(250); // sampling an absence over a window: nothing to await
        }
        alice.close();
        bob.close();
    }
}
