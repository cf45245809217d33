package dev.pulse.node.persistence;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
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
    private static final String CREATE_H2 = "CREATE TABLE IF NOT EXISTS pulse_search (room VARCHAR(255) NOT NULL, "
        + "seq BIGINT NOT NULL, author VARCHAR(64) NOT NULL, body VARCHAR(65536) NOT NULL, ts BIGINT NOT NULL, "
        + "PRIMARY KEY (room, seq))";
    private static final String CREATE_PROGRESS = "CREATE TABLE IF NOT EXISTS pulse_search_progress ("
        + "room VARCHAR(255) NOT NULL PRIMARY KEY, seq BIGINT NOT NULL)";

    private static final String PROGRESS = "SELECT seq FROM pulse_search_progress WHERE room = ?";
    private static final String ENSURE_PROGRESS_POSTGRES = "INSERT INTO pulse_search_progress (room, seq) "
        + "SELECT room, 0 FROM unnest(?::varchar[]) WITH ORDINALITY AS r(room, n) ORDER BY n ON CONFLICT (room) DO NOTHING";
    private static final String INSERT_PROGRESS = "INSERT INTO pulse_search_progress (room, seq) VALUES (?, ?)";
    private static final String UPDATE_PROGRESS = "UPDATE pulse_search_progress SET seq = ? WHERE room = ?";
    private static final String INSERT = "INSERT INTO pulse_search (room, seq, author, body, ts) VALUES ";
    private static final String INSERT_ROW = "(?, ?, ?, ?, ?)";
    /** Rows a multi-row INSERT carries: one statement per hundreds of messages, not one per message. */
    private static final int ROWS_PER_INSERT = 200;
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
        // No index by time: within a room ts never decreases along seq (the protocol's rule), so the
        // primary key read backwards is newest first, and every message costs one index less to write.
        return postgres ? List.of(INDEX_POSTGRES) : List.of();
    }

    /** More matches than this, and a word is common: the rooms' keys, read newest first, find its newest. */
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
     * The newest matches of a common word: each room's primary key is walked backwards (newest first,
     * as ts never decreases along seq) until the limit is met (a common word is met soon), instead of
     * sorting every match. Parameters: rooms, the tsquery, the limit, the limit.
     */
    private static final String MANY = "SELECT m.room, m.seq, m.author, m.body, m.ts FROM unnest(?::varchar[]) AS r(room) "
        + "CROSS JOIN LATERAL (SELECT room, seq, author, body, ts FROM pulse_search WHERE room = r.room "
        + "AND doc @@ to_tsquery('simple', ?) ORDER BY seq DESC LIMIT ?) m ORDER BY m.ts DESC, m.seq DESC LIMIT ?";

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
     *
     * @throws SQLException also when a change does not follow the room's progress (events in between
     *                      are missing: read them from the journal)
     */
    public long apply(String room, List<? extends Change> changes) throws SQLException {
        Map<String, List<? extends Change>> one = Map.of(room, changes);
        Map<String, Long> progress = new HashMap<>();
        Set<String> behind = applyAll(one, progress);
        if (!behind.isEmpty()) {
            throw new SQLException("room " + room + ": seq " + changes.get(0).seq() + " does not follow " + progress.get(room));
        }
        return progress.get(room);
    }

    /**
     * Applies the changes of several rooms in one transaction (one commit for a busy node's many rooms,
     * not one per room), each room's ascending by seq and skipping those at or below its progress. A
     * room whose changes do not follow its progress is left as it was and returned: events are missing
     * in between (lost with a failed write), to be read from the journal. Blocking. {@code progress}
     * gets every room's progress after the transaction.
     */
    public Set<String> applyAll(Map<String, ? extends List<? extends Change>> changes, Map<String, Long> progress)
        throws SQLException {
        if (changes.isEmpty()) {
            return Set.of();
        }
        // Sorted, so that two writers (two nodes, in a hand-off) lock the progress rows in one order.
        List<String> rooms = new ArrayList<>(new TreeSet<>(changes.keySet()));
        return database.inTransaction(connection -> {
            if (database.postgres()) {
                // Every room gets a progress row first, so that the lock below holds for a room new to
                // the index too: two nodes writing it in a hand-off wait for each other, in room order.
                try (PreparedStatement ensure = connection.prepareStatement(ENSURE_PROGRESS_POSTGRES)) {
                    ensure.setArray(1, connection.createArrayOf("varchar", rooms.toArray()));
                    ensure.executeUpdate();
                }
            }
            Map<String, Long> locked = lockProgress(connection, rooms);
            Set<String> behind = new HashSet<>();
            try (PreparedStatement edit = connection.prepareStatement(EDIT);
                 PreparedStatement delete = connection.prepareStatement(DELETE);
                 PreparedStatement insertProgress = connection.prepareStatement(INSERT_PROGRESS);
                 PreparedStatement updateProgress = connection.prepareStatement(UPDATE_PROGRESS)) {
                Inserts inserts = new Inserts(connection, database.postgres());
                for (String room : rooms) {
                    long before = locked.getOrDefault(room, 0L);
                    List<? extends Change> next = changes.get(room).stream().filter(change -> change.seq() > before).toList();
                    if (!follows(before, next)) {
                        behind.add(room);
                        progress.put(room, before);
                        continue;
                    }
                    for (Change change : next) {
                        write(room, change, inserts, edit, delete);
                    }
                    long last = next.isEmpty() ? before : next.get(next.size() - 1).seq();
                    progress.put(room, last);
                    if (last > before) {
                        PreparedStatement move = locked.containsKey(room) ? updateProgress : insertProgress;
                        move.setLong(locked.containsKey(room) ? 1 : 2, last);
                        move.setString(locked.containsKey(room) ? 2 : 1, room);
                        move.addBatch();
                    }
                }
                inserts.flush();
                insertProgress.executeBatch();
                updateProgress.executeBatch();
            }
            return behind;
        });
    }

    /** Whether {@code changes} run on from {@code progress} without a hole. */
    private static boolean follows(long progress, List<? extends Change> changes) {
        long expected = progress + 1;
        for (Change change : changes) {
            if (change.seq() != expected++) {
                return false;
            }
        }
        return true;
    }

    /** The rooms' progress rows, locked in the order of {@code rooms} (sorted); a room without one is absent. */
    private Map<String, Long> lockProgress(Connection connection, List<String> rooms) throws SQLException {
        String sql = "SELECT room, seq FROM pulse_search_progress WHERE room IN ("
            + String.join(", ", rooms.stream().map(room -> "?").toList()) + ") ORDER BY room FOR UPDATE";
        Map<String, Long> locked = new HashMap<>();
        JournalDatabase.queryOn(connection, sql, statement -> {
            for (int i = 0; i < rooms.size(); i++) {
                statement.setString(i + 1, rooms.get(i));
            }
        }, rows -> locked.put(rows.getString(1), rows.getLong(2)));
        return locked;
    }

    /**
     * Messages to insert, sent in multi-row INSERTs before an edit or deletion (which may be of a message
     * among them) and at the end. The progress lock keeps two writers of a room apart, so a row is new;
     * on PostgreSQL a row there already (a writer of a room without a progress row yet) is let be.
     */
    private static final class Inserts {
        private final Connection connection;
        private final String onConflict;
        private record Row(String room, Posted posted) {}

        private final List<Row> rows = new ArrayList<>();

        Inserts(Connection connection, boolean postgres) {
            this.connection = connection;
            this.onConflict = postgres ? " ON CONFLICT (room, seq) DO NOTHING" : "";
        }

        void add(String room, Posted posted) {
            rows.add(new Row(room, posted));
        }

        void flush() throws SQLException {
            for (int from = 0; from < rows.size(); from += ROWS_PER_INSERT) {
                List<Row> chunk = rows.subList(from, Math.min(rows.size(), from + ROWS_PER_INSERT));
                String sql = INSERT + String.join(", ", Collections.nCopies(chunk.size(), INSERT_ROW)) + onConflict;
                try (PreparedStatement insert = connection.prepareStatement(sql)) {
                    int at = 1;
                    for (Row row : chunk) {
                        insert.setString(at++, row.room());
                        insert.setLong(at++, row.posted().seq());
                        insert.setString(at++, row.posted().author());
                        insert.setString(at++, storable(row.posted().text()));
                        insert.setLong(at++, row.posted().ts());
                    }
                    insert.executeUpdate();
                }
            }
            rows.clear();
        }
    }

    private static void write(String room, Change change, Inserts inserts, PreparedStatement edit, PreparedStatement delete)
        throws SQLException {
        if (change instanceof Posted posted) {
            inserts.add(room, posted);
        } else if (change instanceof Edited edited) {
            inserts.flush();
            edit.setString(1, storable(edited.text()));
            edit.setString(2, room);
            edit.setLong(3, edited.target());
            edit.executeUpdate();
        } else if (change instanceof Deleted deleted) {
            inserts.flush();
            delete.setString(1, room);
            delete.setLong(2, deleted.target());
            delete.executeUpdate();
        }
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
