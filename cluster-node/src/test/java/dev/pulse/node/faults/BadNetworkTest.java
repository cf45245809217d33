package dev.pulse.node.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.typesafe.config.ConfigFactory;
import dev.pulse.node.TestNode;
import dev.pulse.node.testkit.NetworkNamespace;
import dev.pulse.node.testkit.ResilientChatClient;
import dev.pulse.protocol.ClientFrame;
import dev.pulse.protocol.ServerFrame;
import dev.pulse.protocol.client.PulseClient;
import dev.pulse.protocol.client.PulseConnection;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clients that follow the protocol (resend unacked sends with the same id, rejoin with {@code since})
 * reach a node through a bad network ({@link FaultProxy}; packet loss through iptables in a network
 * namespace) and still end with every acked message exactly once, in order, equal to the history;
 * a black-holed connection is found dead by the server within its heartbeat bound.
 */
class BadNetworkTest {

    private static final long HEARTBEAT_MS = 500;
    /** The server closes a session silent for longer than this. */
    private static final long SILENCE_BOUND_MS = HEARTBEAT_MS * 5 / 2;
    private static final Duration T = Duration.ofSeconds(10);

    @TempDir
    static Path data;
    private static TestNode node;

    @BeforeAll
    static void startNode() {
        node = TestNode.start(data, Map.of("PULSE_HEARTBEAT_MS", String.valueOf(HEARTBEAT_MS)),
            ConfigFactory.parseString("pulse.limits.send-burst = 100000"));
    }

    @AfterAll
    static void stopNode() {
        if (node != null) {
            node.close();
        }
    }

    @Test
    void latencyAndJitter() throws Exception {
        try (FaultProxy proxy = FaultProxy.to(node.httpPort()).latency(50, 30)) {
            Outcome outcome = exchange("latency", via(proxy), 3, 50, 100, clients -> {});
            assertThat(outcome.minAckMillis()).as("every ack took at least a round trip of 2 x (50 - 30) ms")
                .isGreaterThanOrEqualTo(40);
        }
    }

    @Test
    void bandwidthCap() throws Exception {
        try (FaultProxy proxy = FaultProxy.to(node.httpPort())) {
            int rate = 32 * 1024;
            proxy.bandwidth(rate);
            // 150 messages of 600 characters: each client downloads more than 90 KB through its own capped
            // link, which takes at least 2.7 s (the proxy's first 1 KiB slice goes out at once)
            Outcome outcome = exchange("bandwidth", via(proxy), 3, 50, 600, clients -> {});
            assertThat(outcome.elapsedMs()).as("the cap slowed the exchange down")
                .isGreaterThanOrEqualTo((150L * 600 - 1024) * 1000 / rate);
        }
    }

    @Test
    void randomResets() throws Exception {
        try (FaultProxy proxy = FaultProxy.to(node.httpPort()).resetProbability(0.02)) {
            Outcome outcome = exchange("resets", via(proxy), 3, 50, 100, clients -> {});
            assertThat(proxy.randomResets()).as("the proxy reset connections").isPositive();
            assertThat(outcome.reconnects()).as("the clients reconnected").isPositive();
        }
    }

