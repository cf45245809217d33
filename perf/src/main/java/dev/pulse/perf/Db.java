package dev.pulse.perf;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/** One JDBC connection to PostgreSQL, for settings and statistics. */
final class Db implements AutoCloseable {

    private final Connection connection;

    Db(String url, String user, String password) throws SQLException {
        this.connection = DriverManager.getConnection(url, user, password);
        this.connection.setAutoCommit(true);
    }

    String text(String sql) throws SQLException {
        try (Statement st = connection.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    long number(String sql) throws SQLException {
        // Statistics are cached per transaction; autocommit makes each query see fresh ones.
        try (Statement st = connection.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            return 0; // e.g. pg_stat_wal before PostgreSQL 14
        }
    }

    /** PostgreSQL's version and durability settings, for the result line. */
    String describe() throws SQLException {
        return text("SHOW server_version") + " (synchronous_commit=" + text("SHOW synchronous_commit")
            + ", fsync=" + text("SHOW fsync") + ")";
    }

    @Override
    public void close() throws SQLException {
        connection.close();
    }
}
