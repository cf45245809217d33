package dev.pulse.perf;

import dev.pulse.node.persistence.MessageSearchTable;
import java.io.StringReader;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.postgresql.PGConnection;

/**
 * The cost of a search (protocol 1.1) on PostgreSQL: loads one room with N messages (default 10^6)
 * into the node's search table ({@link MessageSearchTable}'s own schema and indexes), then times the
 * node's own query for words of every frequency, each run many times. Prints one JSON line per query
 * (median, p90, max in ms, the rows that matched) and the plan PostgreSQL chose for it.
 *
 * <p>The texts are 6–16 words drawn from a 20,000-word vocabulary with Zipf-like frequencies, so a
 * few words are in a large share of the messages and most are rare; marker words are planted at
 * fixed rates (10 messages, 0.1 %, 10 %).
 *
 * <pre>java -cp … dev.pulse.perf.SearchBenchmark [--messages 1000000] [--runs 50] [--rooms 50]</pre>
 * {@code --rooms} is how many rooms the user's search spans (the big one and empty others), as a
 * search without {@code room} spans the user's list.
 */
public final class SearchBenchmark {

    private static final String ROOM = "big-room";
    private static final int VOCABULARY = 20_000;

    public static void main(String[] args) throws Exception {
        Map<String, String> options = Args.parse(args);
        int messages = Integer.parseInt(options.getOrDefault("messages", "1000000"));
        int runs = Integer.parseInt(options.getOrDefault("runs", "50"));
        int roomCount = Integer.parseInt(options.getOrDefault("rooms", "50"));
        try (EmbeddedDb db = EmbeddedDb.start("off", "off", 20);
             Connection connection = DriverManager.getConnection(db.url(), EmbeddedDb.USER, EmbeddedDb.PASSWORD)) {
            long loadStarted = System.nanoTime();
            try (Statement statement = connection.createStatement()) {
                for (String sql : MessageSearchTable.tables(true)) {
                    statement.execute(sql);
                }
            }
            load(connection, messages);
            long loaded = System.nanoTime();
            try (Statement statement = connection.createStatement()) {
                for (String sql : MessageSearchTable.indexes(true)) {
                    statement.execute(sql);
                }
                statement.execute("VACUUM ANALYZE pulse_search");
            }
            long indexed = System.nanoTime();
            System.out.println(new Json().put("benchmark", "search-load").put("messages", messages)
                .put("loadSeconds", Bench.round((loaded - loadStarted) / 1e9, 1))
                .put("indexSeconds", Bench.round((indexed - loaded) / 1e9, 1))
                .put("tableMB", size(connection, "pg_total_relation_size('pulse_search')"))
                .put("ginMB", size(connection, "pg_relation_size('pulse_search_doc')")));

            List<String> rooms = new ArrayList<>(List.of(ROOM));
            for (int i = 1; i < roomCount; i++) {
                rooms.add("room-" + i);
            }
            Map<String, String> queries = new LinkedHashMap<>();
            queries.put("rare (10 messages)", "kestrel");
            queries.put("uncommon (0.1 %)", "lantern");
            queries.put("common (10 %)", "deploy");
            queries.put("most common word", word(0));
            queries.put("prefix of a common word", "depl");
            queries.put("two words, 10 % and 0.1 %", "deploy lantern");
            queries.put("no match", "xylophonic");
            for (Map.Entry<String, String> query : queries.entrySet()) {
                time(connection, query.getKey(), query.getValue(), rooms, runs, messages);
            }
        }
    }

