package dev.pulse.node.crash;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pulse.node.testkit.NodeProcess;
import dev.pulse.protocol.ClientFrame;
import dev.pulse.protocol.ErrorCode;
import dev.pulse.protocol.ServerFrame;
import dev.pulse.protocol.client.PulseClient;
import dev.pulse.protocol.client.PulseConnection;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash safety on PostgreSQL: a node in its own JVM is killed with SIGKILL while clients stream
 * messages into it, and a new node process on the same database proves that
 * <ul>
 *   <li>every message that got an ack is in history exactly once, at the seq of its ack, and each
 *       room's history is seq 1..N in order with no gap (checked before any client retries, so the
 *       crash alone is judged);</li>
 *   <li>clients that retry their unacked messages (and, for good measure, their acked ones) with
 *       the same id and text get one ack per id, the same seq for an id every time, and no
 *       duplicate: in the end each room holds exactly one message per distinct id sent to it.</li>
 * </ul>
 * Runs on its own embedded PostgreSQL whatever {@code pulse.test.db} says, so it is harmless in both
 * surefire executions (the {@code postgres} one does not include this package).
 */
class CrashSafetyTest {

    private static final int USERS = 4;
    /** Sends each client keeps in flight (unacked) at a time. */
    private static final int WINDOW = 8;
    /** Acks, over all clients, after which the node is killed. */
    private static final int KILL_AFTER_ACKS = 2000;
    /** Fresh messages each client sends after the restart, to see the seqs go on without a gap. */
    private static final int NEW_AFTER_RESTART = 100;
    private static final String SHARED_ROOM = "crash-all";
    private static final String TOKEN_SECRET = "crash-test-secret-of-at-least-32-bytes";
    private static final Duration POLL = Duration.ofMillis(100);
    private static final Path LOG_DIR = Path.of(System.getProperty("user.dir"), "target", "crash-safety");

    @TempDir
    Path dataDir;

    private EmbeddedPostgres postgres;
    private final List<NodeProcess> nodes = new ArrayList<>();
    private ExecutorService clients;

    /** Everything that went wrong, with its evidence; the test fails at the end if it is not empty. */
    private final List<String> violations = Collections.synchronizedList(new ArrayList<>());
    private final AtomicInteger totalAcks = new AtomicInteger();
    private final CountDownLatch killNow = new CountDownLatch(1);
    private final CountDownLatch streamEnded = new CountDownLatch(USERS);
    private final CompletableFuture<Integer> restartedPort = new CompletableFuture<>();

    /** What a client sent under an id (the retry sends exactly this again). */
    record Sent(String user, String room, String text) {}

    @AfterEach
    void cleanUp() throws IOException {
        if (clients != null) {
            clients.shutdownNow();
        }
        nodes.forEach(NodeProcess::close);
        if (postgres != null) {
            postgres.close();
        }
    }

