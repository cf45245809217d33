package dev.pulse.node.persistence;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.persistence.jdbc.db.SlickExtension;
import org.apache.pekko.persistence.jdbc.db.SlickExtensionImpl;
import slick.jdbc.JdbcBackend;

/**
 * The journal's database as Pulse's read sides use it: the journal plugin's own connection pool,
 * with blocking JDBC run on Pekko's blocking-IO dispatcher.
 */
public final class JournalDatabase {

    /** Binds a statement's parameters. */
    public interface Binder {
        void bind(PreparedStatement statement) throws SQLException;
    }

    /** Reads one row. */
    public interface Row<T> {
        T read(ResultSet rows) throws SQLException;
    }

    /** Work in one transaction. */
    public interface Work<T> {
        T run(Connection connection) throws SQLException;
    }

    private final JdbcBackend.JdbcDatabaseDef database;
    private final Executor blocking;
    private final boolean postgres;

    private JournalDatabase(JdbcBackend.JdbcDatabaseDef database, Executor blocking, boolean postgres) {
        this.database = database;
        this.blocking = blocking;
        this.postgres = postgres;
    }

    /** On the journal plugin's shared database ({@code jdbc-journal}). */
    public static JournalDatabase of(ActorSystem<?> system) {
        var classic = Adapter.toClassic(system);
        // The static forwarder is typed Extension (Scala's generic ExtensionId); it is this one.
        SlickExtensionImpl slick = (SlickExtensionImpl) SlickExtension.get(classic);
        var config = system.settings().config();
        JdbcBackend.JdbcDatabaseDef database = slick.database(config.getConfig("jdbc-journal")).database();
        boolean postgres = config.getString("pekko-persistence-jdbc.shared-databases.slick.profile").contains("Postgres");
        return new JournalDatabase(database, system.dispatchers().lookup(DispatcherSelector.blocking()), postgres);
    }

    /** PostgreSQL, or else the embedded H2. */
    public boolean postgres() {
        return postgres;
    }

    /** Where blocking work runs. */
    public Executor blocking() {
        return blocking;
    }

    public Connection connection() throws SQLException {
        return database.source().createConnection();
    }

    /** A query on the blocking dispatcher: every row, read by {@code row}. */
    public <T> CompletionStage<List<T>> query(String sql, Binder binder, Row<T> row) {
        return CompletableFuture.supplyAsync(() -> {
            try (Connection connection = connection()) {
                return queryOn(connection, sql, binder, row);
            } catch (SQLException e) {
                throw new IllegalStateException("query failed: " + e.getMessage(), e);
            }
        }, blocking);
    }

    /** {@code work} in one transaction, on the calling thread (a blocking one). */
    public <T> T inTransaction(Work<T> work) throws SQLException {
        try (Connection connection = connection()) {
            connection.setAutoCommit(false);
            try {
                T result = work.run(connection);
                connection.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                connection.rollback();
                throw e;
            }
        }
    }

    public static <T> List<T> queryOn(Connection connection, String sql, Binder binder, Row<T> row) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(sql)) {
            binder.bind(statement);
            List<T> found = new ArrayList<>();
            try (ResultSet rows = statement.executeQuery()) {
                while (rows.next()) {
                    found.add(row.read(rows));
                }
            }
            return found;
        }
    }
}
