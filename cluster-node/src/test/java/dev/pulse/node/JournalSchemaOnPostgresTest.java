package dev.pulse.node;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pulse.node.persistence.JournalSchema;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The nodes of a cluster start together on one fresh PostgreSQL (bin/pulse-cluster, docker compose, a
 * Kubernetes rollout) and each creates the journal schema. "IF NOT EXISTS" alone does not make that
 * safe: two sessions creating the same table at once fail one of them with a duplicate key in
 * PostgreSQL's catalog (pg_type_typname_nsp_index), and that node did not start.
 */
class JournalSchemaOnPostgresTest {

    private static final int NODES = 6;

    @TempDir
    Path data;

    @Test
    void nodesCreatingTheSchemaAtOnceAllSucceed() throws Exception {
        Map<String, String> env = TestDatabase.postgresEnvironment(data);
        NodeSettings.Database database = new NodeSettings.Database(env.get("PULSE_DB_URL"), env.get("PULSE_DB_USER"),
            env.get("PULSE_DB_PASSWORD"), false);
        CyclicBarrier together = new CyclicBarrier(NODES);
        ExecutorService threads = Executors.newFixedThreadPool(NODES);
        try {
            List<CompletableFuture<Void>> nodes = new ArrayList<>();
            for (int i = 0; i < NODES; i++) {
                nodes.add(CompletableFuture.runAsync(() -> {
                    try {
                        together.await(30, TimeUnit.SECONDS);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                    JournalSchema.ensure(database);
                }, threads));
            }
            CompletableFuture.allOf(nodes.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        } finally {
            threads.shutdownNow();
        }
        try (Connection connection = DriverManager.getConnection(database.url(), database.user(), database.password());
             ResultSet tables = connection.createStatement().executeQuery(
                 "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
                     + " AND tablename IN ('event_journal', 'event_tag', 'snapshot', 'durable_state')")) {
            tables.next();
            assertThat(tables.getInt(1)).isEqualTo(4);
        }
    }
}
