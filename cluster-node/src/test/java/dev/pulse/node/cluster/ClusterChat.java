package dev.pulse.node.cluster;

import dev.pulse.node.testkit.ResilientChatClient;
import dev.pulse.node.testkit.Wire;
import dev.pulse.protocol.ServerFrame;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * Protocol-following clients chatting across a {@link NodeCluster}: {@code rooms} rooms, each with
 * {@code perRoom} members spread over the nodes (member k of a room starts on node k mod size), each
 * sending steadily ({@link ResilientChatClient.Behaviour#steady}). {@link #finishAndAudit} stops them
 * and checks what they were told against what the cluster stored:
 * <ul>
 *   <li>every acked message is in the room's history exactly once, at the seq of its ack (none lost,
 *       none stored twice), and no seq was acked for two different messages (no second live copy of a
 *       room);</li>
 *   <li>each room's history is seq 1..N, the same read through every running node;</li>
 *   <li>every client's live view was gap-free and in order across its reconnects (the client checks
 *       that as it goes) and equals the history it covers, up to the room's last seq.</li>
 * </ul>
 */
final class ClusterChat implements AutoCloseable {

    private final NodeCluster cluster;
    private final List<String> rooms = new ArrayList<>();
    private final List<ResilientChatClient> clients = new ArrayList<>();

    ClusterChat(NodeCluster cluster, String prefix, int roomCount, int perRoom, Duration pace) {
        this.cluster = cluster;
        for (int r = 0; r < roomCount; r++) {
            String room = prefix + "r" + r;
            rooms.add(room);
            for (int k = 0; k < perRoom; k++) {
                String user = prefix + "c" + r + "." + k;
                clients.add(new ResilientChatClient(user, cluster.token(user), cluster.clients(), k % cluster.size(), room,
                    Integer.MAX_VALUE, 24, ResilientChatClient.Behaviour.steady(pace)));
            }
        }
        clients.forEach(ResilientChatClient::start);
    }

    List<String> rooms() {
        return rooms;
    }

    List<ResilientChatClient> clients() {
        return clients;
    }

