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
 * Creates the journal tables from pekko-persistence-jdbc's own schema files, idempotently: every
 * statement is made "IF NOT EXISTS", so it runs at every start.
 */
public final class JournalSchema {

    private static final Pattern INDEX_WITHOUT_GUARD =
        Pattern.compile("(?i)CREATE\\s+(UNIQUE\\s+)?INDEX\\s+(CONCURRENTLY\\s+)?(?!IF\\s+NOT\\s+EXISTS)");

    private JournalSchema() {}

    public static void ensure(NodeSettings.Database database) {
        String resource = database.embedded() ? "schema/h2/h2-create-schema.sql" : "schema/postgres/postgres-create-schema.sql";
        String script = read(resource);
        try (Connection connection = DriverManager.getConnection(database.url(), database.user(), database.password());
             Statement statement = connection.createStatement()) {
            for (String sql : script.split(";")) {
                String guarded = INDEX_WITHOUT_GUARD.matcher(stripComments(sql)).replaceAll("CREATE $1INDEX $2IF NOT EXISTS ").trim();
                if (!guarded.isEmpty()) {
                    statement.execute(guarded);
                }
            }
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