    @Test
    @Timeout(value = 150, unit = TimeUnit.SECONDS)
    void ackedMessagesSurviveKillMinus9ExactlyOnceAndRetriesDoNotDuplicate() throws Exception {
        long t0 = System.nanoTime();
        postgres = EmbeddedPostgres.builder().start();
        String dbUrl = "jdbc:postgresql://127.0.0.1:" + postgres.getPort() + "/postgres";
        Map<String, String> env = Map.of(
            "PULSE_DB_URL", dbUrl,
            "PULSE_DB_USER", "postgres",
            "PULSE_DB_PASSWORD", "postgres",
            "PULSE_TOKEN_SECRET", TOKEN_SECRET,
            "PULSE_DATA_DIR", dataDir.toString());
        List<String> properties = List.of("pulse.limits.send-burst=100000");

        NodeProcess first = startNode("node-1", env, properties);
        long firstUpMs = ms(t0);

        PulseClient login = new PulseClient(first.base());
        List<Sender> senders = new ArrayList<>();
        for (int i = 1; i <= USERS; i++) {
            String user = "crash-u" + i;
            senders.add(new Sender(user, login.login(user).token(), List.of("room-" + user, SHARED_ROOM)));
        }
        clients = Executors.newFixedThreadPool(USERS);
        List<Future<?>> running = new ArrayList<>();
        long streamStart = System.nanoTime();
        for (Sender sender : senders) {
            running.add(clients.submit(() -> sender.run(first.httpPort())));
        }

        // ---- kill -9 mid-stream
        assertThat(killNow.await(40, TimeUnit.SECONDS))
            .as("%d acks within 40 s (got %d); violations so far: %s", KILL_AFTER_ACKS, totalAcks.get(), violations)
            .isTrue();
        int acksAtKillSignal = totalAcks.get();
        int exitCode = first.kill();
        long streamMs = ms(streamStart);
        assertThat(exitCode).as("exit code of a SIGKILLed JVM (128 + 9)").isEqualTo(137);
        assertThat(streamEnded.await(20, TimeUnit.SECONDS)).as("every client saw its connection die").isTrue();

        int ackedBeforeKill = senders.stream().mapToInt(s -> s.ackedBeforeKill.size()).sum();
        int inFlightAtKill = senders.stream().mapToInt(s -> s.inFlightAtKill.size()).sum();
        int sentBeforeKill = senders.stream().mapToInt(s -> s.sent.size()).sum();
        assertThat(inFlightAtKill).as("sends were in flight when the node was killed").isPositive();

        // ---- restart on the same database, and judge the crash alone before anyone retries
        long restartStart = System.nanoTime();
        NodeProcess second = startNode("node-2", env, properties);
        long restartMs = ms(restartStart);

        Map<String, Sent> sentBeforeRestart = allSent(senders);
        Map<String, Long> ackedBefore = new HashMap<>();
        Set<String> inFlight = new LinkedHashSet<>();
        senders.forEach(s -> {
            ackedBefore.putAll(s.ackedBeforeKill);
            inFlight.addAll(s.inFlightAtKill);
        });
        Map<String, Audit> afterCrash = auditAll(second, senders, sentBeforeRestart, "after the crash");
        int committedButUnacked = 0;
        for (Audit audit : afterCrash.values()) {
            ackedBefore.forEach((id, seq) -> {
                if (sentBeforeRestart.get(id).room().equals(audit.room)) {
                    Long found = audit.seqById.get(id);
                    if (!seq.equals(found)) {
                        violations.add("LOST/MOVED acked message: id " + id + " was acked with seq " + seq + " in "
                            + audit.room + " before the kill, history after the restart has it at " + found);
                    }
                }
            });
            for (String id : audit.seqById.keySet()) {
                if (!ackedBefore.containsKey(id)) {
                    if (inFlight.contains(id)) {
                        committedButUnacked++;
                    } else {
                        violations.add("history of " + audit.room + " after the crash has " + id
                            + ", neither acked nor in flight at the kill");
                    }
                }
            }
        }

        // ---- clients come back: retry every unacked id, resend every acked one, then send new ones
        long retryStart = System.nanoTime();
        restartedPort.complete(second.httpPort());
        for (Future<?> client : running) {
            client.get(60, TimeUnit.SECONDS);
        }
        long retryMs = ms(retryStart);

        Map<String, Sent> sentInTotal = allSent(senders);
        Map<String, Long> ackedInTotal = new HashMap<>();
        senders.forEach(s -> ackedInTotal.putAll(s.acked));
        Map<String, Audit> finalAudit = auditAll(second, senders, sentInTotal, "after the retries");
        int messagesInHistory = 0;
        for (Audit audit : finalAudit.values()) {
            messagesInHistory += audit.messages.size();
            long distinctIdsSent = sentInTotal.values().stream().filter(s -> s.room().equals(audit.room)).count();
            if (audit.messages.size() != distinctIdsSent) {
                violations.add(audit.room + ": " + audit.messages.size() + " messages in history, but "
                    + distinctIdsSent + " distinct ids were sent to it");
            }
            afterCrash.get(audit.room).seqById.forEach((id, seq) -> {
                if (!seq.equals(audit.seqById.get(id))) {
                    violations.add(audit.room + ": " + id + " was at seq " + seq + " after the crash, at "
                        + audit.seqById.get(id) + " after the retries");
                }
            });
        }
        sentInTotal.forEach((id, sent) -> {
            Long seq = ackedInTotal.get(id);
            Long stored = finalAudit.get(sent.room()).seqById.get(id);
            if (seq == null) {
                violations.add("never acked: " + id + " (" + sent.room() + ")");
            } else if (!seq.equals(stored)) {
                violations.add(id + " acked with seq " + seq + " but stored at " + stored + " in " + sent.room());
            }
        });
        Map<String, long[]> journal = journalRows(dbUrl);
        for (Audit audit : finalAudit.values()) {
            long[] rows = journal.get("Room|" + audit.room);
            int n = audit.messages.size();
            if (rows == null || rows[0] != n || rows[1] != 1 || rows[2] != n) {
                violations.add("journal of " + audit.room + " (rows, min seq, max seq) = "
                    + (rows == null ? "none; persistence ids: " + journal.keySet() : rows[0] + ", " + rows[1] + ", " + rows[2])
                    + ", history has " + n);
            }
        }

        int retriedUnacked = senders.stream().mapToInt(s -> s.retriedUnacked).sum();
        int resentAcked = senders.stream().mapToInt(s -> s.resentAcked).sum();
        int sameSeqReacks = senders.stream().mapToInt(s -> s.sameSeqReacks).sum();
        int unavailable = senders.stream().mapToInt(s -> s.unavailable).sum();
        String summary = "{\"test\":\"crash-safety\",\"node1Pid\":" + first.pid() + ",\"exitCode\":" + exitCode
            + ",\"acksAtKillSignal\":" + acksAtKillSignal + ",\"ackedBeforeKill\":" + ackedBeforeKill
            + ",\"sentBeforeKill\":" + sentBeforeKill + ",\"inFlightAtKill\":" + inFlightAtKill
            + ",\"committedButUnackedAtKill\":" + committedButUnacked
            + ",\"retriedUnacked\":" + retriedUnacked + ",\"resentAcked\":" + resentAcked
            + ",\"sameSeqReacks\":" + sameSeqReacks + ",\"unavailableAnswers\":" + unavailable
            + ",\"distinctIdsSent\":" + sentInTotal.size() + ",\"messagesInHistory\":" + messagesInHistory
            + ",\"rooms\":" + roomSizes(finalAudit)
            + ",\"violations\":" + violations.size()
            + ",\"node1UpMs\":" + firstUpMs + ",\"streamMs\":" + streamMs + ",\"restartMs\":" + restartMs
            + ",\"retryMs\":" + retryMs + ",\"totalMs\":" + ms(t0) + "}";
        System.out.println(summary);

        List<String> found;
        synchronized (violations) {
            found = List.copyOf(violations);
        }
        Files.write(LOG_DIR.resolve("violations.txt"), found, StandardCharsets.UTF_8);
        assertThat(found.size())
            .as("crash-safety violations (all of them in %s); summary %s; the first ones:%n%s", LOG_DIR.resolve("violations.txt"),
                summary, String.join("\n", found.subList(0, Math.min(40, found.size()))))
            .isZero();
        assertThat(sameSeqReacks).as("every resent acked id got its old seq back").isEqualTo(resentAcked);
        assertThat(messagesInHistory).isEqualTo(sentInTotal.size());
    }

