package dev.pulse.node.persistence;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who is in which room, for the room directory (version 1.1: public rooms by name, most members
 * first): a read side of the user entities' journals, written after each join or leave is journaled
 * there (a user entity writes only its own rows, one at a time, so rows never race). It uses the
 * journal's own connection pool, on Pekko's blocking-IO dispatcher ({@link JournalDatabase}). A row write that fails is logged
 * and lost: the directory's counts may drift by it, never the user's own list, which is the journal.
 * The directory's {@code lastSeq} is read from the rooms' journals.
 */
public final class RoomMembersTable {

    private static final Logger LOG = LoggerFactory.getLogger(RoomMembersTable.class);

    /** Created with the journal's tables ({@link JournalSchema}); the same text on H2 and PostgreSQL. */
    static final String CREATE = "CREATE TABLE IF NOT EXISTS pulse_room_members ("
        + "room VARCHAR(255) NOT NULL, user_name VARCHAR(64) NOT NULL, PRIMARY KEY (room, user_name))";

    private static final String JOIN = "INSERT INTO pulse_room_members (room, user_name) SELECT ?, ? "
        + "WHERE NOT EXISTS (SELECT 1 FROM pulse_room_members WHERE room = ? AND user_name = ?)";
    private static final String LEAVE = "DELETE FROM pulse_room_members WHERE room = ? AND user_name = ?";
    /** Public rooms only; the journal's identifiers are quoted (lower case on H2 too). */
    private static final String FIND = "SELECT m.room, COUNT(*) AS members, COALESCE((SELECT MAX(j.\"sequence_number\") "
        + "FROM \"event_journal\" j WHERE j.\"persistence_id\" = CONCAT('Room|', m.room)), 0) AS last_seq "
        + "FROM pulse_room_members m WHERE m.room NOT LIKE 'dm:%' AND m.room LIKE ? ESCAPE '!' "
        + "GROUP BY m.room ORDER BY members DESC, m.room LIMIT ?";

    private static final String MEMBERS = "SELECT user_name FROM pulse_room_members WHERE room = ? ORDER BY user_name";

    /** A public room, its members and its lastSeq. */
    public record Listing(String room, long members, long lastSeq) {}

    private final JournalDatabase database;
    /** The last write of each (room, user) not done yet: a join and a leave of one pair run in their order. */
    private final Map<String, CompletableFuture<Void>> pending = new ConcurrentHashMap<>();

    public RoomMembersTable(JournalDatabase database) {
        this.database = database;
    }

    public void joined(String room, String user) {
        write(JOIN, room, user, true);
    }

    public void left(String room, String user) {
        write(LEAVE, room, user, false);
    }

    private void write(String sql, String room, String user, boolean join) {
        String key = room + '\n' + user;
        pending.compute(key, (k, before) -> {
            CompletableFuture<Void> after = before == null ? CompletableFuture.completedFuture(null) : before.exceptionally(e -> null);
            CompletableFuture<Void> next = after.thenRunAsync(() -> run(sql, room, user, join), database.blocking());
            next.whenComplete((ok, failure) -> pending.remove(k, next));
            return next;
        });
    }

    private void run(String sql, String room, String user, boolean join) {
        try (Connection connection = database.connection();
             PreparedStatement statement = connection.prepareStatement(sql)) {
            statement.setString(1, room);
            statement.setString(2, user);
            if (join) {
                statement.setString(3, room);
                statement.setString(4, user);
            }
            statement.executeUpdate();
        } catch (SQLException e) {
            LOG.warn("room directory: could not record that {} {} {}: {}", user, join ? "joined" : "left", room, e.toString());
        }
    }

    /** Public rooms whose name contains {@code query} (as given), most members first, at most {@code limit}. */
    public CompletionStage<List<Listing>> find(String query, int limit) {
        return database.query(FIND, statement -> {
            statement.setString(1, "%" + escapeLike(query) + "%");
            statement.setInt(2, limit);
        }, rows -> new Listing(rows.getString(1), rows.getLong(2), rows.getLong(3)));
    }

    /** Who joined {@code room} and has not left, by name; a room's members when it starts again. */
    public CompletionStage<List<String>> members(String room) {
        return database.query(MEMBERS, statement -> statement.setString(1, room), rows -> rows.getString(1));
    }

    /** Room ids hold {@code _}, a LIKE wildcard: matched literally, as are {@code %} and the escape {@code !}. */
    static String escapeLike(String text) {
        return text.replace("!", "!!").replace("%", "!%").replace("_", "!_");
    }
}