    /** N messages through COPY: a marker word at its rate, the rest from the vocabulary. */
    private static void load(Connection connection, int messages) throws Exception {
        SplittableRandom random = new SplittableRandom(42);
        long ts = 1_700_000_000_000L;
        int chunk = 50_000;
        for (int from = 1; from <= messages; from += chunk) {
            StringBuilder rows = new StringBuilder();
            for (int seq = from; seq < Math.min(messages + 1, from + chunk); seq++) {
                StringBuilder text = new StringBuilder();
                int words = 6 + random.nextInt(11);
                for (int w = 0; w < words; w++) {
                    text.append(w == 0 ? "" : " ").append(word(zipf(random)));
                }
                if (seq % (messages / 10) == 7) {
                    text.append(" kestrel");
                }
                if (seq % 1000 == 11) {
                    text.append(" lantern");
                }
                if (seq % 10 == 1) {
                    text.append(" deploy");
                }
                ts += 1 + random.nextInt(2_000);
                rows.append(ROOM).append('\t').append(seq).append("\tuser").append(seq % 500).append('\t')
                    .append(text).append('\t').append(ts).append('\n');
            }
            ((PGConnection) connection).getCopyAPI()
                .copyIn("COPY pulse_search (room, seq, author, body, ts) FROM STDIN", new StringReader(rows.toString()));
        }
    }

    /** A vocabulary rank, Zipf-like (rank r drawn with weight ~ 1/r). */
    private static int zipf(SplittableRandom random) {
        double u = random.nextDouble();
        return (int) Math.min(VOCABULARY - 1, Math.floor(Math.pow(VOCABULARY, u)) - 1);
    }

    /** The word of a rank: letters only, so no word is another's prefix by accident of digits. */
    private static String word(int rank) {
        StringBuilder word = new StringBuilder("w");
        int n = rank;
        do {
            word.append((char) ('a' + n % 26));
            n /= 26;
        } while (n > 0);
        return word.append("x").toString();
    }

    private static void time(Connection connection, String name, String query, List<String> rooms, int runs, int messages)
        throws Exception {
        String tsquery = MessageSearchTable.tsquery(query);
        long[] nanos = new long[runs];
        int found = 0;
        List<Long> answered = List.of();
        for (int i = 0; i < runs; i++) {
            long started = System.nanoTime();
            answered = MessageSearchTable.searchPostgres(connection, rooms, tsquery, 20).stream()
                .map(MessageSearchTable.Hit::seq).toList();
            nanos[i] = System.nanoTime() - started;
            found = answered.size();
        }
        // the node's answer must be the plain query's: the 20 newest matches, in order
        List<Long> expected = new ArrayList<>();
        try (PreparedStatement plain = connection.prepareStatement("SELECT seq FROM pulse_search WHERE room = ANY (?) "
            + "AND doc @@ to_tsquery('simple', ?) ORDER BY ts DESC, seq DESC LIMIT 20")) {
            plain.setArray(1, connection.createArrayOf("varchar", rooms.toArray()));
            plain.setString(2, tsquery);
            try (ResultSet rows = plain.executeQuery()) {
                while (rows.next()) {
                    expected.add(rows.getLong(1));
                }
            }
        }
        long matching;
        try (PreparedStatement count = connection.prepareStatement(
            "SELECT count(*) FROM pulse_search WHERE doc @@ to_tsquery('simple', ?)")) {
            count.setString(1, tsquery);
            try (ResultSet rows = count.executeQuery()) {
                rows.next();
                matching = rows.getLong(1);
            }
        }
        Arrays.sort(nanos);
        System.out.println(new Json().put("benchmark", "search").put("messages", messages).put("rooms", rooms.size())
            .put("query", name).put("tsquery", tsquery).put("matching", matching).put("returned", found).put("runs", runs)
            .put("p50ms", Bench.ms(Bench.percentile(nanos, 0.5))).put("p90ms", Bench.ms(Bench.percentile(nanos, 0.9)))
            .put("maxMs", Bench.ms(nanos[nanos.length - 1])).put("path", matching > 2_000 ? "common: rooms' newest first" : "rare: GIN")
            .put("sameAsPlainQuery", answered.equals(expected)));
    }

    private static double size(Connection connection, String function) throws Exception {
        try (Statement statement = connection.createStatement(); ResultSet rows = statement.executeQuery("SELECT " + function)) {
            rows.next();
            return Bench.round(rows.getLong(1) / 1048576.0, 1);
        }
    }
}