    /** Waits until every client has had at least {@code count} acks after {@code sinceNanos}. */
    void awaitAcks(int count, long sinceNanos, Duration timeout) {
        Predicate<ResilientChatClient> enough = c -> c.acks().stream().filter(a -> a.atNanos() >= sinceNanos).count() >= count;
        try {
            Wire.awaitUntil("every client acked " + count + " times", timeout, () -> clients.stream().allMatch(enough));
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; behind: " + clients.stream().filter(enough.negate())
                .map(c -> c.user() + " (" + c.room() + ", acks " + c.acks().size() + ", drops " + tail(c.dropReasons()) + ")")
                .toList() + "; violations: " + violations(), e);
        }
    }

    /** The longest time between two consecutive acks of each client, in ms (from its first ack on). */
    Map<String, Long> longestAckGapsMs() {
        Map<String, Long> gaps = new LinkedHashMap<>();
        for (ResilientChatClient client : clients) {
            long longest = 0;
            List<ResilientChatClient.AckEvent> acks = client.acks();
            for (int i = 1; i < acks.size(); i++) {
                longest = Math.max(longest, acks.get(i).atNanos() - acks.get(i - 1).atNanos());
            }
            gaps.put(client.user(), longest / 1_000_000);
        }
        return gaps;
    }

    /** The client with the longest wait between two acks, and what its connection went through meanwhile. */
    String longestGapTrace() {
        ResilientChatClient worst = null;
        long longest = -1;
        long from = 0;
        long to = 0;
        for (ResilientChatClient client : clients) {
            List<ResilientChatClient.AckEvent> acks = client.acks();
            for (int i = 1; i < acks.size(); i++) {
                long gap = acks.get(i).atNanos() - acks.get(i - 1).atNanos();
                if (gap > longest) {
                    longest = gap;
                    worst = client;
                    from = acks.get(i - 1).atNanos();
                    to = acks.get(i).atNanos();
                }
            }
        }
        return worst == null ? "no acks" : "longest wait: " + worst.user() + " (" + worst.room() + ") " + longest / 1_000_000
            + " ms: " + worst.trace(from, to);
    }

    /** The client that got acks again last after {@code eventNanos}, and what its connection went through until then. */
    String latestAckedAgainTrace(long eventNanos) {
        Map<String, Long> after = ackedAgainAfterMs(eventNanos);
        ResilientChatClient latest = null;
        long latestMs = Long.MIN_VALUE;
        for (ResilientChatClient client : clients) {
            long ms = after.get(client.user());
            if (ms < 0 || ms > latestMs) {
                latest = client;
                latestMs = ms < 0 ? Long.MAX_VALUE : ms;
            }
        }
        if (latest == null) {
            return "no clients";
        }
        // from the ack before the wait (or the event) to the ack that ended it (or now)
        long from = eventNanos;
        long until = System.nanoTime();
        List<ResilientChatClient.AckEvent> acks = latest.acks();
        for (int i = 1; i < acks.size() && latestMs != Long.MAX_VALUE; i++) {
            if ((acks.get(i).atNanos() - eventNanos) / 1_000_000 == latestMs) {
                from = Math.min(from, acks.get(i - 1).atNanos());
                until = acks.get(i).atNanos();
            }
        }
        return "acked again last: " + latest.user() + " (" + latest.room() + ") " + (latestMs == Long.MAX_VALUE ? "never" : latestMs + " ms")
            + " after the event (at +" + (eventNanos - from) / 1_000_000 + "ms): " + latest.trace(from, until);
    }

    /**
     * For each client, when (ms after {@code eventNanos}) it got acks again: the end of its longest wait
     * between two acks among those that end after the event; -1 when it had no ack after the event.
     */
    Map<String, Long> ackedAgainAfterMs(long eventNanos) {
        Map<String, Long> after = new LinkedHashMap<>();
        for (ResilientChatClient client : clients) {
            List<ResilientChatClient.AckEvent> acks = client.acks();
            long longest = -1;
            long end = -1;
            for (int i = 1; i < acks.size(); i++) {
                long gap = acks.get(i).atNanos() - acks.get(i - 1).atNanos();
                if (acks.get(i).atNanos() >= eventNanos && gap > longest) {
                    longest = gap;
                    end = acks.get(i).atNanos();
                }
            }
            after.put(client.user(), end < 0 ? -1 : (end - eventNanos) / 1_000_000);
        }
        return after;
    }

    List<String> violations() {
        return clients.stream().flatMap(c -> c.violations().stream()).toList();
    }

    /** What {@link #finishAndAudit} found; {@link #problems} empty means all is well. */
    record Audit(int acked, int stored, long lost, long storedTwice, long seqConflicts, long liveHoles, long liveDuplicates,
                 int reconnects, int resends, List<String> problems) {

        String summary() {
            return "acked=" + acked + " stored=" + stored + " lost=" + lost + " storedTwice=" + storedTwice
                + " seqAckedTwice=" + seqConflicts + " liveHoles=" + liveHoles + " liveDuplicates=" + liveDuplicates
                + " reconnects=" + reconnects + " resends=" + resends;
        }
    }

    /**
     * Stops new messages, waits until every message is acked and every client has seen its room up to
     * the last seq, then compares everything with the history read through every running node.
     */
    Audit finishAndAudit(Duration timeout) {
        clients.forEach(ResilientChatClient::finish);
        List<String> problems = new ArrayList<>();
        try {
            Wire.awaitUntil("every message acked", timeout, () -> clients.stream().allMatch(ResilientChatClient::allAcked));
        } catch (AssertionError e) {
            problems.add("not all acked within " + timeout + ": " + clients.stream().filter(c -> !c.allAcked())
                .map(c -> c.user() + " drops " + tail(c.dropReasons())).toList());
        }
        Map<String, Long> lastAckedSeq = new HashMap<>();
        clients.forEach(c -> c.acked().values().forEach(seq -> lastAckedSeq.merge(c.room(), seq, Math::max)));
        try {
            Wire.awaitUntil("every client saw its room up to the last acked seq", timeout, () -> clients.stream()
                .allMatch(c -> c.highestSeq() >= lastAckedSeq.getOrDefault(c.room(), 0L)));
        } catch (AssertionError e) {
            problems.add("live views did not catch up within " + timeout + ": " + clients.stream()
                .filter(c -> c.highestSeq() < lastAckedSeq.getOrDefault(c.room(), 0L))
                .map(c -> c.user() + " at " + c.highestSeq() + " of " + lastAckedSeq.get(c.room())).toList());
        }
        close();

        // Acks: one message per (room, seq), the same seq for an id every time (the clients check the latter).
        Map<String, String> idBySeq = new HashMap<>();
        Map<String, Long> ackedSeq = new HashMap<>();
        Map<String, String> texts = new HashMap<>();
        long seqConflicts = 0;
        for (ResilientChatClient client : clients) {
            texts.putAll(client.sentTexts());
            for (Map.Entry<String, Long> ack : client.acked().entrySet()) {
                ackedSeq.put(ack.getKey(), ack.getValue());
                String other = idBySeq.putIfAbsent(client.room() + "#" + ack.getValue(), ack.getKey());
                if (other != null && !other.equals(ack.getKey())) {
                    seqConflicts++;
                    problems.add("TWO MESSAGES ACKED AS ONE SEQ: " + client.room() + " seq " + ack.getValue() + " acked for "
                        + other + " and for " + ack.getKey());
                }
            }
        }

        long lost = 0;
        long storedTwice = 0;
        int stored = 0;
        List<Integer> readers = cluster.running();
        for (String room : rooms) {
            List<ServerFrame.Message> history = cluster.history(readers.get(0), room);
            stored += history.size();
            for (int via : readers.subList(1, readers.size())) {
                List<ServerFrame.Message> again = cluster.history(via, room);
                if (!again.equals(history)) {
                    problems.add("history of " + room + " through " + cluster.node(via).name() + " (" + again.size()
                        + " messages) differs from through " + cluster.node(readers.get(0)).name() + " (" + history.size() + ")");
                }
            }
            for (int i = 0; i < history.size(); i++) {
                if (history.get(i).seq() != i + 1) {
                    problems.add("history of " + room + " has seq " + history.get(i).seq() + " at position " + (i + 1));
                    break;
                }
            }
            Map<String, List<Long>> seqsById = history.stream()
                .collect(Collectors.groupingBy(ServerFrame.Message::id, Collectors.mapping(ServerFrame.Message::seq, Collectors.toList())));
            for (Map.Entry<String, List<Long>> entry : seqsById.entrySet()) {
                if (entry.getValue().size() > 1) {
                    storedTwice++;
                    problems.add("STORED TWICE: " + entry.getKey() + " in " + room + " at seqs " + entry.getValue());
                }
            }
            for (ResilientChatClient client : clients) {
                if (!client.room().equals(room)) {
                    continue;
                }
                for (Map.Entry<String, Long> ack : client.acked().entrySet()) {
                    List<Long> at = seqsById.get(ack.getKey());
                    if (at == null) {
                        lost++;
                        problems.add("LOST: " + ack.getKey() + " acked as seq " + ack.getValue() + " in " + room
                            + ", not in history");
                    } else if (!at.contains(ack.getValue())) {
                        problems.add("MOVED: " + ack.getKey() + " acked as seq " + ack.getValue() + " in " + room
                            + ", in history at " + at);
                    }
                }
                List<ServerFrame.Message> seen = client.observed();
                for (int i = 0; i < seen.size(); i++) {
                    ServerFrame.Message live = seen.get(i);
                    ServerFrame.Message kept = live.seq() >= 1 && live.seq() <= history.size() ? history.get((int) live.seq() - 1) : null;
                    if (!live.equals(kept)) {
                        problems.add(client.user() + " saw " + live + " live, history has " + kept);
                        break;
                    }
                }
                if (client.highestSeq() != history.size()) {
                    problems.add(client.user() + " saw " + room + " up to seq " + client.highestSeq() + ", history has "
                        + history.size());
                }
            }
            for (ServerFrame.Message message : history) {
                String text = texts.get(message.id());
                if (text == null || !text.equals(message.text()) || !message.id().startsWith(message.from() + "-")) {
                    problems.add("history of " + room + " has " + message + ", which no client sent so");
                }
            }
        }
        problems.addAll(violations());
        if (problems.size() > 30) {
            int more = problems.size() - 30;
            problems.subList(30, problems.size()).clear();
            problems.add("... and " + more + " more");
        }
        return new Audit(ackedSeq.size(), stored, lost, storedTwice, seqConflicts,
            clients.stream().mapToLong(ResilientChatClient::holes).sum(),
            clients.stream().mapToLong(ResilientChatClient::duplicates).sum(),
            clients.stream().mapToInt(c -> c.connects() - 1).sum(),
            clients.stream().mapToInt(ResilientChatClient::resends).sum(),
            problems);
    }

    private static List<String> tail(List<String> list) {
        return list.subList(Math.max(0, list.size() - 3), list.size());
    }

    /** Stops every client (idempotent). */
    @Override
    public void close() {
        for (ResilientChatClient client : clients) {
            try {
                client.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The entries over {@code limitMs} or negative (never). */
    static Map<String, Long> over(Map<String, Long> values, long limitMs) {
        Map<String, Long> over = new LinkedHashMap<>();
        values.forEach((key, ms) -> {
            if (ms < 0 || ms > limitMs) {
                over.put(key, ms);
            }
        });
        return over;
    }

    /** Ms statistics of a set of values: "p50=… max=…"; a negative value is "never", later than any other. */
    static String stats(Map<String, Long> values) {
        List<Long> sorted = values.values().stream().map(ms -> ms < 0 ? Long.MAX_VALUE : ms).sorted().toList();
        if (sorted.isEmpty()) {
            return "none";
        }
        return "p50=" + ms(sorted.get(sorted.size() / 2)) + " max=" + ms(sorted.get(sorted.size() - 1));
    }

    private static String ms(long value) {
        return value == Long.MAX_VALUE ? "never" : value + "ms";
    }
}
