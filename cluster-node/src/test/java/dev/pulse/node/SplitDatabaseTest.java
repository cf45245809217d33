package dev.pulse.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pulse.node.cluster.SplitDatabaseGuard;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node on the embedded (node-local) database never takes part in a cluster of more than one,
 * where history would split between nodes: it refuses seeds, and stops when another node joins it.
 */
class SplitDatabaseTest {

    @TempDir
    Path embeddedData;
    @TempDir
    Path postgresData;

    @Test
    void anEmbeddedDatabaseNodeRefusesToJoinSeedsAndNamesPulseDbUrl() {
        assertThatThrownBy(() -> TestNode.startEmbedded(embeddedData, Map.of("PULSE_SEED_NODES", "127.0.0.1:25520")))
            .isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("PULSE_DB_URL")
            .hasMessageContaining("127.0.0.1:25520");
    }

    @Test
    void anEmbeddedDatabaseNodeRefusesToBootstrapAClusterThroughDiscovery() {
        assertThatThrownBy(() -> TestNode.startEmbedded(embeddedData, Map.of("PULSE_DISCOVERY", "config")))
            .isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("PULSE_DB_URL")
            .hasMessageContaining("PULSE_DISCOVERY=config");
    }

    @Test
    void anEmbeddedDatabaseNodeStopsWhenAnotherNodeJoinsIt() throws Exception {
        TestNode embedded = TestNode.startEmbedded(embeddedData, Map.of());
        try (TestNode shared = TestNode.startOnPostgres(postgresData, Map.of("PULSE_SEED_NODES", embedded.node().node()))) {
            embedded.node().system().getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
            assertThat(CoordinatedShutdown.get(embedded.node().system()).getShutdownReason())
                .contains(SplitDatabaseGuard.SPLIT_DATABASE);
            assertThat(shared.node().system().whenTerminated().isCompleted()).as("the node on PostgreSQL stays").isFalse();
        }
    }
}