    private NodeProcess startNode(String name, Map<String, String> env, List<String> properties) {
        NodeProcess node = NodeProcess.start(name, env, properties, LOG_DIR);
        nodes.add(node);
        node.awaitHealthy(Duration.ofSeconds(40));
        return node;
    }

    private static Map<String, Sent> allSent(List<Sender> senders) {
        Map<String, Sent> all = new HashMap<>();
        senders.forEach(s -> all.putAll(s.sent));
        return all;
    }

    private static String roomSizes(Map<String, Audit> audits) {
        StringBuilder json = new StringBuilder("{");
        audits.values().forEach(a -> json.append(json.length() > 1 ? "," : "").append('"').append(a.room).append("\":")
            .append(a.messages.size()));
        return json.append('}').toString();
    }

    private static long ms(long since) {
        return (System.nanoTime() - since) / 1_000_000;
    }

    // ------------------------------------------------------------------ history audit

    /** A room's whole history as read through the protocol, and its id → seq index. */
    static final class Audit {
        final String room;
        final List<ServerFrame.Message> messages = new ArrayList<>();
        final Map<String, Long> seqById = new HashMap<>();

        Audit(String room) {
            this.room = room;
        }
    }

    private Map<String, Audit> auditAll(NodeProcess node, List<Sender> senders, Map<String, Sent> sent, String when) {
        Set<String> rooms = new LinkedHashSet<>();
        senders.forEach(s -> rooms.addAll(s.rooms));
        String token = new PulseClient(node.base()).login("crash-auditor").token();
        Map<String, Audit> audits = new LinkedHashMap<>();
        try (PulseConnection socket = new PulseClient(node.base()).connect(token)) {
            for (String room : rooms) {
                audits.put(room, audit(socket, room, sent, when));
            }
        }
        return audits;
    }

