package dev.pulse.node.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import dev.pulse.node.TestNode;
import dev.pulse.node.testkit.Wire;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Without seeds, nodes given a discovery method find each other through Pekko Management's cluster
 * bootstrap (here "config" discovery, as locally; "kubernetes-api" in a deployment) and form one
 * cluster.
 */
class ClusterBootstrapTest {

    @TempDir
    Path data;

    @Test
    void twoNodesWithConfigDiscoveryFormOneCluster() {
        int first = TestNode.freePort();
        int second = TestNode.freePort();
        Map<String, String> discovery = Map.of("PULSE_DISCOVERY", "config",
            "PULSE_DISCOVERY_ENDPOINTS", "127.0.0.1:" + first + ",127.0.0.1:" + second);
        var quick = ConfigFactory.parseString("pekko.management.cluster.bootstrap.contact-point-discovery {"
            + " stable-margin = 1s, interval = 500ms }");
        try (TestNode a = TestNode.startOnPostgres(data, with(discovery, first), quick);
             TestNode b = TestNode.startOnPostgres(data, with(discovery, second), quick)) {
            for (TestNode node : new TestNode[] {a, b}) {
                Cluster cluster = Cluster.get(node.node().system());
                Wire.awaitUntil("two Up members seen by " + node.node().node(), Duration.ofSeconds(30),
                    () -> cluster.state().members().size() == 2
                        && cluster.selfMember().status() == MemberStatus.up());
            }
            assertThat(Cluster.get(a.node().system()).state().getLeader())
                .isEqualTo(Cluster.get(b.node().system()).state().getLeader());
        }
    }

    private static Map<String, String> with(Map<String, String> env, int managementPort) {
        var all = new java.util.HashMap<>(env);
        all.put("PULSE_MANAGEMENT_PORT", String.valueOf(managementPort));
        return all;
    }
}
