package dev.pulse.node.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigResolveOptions;
import dev.pulse.node.TestDatabase;
import dev.pulse.node.testkit.NodeProcess;
import dev.pulse.node.testkit.Wire;
import dev.pulse.protocol.ClientFrame;
import dev.pulse.protocol.ServerFrame;
import dev.pulse.protocol.client.PulseClient;
import dev.pulse.protocol.client.PulseConnection;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * A cluster of real node processes ({@link NodeProcess}, one JVM each) on one PostgreSQL database,
 * every node a seed (PULSE_SEED_NODES lists all of them in order, so the first one forms the cluster
 * and a restarted node joins the others). Nodes keep their ports for life: {@link #startAgain} brings
 * a node back where it was. Logs go to {@code target/cluster-tests/<name>/node-<i>.log}.
 * <p>What the cluster thinks of itself is read from Pekko Management on each node's management
 * port: {@code /cluster/members} (members, their status, the unreachable ones, the oldest) and
 * {@code /cluster/shards/Room} (the room shards a node hosts).
 */
final class NodeCluster implements AutoCloseable {

    static final String TOKEN_SECRET = "cluster-test-secret-of-at-least-32-bytes";
    /** The clients send a few messages a second each: the per-user send budget is not what is tested here. */
    static final List<String> PROPERTIES = List.of("pulse.limits.send-burst=100000", "pulse.limits.send-window=1s");
    /**
     * C1 only: on a 2-core machine three JVMs' C2 compilers took ~27 s to start a cluster and starved
     * the nodes' failure detectors afterwards ("heartbeat interval is growing too large").
     */
    static final List<String> JVM_OPTIONS = List.of("-XX:TieredStopAtLevel=1");
    static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    /** The nodes' number of shards (cluster.conf): room r lives in shard |hash(r) mod it|. */
    private static final int NUMBER_OF_SHARDS = ConfigFactory.parseResources("cluster.conf")
        .resolve(ConfigResolveOptions.defaults().setAllowUnresolved(true))
        .getInt("pekko.cluster.sharding.number-of-shards");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Where one node runs: the address it binds, words before {@code java} (e.g. {@code ip netns exec}), extra env. */
    record Placement(String host, List<String> launcher, Map<String, String> env) {

        static Placement loopback() {
            return new Placement("127.0.0.1", List.of(), Map.of());
        }
    }

    private final String name;
    private final Path dir;
    private final List<NodeProcess> nodes = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    /** Kills the nodes should the test JVM end without closing the cluster (a timeout, Ctrl-C). */
    private final Thread killOnExit = new Thread(() -> nodes.forEach(NodeProcess::close), "kill-cluster-nodes");

    private NodeCluster(String name, Path dir) {
        this.name = name;
        this.dir = dir;
    }

    /** {@code size} nodes on 127.0.0.1 and a database of their own; returns when all are Up members. */
    static NodeCluster start(String name, int size) {
        return start(name, IntStream.range(0, size).mapToObj(i -> Placement.loopback()).toList(), null);
    }

    /**
     * @param database PULSE_DB_* variables; null for a new database on the test run's PostgreSQL
     */
    static NodeCluster start(String name, List<Placement> placements, Map<String, String> database) {
        Path dir = Path.of(System.getProperty("user.dir"), "target", "cluster-tests", name);
        deleteRecursively(dir);
        NodeCluster cluster = new NodeCluster(name, dir);
        Runtime.getRuntime().addShutdownHook(cluster.killOnExit);
        try {
            Files.createDirectories(dir);
            Map<String, String> db = database != null ? database : TestDatabase.postgresEnvironment(dir.resolve("data"));
            List<NodeProcess.Ports> ports = placements.stream().map(p -> NodeProcess.Ports.stable()).toList();
            String seeds = IntStream.range(0, placements.size())
                .mapToObj(i -> placements.get(i).host() + ":" + ports.get(i).cluster()).collect(Collectors.joining(","));
            for (int i = 0; i < placements.size(); i++) {
                Placement placement = placements.get(i);
                Map<String, String> env = new HashMap<>(db);
                env.put("PULSE_SEED_NODES", seeds);
                env.put("PULSE_TOKEN_SECRET", TOKEN_SECRET);
                env.put("PULSE_DATA_DIR", dir.resolve("data-" + i).toString());
                env.putAll(placement.env());
                cluster.nodes.add(NodeProcess.start(new NodeProcess.Spec("node-" + i, placement.host(), ports.get(i), env,
                    PROPERTIES, JVM_OPTIONS, placement.launcher(), dir.resolve("node-" + i + ".log"))));
            }
            cluster.awaitUp(START_TIMEOUT);
            return cluster;
        } catch (IOException e) {
            cluster.close();
            throw new UncheckedIOException(e);
        } catch (RuntimeException | AssertionError e) {
            cluster.close();
            throw e;
        }
    }

    String name() {
        return name;
    }

    /** Where the node logs are. */
    Path dir() {
        return dir;
    }

    int size() {
        return nodes.size();
    }

    NodeProcess node(int index) {
        return nodes.get(index);
    }

    PulseClient client(int index) {
        return new PulseClient(nodes.get(index).base());
    }

    /** A client per node, in node order (dead nodes included: a client moving on tries them too). */
    List<PulseClient> clients() {
        return IntStream.range(0, nodes.size()).mapToObj(this::client).toList();
    }

    List<Integer> running() {
        return IntStream.range(0, nodes.size()).filter(i -> nodes.get(i).isAlive()).boxed().toList();
    }

    /** A login token, from any running node (all share the token secret). */
    String token(String user) {
        return client(running().get(0)).login(user).token();
    }

    /** SIGKILL; returns the exit code once the process is gone. */
    int kill(int index) {
        return nodes.get(index).kill();
    }

    /** SIGTERM; returns the exit code once the process is gone (within {@code timeout}). */
    int terminate(int index, Duration timeout) {
        return nodes.get(index).terminate(timeout);
    }

    /** Starts node {@code index} again on its ports (it must have exited); does not wait for it. */
    void startAgain(int index) {
        nodes.set(index, nodes.get(index).startAgain());
    }

    /** Starts every node that is not running, and waits until the cluster is whole again. */
    void ensureAllUp() {
        boolean started = false;
        for (int i = 0; i < nodes.size(); i++) {
            if (!nodes.get(i).isAlive()) {
                startAgain(i);
                started = true;
            }
        }
        if (started) {
            awaitUp(START_TIMEOUT);
        }
    }

    /**
     * Waits until every running node is healthy and sees exactly the running nodes as Up members, none
     * unreachable; fails at once if a node process exits meanwhile, and on timeout with what each node
     * said (and the log of each that did not see the whole cluster).
     */
    void awaitUp(Duration timeout) {
        List<NodeProcess> expected = running().stream().map(nodes::get).toList();
        Set<String> addresses = expected.stream().map(n -> "pekko://pulse@" + n.clusterAddress()).collect(Collectors.toSet());
        try {
            Wire.awaitUntil(name + ": " + expected.size() + " Up members seen by every running node", timeout, () -> {
                for (NodeProcess node : expected) {
                    if (!node.isAlive()) {
                        throw new AssertionError(node.name() + " exited with " + node.exitValue() + "; log:\n" + node.logTail());
                    }
                    if (problem(node, addresses) != null) {
                        return false;
                    }
                }
                return true;
            });
        } catch (AssertionError e) {
            StringBuilder state = new StringBuilder(e.getMessage());
            for (NodeProcess node : expected) {
                String problem = problem(node, addresses);
                state.append("\n").append(node.name()).append(" (pid ").append(node.pid()).append("): ")
                    .append(problem == null ? "sees the whole cluster" : problem);
                if (problem != null) {
                    state.append("; its log:\n").append(node.logTail());
                }
            }
            throw new AssertionError(state.toString(), e);
        }
    }

    /** What keeps {@code node} from being an Up member among exactly {@code addresses}; null when nothing does. */
    private String problem(NodeProcess node, Set<String> addresses) {
        if (!node.isAlive()) {
            return "exited with " + node.exitValue();
        }
        if (!healthy(node)) {
            return "/health is not 200";
        }
        if (!ready(node)) {
            return "management /ready is not 200";
        }
        JsonNode members = members(node);
        if (members == null) {
            return "/cluster/members did not answer";
        }
        Set<String> up = new HashSet<>();
        members.path("members").forEach(m -> {
            if ("Up".equals(m.path("status").asText())) {
                up.add(m.path("node").asText());
            }
        });
        if (!up.equals(addresses) || members.path("members").size() != addresses.size() || !members.path("unreachable").isEmpty()) {
            return "sees " + members;
        }
        return null;
    }

    /** The index of the oldest member (home of the shard coordinators), as node {@code asking} sees it. */
    int oldest(int asking) {
        JsonNode members = members(nodes.get(asking));
        if (members == null) {
            throw new AssertionError(nodes.get(asking).name() + " did not say which member is oldest");
        }
        return indexOf(members.path("oldest").asText());
    }

    /** The shards of {@code entityType} node {@code index} hosts (ids), from Pekko Management. */
    Set<String> shards(int index, String entityType) {
        JsonNode answer = get(nodes.get(index).management().resolve("/cluster/shards/" + entityType));
        if (answer == null) {
            throw new AssertionError(nodes.get(index).name() + " did not list its " + entityType + " shards");
        }
        Set<String> shards = new HashSet<>();
        answer.path("regions").forEach(region -> shards.add(region.path("shardId").asText()));
        return shards;
    }

    /** Which node hosts each room now (the shard of a room is |hash mod NUMBER_OF_SHARDS|, Pekko's default extractor). */
    Map<String, Integer> roomHomes(List<String> rooms) {
        Map<String, Integer> homes = new HashMap<>();
        for (int i : running()) {
            Set<String> shards = shards(i, "Room");
            for (String room : rooms) {
                if (shards.contains(shardOf(room))) {
                    Integer before = homes.put(room, i);
                    if (before != null) {
                        throw new AssertionError("room " + room + " is hosted on " + nodes.get(before).name() + " and "
                            + nodes.get(i).name());
                    }
                }
            }
        }
        return homes;
    }

    static String shardOf(String entityId) {
        return String.valueOf(Math.abs(entityId.hashCode() % NUMBER_OF_SHARDS));
    }

    private int indexOf(String address) {
        for (int i = 0; i < nodes.size(); i++) {
            if (address.equals("pekko://pulse@" + nodes.get(i).clusterAddress())) {
                return i;
            }
        }
        throw new AssertionError("no node of " + name + " has address " + address);
    }

    /** {@code GET /health} on the node's HTTP port answers 200 (an Up member that serves clients). */
    private boolean healthy(NodeProcess node) {
        return answers200(node.base().resolve("/health"));
    }

    /** Pekko Management's readiness, as Kubernetes and the load balancer see it (journal warmed up included). */
    private boolean ready(NodeProcess node) {
        return answers200(node.management().resolve("/ready"));
    }

    private boolean answers200(URI uri) {
        try {
            return http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(2)).GET().build(),
                HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /**
     * A test's one-line result: printed (surefire keeps it in the test's -output.txt) and appended to
     * {@code target/cluster-tests/results.txt}.
     */
    static void report(String line) {
        System.out.println(line);
        Path results = Path.of(System.getProperty("user.dir"), "target", "cluster-tests", "results.txt");
        try {
            Files.createDirectories(results.getParent());
            Files.writeString(results, java.time.Instant.now() + " " + line + System.lineSeparator(),
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    private JsonNode members(NodeProcess node) {
        return get(node.management().resolve("/cluster/members"));
    }

    private JsonNode get(URI uri) {
        try {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(2)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
            return response.statusCode() == 200 ? JSON.readTree(response.body()) : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /**
     * A room's whole history, paged from the newest back through node {@code via}. A page answered
     * {@code unavailable} (the room moving after a node came back) is asked again, as the protocol says
     * clients do, for up to a minute; one answered {@code rate_limited} after {@code retryAfterMs}.
     */
    List<ServerFrame.Message> history(int via, String room) {
        List<ServerFrame.Message> all = new ArrayList<>();
        try (PulseConnection reader = client(via).connect(token("auditor"))) {
            Long before = null;
            int asked = 0;
            long giveUp = System.nanoTime() + Duration.ofMinutes(1).toNanos();
            for (int page = 0; page < 1000; page++) {
                ServerFrame.History history = null;
                while (history == null) {
                    String ref = "h" + asked++;
                    reader.send(new ClientFrame.History(ref, room, before, 200));
                    ServerFrame answer = reader.await(ServerFrame.class, f -> f instanceof ServerFrame.History h && ref.equals(h.ref())
                        || f instanceof ServerFrame.Error e && ref.equals(e.ref()), Duration.ofSeconds(15));
                    if (answer instanceof ServerFrame.History read) {
                        history = read;
                    } else if (answer instanceof ServerFrame.Error error && "rate_limited".equals(error.code())
                        && error.retryAfterMs() != null && System.nanoTime() < giveUp) {
                        pause(error.retryAfterMs()); // the auditor reads fast: it waits as told, as clients must
                    } else if (!"unavailable".equals(((ServerFrame.Error) answer).code()) || System.nanoTime() > giveUp) {
                        throw new AssertionError("history of " + room + " answered " + answer);
                    }
                }
                all.addAll(0, history.chatMessages());
                if (!history.hasMore() || history.chatMessages().isEmpty()) {
                    return all;
                }
                before = history.chatMessages().get(0).seq();
            }
        }
        throw new AssertionError("history of " + room + " did not end within 1000 pages");
    }

    /** Kills every node still running (a test's cleanup: no graceful leave needed). */
    @Override
    public void close() {
        nodes.forEach(NodeProcess::close);
        try {
            Runtime.getRuntime().removeShutdownHook(killOnExit);
        } catch (IllegalStateException | IllegalArgumentException alreadyExitingOrRemoved) {
            // nothing left to do
        }
    }

    private static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
