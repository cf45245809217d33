package dev.pulse.node.persistence;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The search read side (protocol 1.1 {@code search}): every message that is not deleted, with its
 * current text, and per room the highest seq applied. Rooms write it after their events are
 * committed, in seq order and idempotently (a change at or below the room's progress is skipped), so
 * a room that restarts catches up from its progress. On PostgreSQL a generated {@code tsvector}
 * column with a GIN index answers the queries (every word, as a prefix); on the embedded H2 each
 * word is a case-insensitive substring match over the rooms' rows.
 */
public final class MessageSearchTable {

    /** A room event as the index sees it; every one moves the room's progress to its {@code seq}. */
    public sealed interface Change {
        long seq();
    }

    public record Posted(long seq, String author, String text, long ts) implements Change {}

    public record Edited(long seq, long target, String text) implements Change {}

    public record Deleted(long seq, long target) implements Change {}

    /** An event that changes no text (a reaction): only the progress moves. */
    public record Other(long seq) implements Change {}

    /** A message that matched. */
    public record Hit(String room, long seq, String author, String text, long ts) {}

    private static final String CREATE_POSTGRES = "CREATE TABLE IF NOT EXISTS pulse_search (room VARCHAR(255) NOT NULL, "
        + "seq BIGINT NOT NULL, author VARCHAR(64) NOT NULL, body TEXT NOT NULL, ts BIGINT NOT NULL, "
        + "doc tsvector GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED, PRIMARY KEY (room, seq))";
    private static final String INDEX_POSTGRES = "CREATE INDEX IF NOT EXISTS pulse_search_doc ON pulse_search USING GIN (doc)";
    /** Newest first within a room: a common word's newest matches are found without sorting them all. */
    private static final String INDEX_NEWEST = "CREATE INDEX IF NOT EXISTS pulse_search_newest ON pulse_search (room, ts DESC, seq DESC)";
    private static final String CREATE_H2 = "CREATE TABLE IF NOT EXISTS pulse_search (room VARCHAR(255) NOT NULL, "
        + "seq BIGINT NOT NULL, author VARCHAR(64) NOT NULL, body VARCHAR(65536) NOT NULL, ts BIGINT NOT NULL, "
        + "PRIMARY KEY (room, seq))";
    private static final String CREATE_PROGRESS = "CREATE TABLE IF NOT EXISTS pulse_search_progress ("
        + "room VARCHAR(255) NOT NULL PRIMARY KEY, seq BIGINT NOT NULL)";

    private static final String PROGRESS = "SELECT seq FROM pulse_search_progress WHERE room = ?";
    private static final String LOCK_PROGRESS = PROGRESS + " FOR UPDATE";
    private static final String INSERT_PROGRESS = "INSERT INTO pulse_search_progress (room, seq) VALUES (?, ?)";
    private static final String UPDATE_PROGRESS = "UPDATE pulse_search_progress SET seq = ? WHERE room = ?";
    private static final String INSERT = "INSERT INTO pulse_search (room, seq, author, body, ts) SELECT ?, ?, ?, ?, ? "
        + "WHERE NOT EXISTS (SELECT 1 FROM pulse_search WHERE room = ? AND seq = ?)";
    private static final String EDIT = "UPDATE pulse_search SET body = ? WHERE room = ? AND seq = ?";
    private static final String DELETE = "DELETE FROM pulse_search WHERE room = ? AND seq = ?";
    private static final String COLUMNS = "SELECT room, seq, author, body, ts FROM pulse_search WHERE ";
    private static final String NEWEST_FIRST = " ORDER BY ts DESC, seq DESC LIMIT ?";

    private final JournalDatabase database;

    public MessageSearchTable(JournalDatabase database) {
        this.database = database;
    }

    /** Creates the tables, with the journal's ({@link JournalSchema}). */
    static void create(Statement statement, boolean postgres) throws SQLException {
        for (String sql : tables(postgres)) {
            statement.execute(sql);
        }
        for (String sql : indexes(postgres)) {
            statement.execute(sql);
        }
    }

    /** The tables' statements (public for the search benchmark, which loads rows before indexing). */
    public static List<String> tables(boolean postgres) {
        return List.of(postgres ? CREATE_POSTGRES : CREATE_H2, CREATE_PROGRESS);
    }

    public static List<String> indexes(boolean postgres) {
        return postgres ? List.of(INDEX_POSTGRES, INDEX_NEWEST) : List.of(INDEX_NEWEST);
    }

    /** More matches than this, and a word is common: the rooms' newest-first indexes find its newest. */
    static final int FEW_MATCHES = 2_000;

    /**
     * The matches of rare and uncommon words, from the GIN index: at most {@link #FEW_MATCHES} + 1 are
     * taken (in no order, so the scan stops there), and the newest of them answered, with how many
     * were taken. Parameters: rooms (a varchar array), the {@link #tsquery}, the limit.
     */
    private static final String FEW = "WITH hits AS MATERIALIZED (SELECT room, seq, ts FROM pulse_search "
        + "WHERE room = ANY (?) AND doc @@ to_tsquery('simple', ?) LIMIT " + (FEW_MATCHES + 1) + ") "
        + "SELECT s.room, s.seq, s.author, s.body, s.ts, (SELECT count(*) FROM hits) FROM "
        + "(SELECT room, seq FROM hits ORDER BY ts DESC, seq DESC LIMIT ?) h "
        + "JOIN pulse_search s ON s.room = h.room AND s.seq = h.seq ORDER BY s.ts DESC, s.seq DESC";

    /**
     * The newest matches of a common word: each room's newest-first index is walked until the limit
     * is met (a common word is met soon), instead of sorting every match. Parameters: rooms, the
     * tsquery, the limit, the limit.
     */
    private static final String MANY = "SELECT m.room, m.seq, m.author, m.body, m.ts FROM unnest(?::varchar[]) AS r(room) "
        + "CROSS JOIN LATERAL (SELECT room, seq, author, body, ts FROM pulse_search WHERE room = r.room "
        + "AND doc @@ to_tsquery('simple', ?) ORDER BY ts DESC, seq DESC LIMIT ?) m ORDER BY m.ts DESC, m.seq DESC LIMIT ?";

    /**
     * PostgreSQL's search on {@code connection}: a rare word's matches come from the GIN index and are
     * sorted; a word with more than {@link #FEW_MATCHES} matches is looked for newest first instead.
     * (Public for the search benchmark.)
     */
    public static List<Hit> searchPostgres(Connection connection, List<String> rooms, String tsquery, int limit)
        throws SQLException {
        java.sql.Array roomArray = connection.createArrayOf("varchar", rooms.toArray());
        long[] taken = new long[1];
        List<Hit> few = JournalDatabase.queryOn(connection, FEW, statement -> {
            statement.setArray(1, roomArray);
            statement.setString(2, tsquery);
            statement.setInt(3, limit);
        }, rows -> {
            taken[0] = rows.getLong(6);
            return hit(rows);
        });
        if (taken[0] <= FEW_MATCHES) {
            return few;
        }
        return JournalDatabase.queryOn(connection, MANY, statement -> {
            statement.setArray(1, roomArray);
            statement.setString(2, tsquery);
            statement.setInt(3, limit);
            statement.setInt(4, limit);
        }, MessageSearchTable::hit);
    }

    private static Hit hit(java.sql.ResultSet rows) throws SQLException {
        return new Hit(rows.getString(1), rows.getLong(2), rows.getString(3), rows.getString(4), rows.getLong(5));
    }

    /** Every word of {@code query} as a prefix, all required; null when the query has no word. */
    public static String tsquery(String query) {
        List<String> words = words(query);
        return words.isEmpty() ? null : String.join(" & ", words.stream().map(word -> word + ":*").toList());
    }

    /** The highest seq of {@code room} applied; 0 when none. Blocking. */
    public long progress(String room) throws SQLException {
        try (Connection connection = database.connection()) {
            List<Long> seqs = JournalDatabase.queryOn(connection, PROGRESS, s -> s.setString(1, room), rows -> rows.getLong(1));
            return seqs.isEmpty() ? 0 : seqs.get(0);
        }
    }

    /**
     * Applies {@code changes} (ascending by seq) of {@code room} in one transaction, skipping those at or
     * below its progress, and moves the progress to the last. Blocking. Returns the progress.
     */
    public long apply(String room, List<? extends Change> changes) throws SQLException {
        return database.inTransaction(connection -> {
            List<Long> locked = JournalDatabase.queryOn(connection, LOCK_PROGRESS, s -> s.setString(1, room), rows -> rows.getLong(1));
            long progress = locked.isEmpty() ? 0 : locked.get(0);
            long last = progress;
            try (PreparedStatement insert = connection.prepareStatement(INSERT);
                 PreparedStatement edit = connection.prepareStatement(EDIT);
                 PreparedStatement delete = connection.prepareStatement(DELETE)) {
                int inserts = 0;
                for (Change change : changes) {
                    if (change.seq() <= last) {
                        continue; // applied before: a catch-up overlapping what was written live
                    }
                    if (change.seq() != last + 1) {
                        // events are missing in between (lost with a failed write): read them from the journal
                        throw new SQLException("room " + room + ": seq " + change.seq() + " follows " + last);
                    }
                    last = change.seq();
                    if (change instanceof Posted posted) {
                        insert.setString(1, room);
                        insert.setLong(2, posted.seq());
                        insert.setString(3, posted.author());
                        insert.setString(4, storable(posted.text()));
                        insert.setLong(5, posted.ts());
                        insert.setString(6, room);
                        insert.setLong(7, posted.seq());
                        insert.addBatch();
                        inserts++;
                        continue;
                    }
                    if (inserts > 0) {
                        insert.executeBatch(); // an edit or deletion later in the list must find its row
                        inserts = 0;
                    }
                    if (change instanceof Edited edited) {
                        edit.setString(1, storable(edited.text()));
                        edit.setString(2, room);
                        edit.setLong(3, edited.target());
                        edit.executeUpdate();
                    } else if (change instanceof Deleted deleted) {
                        delete.setString(1, room);
                        delete.setLong(2, deleted.target());
                        delete.executeUpdate();
                    }
                }
                if (inserts > 0) {
                    insert.executeBatch();
                }
            }
            if (last > progress) {
                long next = last;
                try (PreparedStatement move = connection.prepareStatement(locked.isEmpty() ? INSERT_PROGRESS : UPDATE_PROGRESS)) {
                    if (locked.isEmpty()) {
                        move.setString(1, room);
                        move.setLong(2, next);
                    } else {
                        move.setLong(1, next);
                        move.setString(2, room);
                    }
                    move.executeUpdate();
                }
            }
            return last;
        });
    }

    /**
     * Messages of {@code rooms} whose text holds every word of {@code query}, newest first, at most
     * {@code limit}. A query without a word (only punctuation) matches nothing.
     */
    public CompletionStage<List<Hit>> search(List<String> rooms, String query, int limit) {
        List<String> words = words(query);
        if (rooms.isEmpty() || words.isEmpty()) {
            return CompletableFuture.completedFuture(List.of());
        }
        return database.postgres() ? searchPostgres(rooms, query, limit) : searchH2(rooms, words, limit);
    }

    private CompletionStage<List<Hit>> searchPostgres(List<String> rooms, String query, int limit) {
        return CompletableFuture.supplyAsync(() -> {
            try (Connection connection = database.connection()) {
                return searchPostgres(connection, rooms, tsquery(query), limit);
            } catch (SQLException e) {
                throw new IllegalStateException("search failed: " + e.getMessage(), e);
            }
        }, database.blocking());
    }

    private CompletionStage<List<Hit>> searchH2(List<String> rooms, List<String> words, int limit) {
        StringBuilder sql = new StringBuilder(COLUMNS).append("room IN (")
            .append(String.join(", ", rooms.stream().map(room -> "?").toList())).append(')');
        words.forEach(word -> sql.append(" AND LOWER(body) LIKE ? ESCAPE '!'"));
        sql.append(NEWEST_FIRST);
        return database.query(sql.toString(), statement -> {
            int at = 1;
            for (String room : rooms) {
                statement.setString(at++, room);
            }
            for (String word : words) {
                statement.setString(at++, "%" + RoomMembersTable.escapeLike(word) + "%");
            }
            statement.setInt(at, limit);
        }, MessageSearchTable::hit);
    }

    /** PostgreSQL's text refuses NUL, which JSON can carry: it is kept as U+FFFD, searched for by nobody. */
    static String storable(String text) {
        return text.indexOf('\u0000') < 0 ? text : text.replace('\u0000', '\uFFFD');
    }

    /** The query's words: runs of letters and digits, lower-cased (safe inside a tsquery as they are). */
    static List<String> words(String query) {
        List<String> words = new ArrayList<>();
        for (String word : query.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{M}\\p{N}]+")) {
            if (!word.isEmpty() && !words.contains(word)) {
                words.add(word);
            }
        }
        return words;
    }
}
