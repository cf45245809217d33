package dev.pulse.node.persistence;

import dev.pulse.node.NodeSettings;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.regex.Pattern;

/**
 * Creates the journal tables from pekko-persistence-jdbc's own schema files (and Pulse's read sides,
 * {@link RoomMembersTable} and {@link MessageSearchTable}), idempotently: every
 * statement is made "IF NOT EXISTS", so it runs at every start. On PostgreSQL the nodes of a cluster
 * take turns: "IF NOT EXISTS" does not stop two sessions that create the same table at once from
 * failing one of them ("relation already exists", or a duplicate key in the catalog), and the nodes of
 * a cluster start together on a fresh database. The lock is the session's (closing the connection
 * releases it). The plugin's CREATE INDEX CONCURRENTLY is run as a plain CREATE INDEX: a concurrent build
 * waits for every open transaction, the other nodes' wait for the lock included (a deadlock), and it
 * only ever builds on a table created a moment ago (else IF NOT EXISTS finds the index there).
 */
public final class JournalSchema {

    /** The advisory lock the nodes take turns on: an arbitrary key of this schema's own. */
    private static final long SCHEMA_LOCK = 0x70756c7365L; // "pulse"

    /** "CREATE [UNIQUE] INDEX [CONCURRENTLY] [IF NOT EXISTS]": made "CREATE [UNIQUE] INDEX IF NOT EXISTS". */
    private static final Pattern CREATE_INDEX =
        Pattern.compile("(?i)CREATE\\s+(UNIQUE\\s+)?INDEX\\s+(CONCURRENTLY\\s+)?(IF\\s+NOT\\s+EXISTS\\s+)?");

    private JournalSchema() {}

    public static void ensure(NodeSettings.Database database) {
        String resource = database.embedded() ? "schema/h2/h2-create-schema.sql" : "schema/postgres/postgres-create-schema.sql";
        String script = read(resource);
        try (Connection connection = DriverManager.getConnection(database.url(), database.user(), database.password());
             Statement statement = connection.createStatement()) {
            if (!database.embedded()) {
                statement.execute("SELECT pg_advisory_lock(" + SCHEMA_LOCK + ")");
            }
            for (String sql : script.split(";")) {
                String guarded = CREATE_INDEX.matcher(stripComments(sql)).replaceAll("CREATE $1INDEX IF NOT EXISTS ").trim();
                if (!guarded.isEmpty()) {
                    statement.execute(guarded);
                }
            }
            statement.execute(RoomMembersTable.CREATE);
            MessageSearchTable.create(statement, !database.embedded());
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create the journal schema at " + database.url() + ": " + e.getMessage(), e);
        }
    }

    private static String stripComments(String sql) {
        StringBuilder kept = new StringBuilder();
        for (String line : sql.split("\n")) {
            if (!line.trim().startsWith("--")) {
                kept.append(line).append('\n');
            }
        }
        return kept.toString();
    }

    private static String read(String resource) {
        try (InputStream in = JournalSchema.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("schema file missing from the classpath: " + resource);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