    /**
     * Pages the room's history backwards (limit 200, {@code before}) and checks it: ascending, seq
     * 1..N without a gap, every id once, every message one that was sent, to this room, with its text.
     */
    private Audit audit(PulseConnection socket, String room, Map<String, Sent> sent, String when) {
        Audit audit = new Audit(room);
        Deque<List<ServerFrame.Message>> pages = new ArrayDeque<>();
        Long before = null;
        boolean complete = false;
        for (int page = 0; page < 500 && !complete; page++) {
            String ref = "h-" + room + "-" + page;
            socket.trySend(new ClientFrame.History(ref, room, before, 200));
            ServerFrame reply = awaitReply(socket, ref, Duration.ofSeconds(15));
            if (!(reply instanceof ServerFrame.History history)) {
                throw new AssertionError("history of " + room + " " + when + " answered " + reply);
            }
            pages.addFirst(history.chatMessages());
            complete = !history.hasMore() || history.chatMessages().isEmpty();
            if (!history.chatMessages().isEmpty()) {
                before = history.chatMessages().get(0).seq();
            }
        }
        if (!complete) {
            violations.add(room + " " + when + ": history paging did not end after 500 pages");
        }
        pages.forEach(audit.messages::addAll);
        for (int i = 0; i < audit.messages.size(); i++) {
            ServerFrame.Message m = audit.messages.get(i);
            if (m.seq() != i + 1) {
                violations.add(room + " " + when + ": position " + i + " holds seq " + m.seq() + " (expected " + (i + 1)
                    + "; gap, duplicate seq or disorder); around it: "
                    + audit.messages.subList(Math.max(0, i - 2), Math.min(audit.messages.size(), i + 3)));
                break;
            }
        }
        for (ServerFrame.Message m : audit.messages) {
            Long other = audit.seqById.putIfAbsent(m.id(), m.seq());
            if (other != null) {
                violations.add("DUPLICATE in " + room + " " + when + ": id " + m.id() + " at seq " + other + " and " + m.seq());
            }
            Sent s = sent.get(m.id());
            if (s == null || !s.room().equals(room) || !s.text().equals(m.text()) || !s.user().equals(m.from())) {
                violations.add(room + " " + when + ": message " + m + " does not match what was sent: " + s);
            }
        }
        return audit;
    }