    /**
     * Every proxied connection is black-holed (no data, no FIN, no RST) for longer than the silence
     * bound: a client on a direct connection sees each stalled user go offline within the bound
     * (and not before: nothing leaked through the proxy), then come back once the network heals.
     */
    @Test
    void stallLongerThanTheSilenceBound() throws Exception {
        String room = "stall";
        ScheduledExecutorService pinger = Executors.newSingleThreadScheduledExecutor();
        PulseConnection watcher = node.client().connectAs("stall-watcher");
        try (FaultProxy proxy = FaultProxy.to(node.httpPort())) {
            watcher.send(new ClientFrame.Join("w", room, null));
            watcher.await(ServerFrame.Joined.class, T);
            pinger.scheduleAtFixedRate(() -> {
                try {
                    watcher.send(new ClientFrame.Ping("wp"));
                } catch (RuntimeException e) {
                    // the watcher's failure shows as a missing presence below
                }
            }, 0, 200, TimeUnit.MILLISECONDS);
            Map<String, Long> offlineAfterMs = new LinkedHashMap<>();
            long[] stallMs = new long[1];
            Outcome outcome = exchange(room, via(proxy), 3, 50, 100, clients -> {
                eventually(T, () -> clients.stream().allMatch(c -> c.acked().size() >= 10), () -> "no progress before the stall");
                assertThat(clients).allMatch(c -> c.deadDetected() == 0, "no connection lost before the stall");
                List<String> users = clients.stream().map(ResilientChatClient::user).toList();
                while (poll(watcher, ServerFrame.Presence.class) != null) {
                    // forget presence changes from before the stall
                }
                long start = System.nanoTime();
                proxy.stallAll();
                long deadline = start + SILENCE_BOUND_MS * 1_000_000 + T.toNanos();
                while (offlineAfterMs.size() < users.size()) {
                    ServerFrame.Presence offline = watcher.await(ServerFrame.Presence.class,
                        p -> users.contains(p.user()) && "offline".equals(p.status()),
                        Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
                    offlineAfterMs.putIfAbsent(offline.user(), (System.nanoTime() - start) / 1_000_000);
                }
                // Keep the black hole until every client has given up its dead connection too (its own
                // 3 s bound): their reconnects then hang in the stalled handshake until the network heals.
                eventually(T, () -> clients.stream().allMatch(c -> c.deadDetected() >= 1), () -> "clients did not notice the stall");
                stallMs[0] = (System.nanoTime() - start) / 1_000_000;
                proxy.resume();
                for (String user : users) {
                    watcher.await(ServerFrame.Presence.class, p -> user.equals(p.user()) && "online".equals(p.status()), T);
                }
            });
            System.out.println("{\"test\":\"bad-network\",\"condition\":\"stall-detection\",\"silenceBoundMs\":" + SILENCE_BOUND_MS
                + ",\"stallMs\":" + stallMs[0] + ",\"offlineAfterMs\":" + json(offlineAfterMs) + "}");
            assertThat(offlineAfterMs.values()).as("offline within 2.5 x heartbeat + 750 ms of the stall")
                .allMatch(ms -> ms <= SILENCE_BOUND_MS + 750);
            assertThat(offlineAfterMs.values()).as("offline because of silence, not because something leaked")
                .allMatch(ms -> ms >= SILENCE_BOUND_MS - 400);
            assertThat(outcome.resends()).as("unacked sends were retried after the stall").isPositive();
        } finally {
            pinger.shutdownNow();
            watcher.close();
        }
    }

    /**
     * Real packet loss: a network namespace with a veth pair in a private /30 and an iptables rule that
     * drops 5 % of the packets entering it. The clients (in this JVM) reach a relay inside the
     * namespace, which reaches the node back through the veth pair, so both directions cross the lossy
     * link: client -> [veth, lossy] -> relay in namespace -> [veth] -> host-side relay -> node
     * (and the answers: node -> host-side relay -> [veth, lossy] -> relay -> [veth] -> client).
     */
    @Test
    void packetLossInANetworkNamespace() throws Exception {
        Assumptions.assumeTrue(NetworkNamespace.available(), "needs root, ip and iptables to create a network namespace");
        Process relay = null;
        FaultProxy hostSide = null;
        try (NetworkNamespace ns = NetworkNamespace.create("pl")) {
            try {
                hostSide = new FaultProxy(ns.hostAddress(), new InetSocketAddress("127.0.0.1", node.httpPort()));
                String classes = Path.of(FaultProxy.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
                String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
                List<String> command = new ArrayList<>(ns.launcher());
                command.addAll(List.of(java, "-Xmx64m", "-XX:+UseSerialGC", "-cp", classes, FaultProxy.class.getName(),
                    ns.address(), ns.hostAddress(), String.valueOf(hostSide.port())));
                relay = new ProcessBuilder(command).redirectErrorStream(true).start();
                BufferedReader out = new BufferedReader(new InputStreamReader(relay.getInputStream(), StandardCharsets.UTF_8));
                String line = CompletableFuture.supplyAsync(() -> {
                    try {
                        return out.readLine();
                    } catch (IOException e) {
                        return String.valueOf(e);
                    }
                }).get(20, TimeUnit.SECONDS);
                assertThat(line).as("relay in the namespace started").startsWith("PORT ");
                int relayPort = Integer.parseInt(line.substring(5).trim());
                ns.exec("iptables", "-A", "INPUT", "-m", "statistic", "--mode", "random", "--probability", "0.05", "-j", "DROP");

                Outcome outcome = exchange("loss", new PulseClient(URI.create("http://" + ns.address() + ":" + relayPort)), 3, 50, 100, c -> {});
                long dropped = Long.parseLong(ns.exec("iptables", "-L", "INPUT", "-v", "-n", "-x")
                    .lines().filter(l -> l.contains("statistic")).findFirst().orElseThrow().trim().split("\\s+")[0]);
                System.out.println("{\"test\":\"bad-network\",\"condition\":\"loss-netns\",\"packetsDropped\":" + dropped
                    + ",\"reconnects\":" + outcome.reconnects() + "}");
                assertThat(dropped).as("iptables dropped packets").isPositive();
            } finally {
                if (relay != null) {
                    relay.getOutputStream().close(); // the relay stops when its standard input closes
                    if (!relay.waitFor(5, TimeUnit.SECONDS)) {
                        relay.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                    }
                }
                if (hostSide != null) {
                    hostSide.close();
                }
            }
        }
    }

    // ------------------------------------------------------------------ the exchange

    record Outcome(long elapsedMs, int reconnects, int resends, int deadDetected, long minAckMillis) {}

    interface Midway {
        void during(List<ResilientChatClient> clients) throws Exception;
    }

    /**
     * {@code clientCount} users each send {@code messages} messages to {@code room} through
     * {@code via}; {@code midway} runs once they have started. Then every client must have seen exactly
     * seq 1..N, each acked id once at its acked seq, equal to the room's paged history.
     */
    private static Outcome exchange(String room, PulseClient via, int clientCount, int messages, int textLength,
                                    Midway midway) throws Exception {
        long started = System.nanoTime();
        int total = clientCount * messages;
        List<ResilientChatClient> clients = new ArrayList<>();
        try {
            for (int i = 0; i < clientCount; i++) {
                String user = room + "-" + (char) ('a' + i);
                String token = node.client().login(user).token(); // logged in once, directly
                clients.add(new ResilientChatClient(user, token, via, room, messages, textLength).start());
            }
            midway.during(clients);
            eventually(Duration.ofSeconds(30), () -> clients.stream().allMatch(c -> c.allAcked() && c.highestSeq() >= total),
                () -> "not done: " + clients.stream().map(c -> c.user() + " acked " + c.acked().size() + ", seen up to "
                    + c.highestSeq() + ", violations " + c.violations() + ", drops " + c.dropReasons()).toList());
        } finally {
            for (ResilientChatClient client : clients) {
                client.close();
            }
        }
        long elapsedMs = (System.nanoTime() - started) / 1_000_000;

        Map<String, Long> acked = new HashMap<>();
        Map<String, String> texts = new HashMap<>();
        for (ResilientChatClient client : clients) {
            assertThat(client.violations()).as(client.user() + " saw a protocol violation").isEmpty();
            acked.putAll(client.acked());
            texts.putAll(client.sentTexts());
        }
        assertThat(acked).hasSize(total);
        List<Long> oneToN = LongStream.rangeClosed(1, total).boxed().toList();
        List<String> history = history(room).stream().map(BadNetworkTest::describe).toList();
        assertThat(history).as("history of " + room).hasSize(total);
        for (ResilientChatClient client : clients) {
            List<ServerFrame.Message> seen = client.observed();
            assertThat(seen).extracting(ServerFrame.Message::seq).as(client.user() + " saw seq 1..N once each, in order")
                .containsExactlyElementsOf(oneToN);
            assertThat(seen).extracting(ServerFrame.Message::id).as(client.user() + " saw every acked id exactly once")
                .doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(acked.keySet());
            assertThat(seen).as(client.user() + ": each message at its acked seq, with its text")
                .allMatch(m -> acked.get(m.id()) == m.seq() && texts.get(m.id()).equals(m.text())
                    && m.id().startsWith(m.from() + "-"));
            assertThat(seen.stream().map(BadNetworkTest::describe).toList()).as(client.user() + " saw the history")
                .containsExactlyElementsOf(history);
        }

        int reconnects = clients.stream().mapToInt(c -> c.connects() - 1).sum();
        int resends = clients.stream().mapToInt(ResilientChatClient::resends).sum();
        int resendsCommitted = clients.stream().mapToInt(ResilientChatClient::resendsAlreadyCommitted).sum();
        int dead = clients.stream().mapToInt(ResilientChatClient::deadDetected).sum();
        long minAck = clients.stream().mapToLong(ResilientChatClient::minAckMillis).min().orElseThrow();
        Map<String, Long> reasons = clients.stream().flatMap(c -> c.dropReasons().stream())
            .collect(Collectors.groupingBy(r -> r.replaceAll("[0-9]+", "#").replaceAll("\"", "'"), Collectors.counting()));
        System.out.println("{\"test\":\"bad-network\",\"condition\":\"" + room + "\",\"clients\":" + clientCount
            + ",\"messages\":" + total + ",\"ms\":" + elapsedMs + ",\"reconnects\":" + reconnects + ",\"resends\":" + resends
            + ",\"resendsAlreadyCommitted\":" + resendsCommitted
            + ",\"deadDetected\":" + dead + ",\"minAckMs\":" + minAck + ",\"drops\":" + json(reasons) + "}");
        return new Outcome(elapsedMs, reconnects, resends, dead, minAck);
    }

    /** The whole room, paged newest to oldest with {@code before}, 50 at a time. */
    private static List<ServerFrame.Message> history(String room) {
        List<ServerFrame.Message> all = new ArrayList<>();
        try (PulseConnection reader = node.client().connectAs(room + "-auditor")) {
            Long before = null;
            for (int page = 0; page < 100; page++) {
                String ref = "h" + page;
                reader.send(new ClientFrame.History(ref, room, before, 50));
                ServerFrame.History history = reader.await(ServerFrame.History.class, h -> ref.equals(h.ref()), T);
                all.addAll(0, history.chatMessages());
                if (!history.hasMore() || history.chatMessages().isEmpty()) {
                    return all;
                }
                before = history.chatMessages().get(0).seq();
            }
        }
        throw new AssertionError("history of " + room + " did not end within 100 pages");
    }

    private static String describe(ServerFrame.Message m) {
        return m.seq() + " " + m.id() + " " + m.from() + " " + m.ts() + " " + m.text();
    }

    // ------------------------------------------------------------------ helpers

    private static PulseClient via(FaultProxy proxy) {
        return new PulseClient(URI.create("http://127.0.0.1:" + proxy.port()));
    }

    private static void eventually(Duration timeout, BooleanSupplier condition, Supplier<String> failure) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("within " + timeout + ": " + failure.get());
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20)); // poll interval
        }
    }

    private static <F extends ServerFrame> F poll(PulseConnection connection, Class<F> type) {
        if (connection.pending().stream().noneMatch(type::isInstance)) {
            return null;
        }
        return connection.await(type, Duration.ZERO);
    }

    private static String json(Map<String, Long> values) {
        return values.entrySet().stream().map(e -> "\"" + e.getKey() + "\":" + e.getValue())
            .collect(Collectors.joining(",", "{", "}"));
    }
}