    private static ServerFrame awaitReply(PulseConnection socket, String ref, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline && !socket.ended()) {
            ServerFrame frame = socket.poll(POLL);
            if (frame instanceof ServerFrame.History h && ref.equals(h.ref())
                || frame instanceof ServerFrame.Error e && ref.equals(e.ref())) {
                return frame;
            }
        }
        throw new AssertionError("no reply to " + ref + " within " + timeout
            + (socket.ended() ? "; closed " + socket.closed().getNow(null) : ""));
    }

    /** Journal rows per persistence id straight from PostgreSQL: {count, min seq, max seq}. */
    private static Map<String, long[]> journalRows(String dbUrl) throws SQLException {
        Map<String, long[]> rows = new HashMap<>();
        try (Connection connection = DriverManager.getConnection(dbUrl, "postgres", "postgres");
             PreparedStatement query = connection.prepareStatement(
                 "SELECT persistence_id, count(*), min(sequence_number), max(sequence_number) FROM event_journal"
                     + " WHERE NOT deleted GROUP BY persistence_id");
             ResultSet result = query.executeQuery()) {
            while (result.next()) {
                rows.put(result.getString(1), new long[] {result.getLong(2), result.getLong(3), result.getLong(4)});
            }
        }
        return rows;
    }

    // ------------------------------------------------------------------ one client

    /**
     * One user streaming into its own room and the shared one with {@link #WINDOW} sends in flight,
     * until the node dies under it; then, on the restarted node, retrying with the same ids and texts.
     * Its collections are confined to its thread; the main thread reads them after {@link #streamEnded}
     * and after the client's future completes.
     */
    final class Sender {
        final String user;
        final String token;
        final List<String> rooms;
        final Map<String, Sent> sent = new LinkedHashMap<>();
        final Map<String, Long> acked = new HashMap<>();
        final Map<String, Long> lastLiveSeq = new HashMap<>();
        Map<String, Long> ackedBeforeKill = Map.of();
        Set<String> inFlightAtKill = Set.of();
        int next;
        int retriedUnacked;
        int resentAcked;
        int sameSeqReacks;
        int unavailable;

        Sender(String user, String token, List<String> rooms) {
            this.user = user;
            this.token = token;
            this.rooms = rooms;
        }

        void run(int firstPort) {
            try {
                stream(firstPort);
            } catch (RuntimeException | AssertionError e) {
                violations.add(user + " before the kill: " + e);
            } finally {
                streamEnded.countDown();
            }
            int port;
            try {
                port = restartedPort.get(90, TimeUnit.SECONDS);
            } catch (Exception e) {
                return; // the test failed or gave up before the restart
            }
            retry(port);
        }

        private String newMessage() {
            int n = next++;
            String id = user + "-" + n;
            sent.put(id, new Sent(user, rooms.get(n % rooms.size()), "message " + n + " from " + user));
            return id;
        }

        /** Sends new messages as fast as acks return until the connection dies (the kill). */
        private void stream(int port) {
            Set<String> inFlight = new LinkedHashSet<>();
            Deque<String> again = new ArrayDeque<>();
            Map<String, Integer> attempts = new HashMap<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            try (PulseConnection socket = new PulseClient(URI.create("http://127.0.0.1:" + port)).connect(token)) {
                while (!socket.ended()) {
                    if (System.nanoTime() > deadline) {
                        violations.add(user + ": the node was not killed within 60 s");
                        break;
                    }
                    while (inFlight.size() < WINDOW) {
                        String id = again.isEmpty() ? newMessage() : again.poll();
                        int attempt = attempts.merge(id, 1, Integer::sum);
                        inFlight.add(id);
                        Sent s = sent.get(id);
                        if (!socket.trySend(new ClientFrame.Send(id + "#" + attempt, s.room(), id, s.text()))) {
                            break;
                        }
                    }
                    ServerFrame frame = socket.poll(POLL);
                    if (frame != null) {
                        handle(frame, inFlight, again);
                    }
                }
            }
            inFlight.addAll(again);
            ackedBeforeKill = Map.copyOf(acked);
            inFlightAtKill = Set.copyOf(inFlight);
        }

        /**
         * On the restarted node: every unacked id again (same id, same text), then every acked id once
         * more (it must get its old seq), then {@link #NEW_AFTER_RESTART} new messages; until all are acked.
         */
        private void retry(int port) {
            Deque<String> queue = new ArrayDeque<>();
            sent.keySet().stream().filter(id -> !acked.containsKey(id)).forEach(queue::add);
            retriedUnacked = queue.size();
            queue.addAll(ackedBeforeKill.keySet().stream().sorted().toList());
            resentAcked = ackedBeforeKill.size();
            for (int i = 0; i < NEW_AFTER_RESTART; i++) {
                queue.add(newMessage());
            }
            lastLiveSeq.clear();
            Map<String, Integer> attempts = new HashMap<>();
            Set<String> inFlight = new LinkedHashSet<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(50).toNanos();
            try (PulseConnection socket = new PulseClient(URI.create("http://127.0.0.1:" + port)).connect(token)) {
                while (!queue.isEmpty() || !inFlight.isEmpty()) {
                    if (socket.ended()) {
                        violations.add(user + ": connection to the restarted node closed: " + socket.closed().getNow(null));
                        return;
                    }
                    if (System.nanoTime() > deadline) {
                        violations.add(user + ": retries not all acked within 50 s; " + queue.size() + " queued, in flight "
                            + inFlight);
                        return;
                    }
                    while (inFlight.size() < WINDOW && !queue.isEmpty()) {
                        String id = queue.poll();
                        int attempt = attempts.merge(id, 1, Integer::sum);
                        Sent s = sent.get(id);
                        inFlight.add(id);
                        socket.trySend(new ClientFrame.Send(id + "#" + attempt, s.room(), id, s.text()));
                    }
                    ServerFrame frame = socket.poll(POLL);
                    if (frame != null) {
                        handle(frame, inFlight, queue);
                    }
                }
            } catch (RuntimeException e) {
                violations.add(user + " after the restart: " + e);
            }
        }

        private void handle(ServerFrame frame, Set<String> inFlight, Deque<String> again) {
            if (frame instanceof ServerFrame.Ack ack) {
                Sent s = sent.get(ack.id());
                if (s == null || !s.room().equals(ack.room())) {
                    violations.add(user + ": ack " + ack + " for an id it did not send to that room");
                }
                Long earlier = acked.putIfAbsent(ack.id(), ack.seq());
                if (earlier != null) {
                    if (earlier == ack.seq()) {
                        sameSeqReacks++;
                    } else {
                        violations.add("DUPLICATE: " + ack.id() + " in " + ack.room() + " acked with seq " + earlier
                            + ", then again with seq " + ack.seq());
                    }
                }
                inFlight.remove(ack.id());
                if (totalAcks.incrementAndGet() >= KILL_AFTER_ACKS) {
                    killNow.countDown();
                }
            } else if (frame instanceof ServerFrame.Error error) {
                String ref = error.ref() == null ? "" : error.ref();
                String id = ref.contains("#") ? ref.substring(0, ref.indexOf('#')) : ref;
                if (ErrorCode.UNAVAILABLE.wire().equals(error.code()) && inFlight.remove(id)) {
                    unavailable++;
                    again.add(id); // the store could not take it: the same id again later
                } else {
                    violations.add(user + ": unexpected " + error);
                }
            } else if (frame instanceof ServerFrame.Message message) {
                Long last = lastLiveSeq.put(message.room(), message.seq());
                if (last != null && message.seq() <= last) {
                    violations.add(user + ": live message of " + message.room() + " with seq " + message.seq()
                        + " after seq " + last);
                }
            }
        }
    }
}
