package dev.pulse.node.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pulse.node.testkit.ChatPeer;
import dev.pulse.node.testkit.HaproxyStats;
import dev.pulse.node.testkit.Wire;
import dev.pulse.protocol.ClientFrame;
import dev.pulse.protocol.client.PulseClient;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cluster-node/bin/pulse-cluster}, the README's local cluster, for real: {@code up 3} starts
 * PostgreSQL, three node JVMs (through {@code bin/pulse-node}) and HAProxy; two users log in and chat
 * through the load balancer, which puts their sockets on different nodes; a node stopped behind it is
 * taken out of rotation by HAProxy's health check (the policy in cluster-node/haproxy/haproxy.cfg, which
 * docker-compose.yml runs too); {@code down} stops the nodes gracefully (their sockets close with 1001
 * through HAProxy), then the rest, and nothing is left running.
 *
 * <p>The jars do not exist yet when surefire runs (package comes after test), so the script runs nodes
 * and PostgreSQL from this test's classpath ({@code PULSE_CLASSPATH}), as it would from a build.
 *
 * <p>Deliberately outside {@code dev.pulse.node.cluster}: that package runs in the {@code postgres}
 * surefire execution, and this test brings its own PostgreSQL, so it runs once, in the default one.
 */
class PulseClusterScriptTest {

    private static final Path SCRIPT = Path.of(System.getProperty("basedir", ".")).toAbsolutePath()
        .resolve("bin/pulse-cluster");
    private static final int NODES = 3;
    private static final Duration PEER_TIMEOUT = Duration.ofSeconds(30);

    @TempDir
    Path temp;

    @Test
    void upStartsNodesBehindHaproxyThatChatAcrossNodesAndDownLeavesNothingRunning() throws Exception {
        assumeTrue(haproxy(), "HAProxy is not installed (apt-get install -y haproxy; .ci/run installs it): "
            + "bin/pulse-cluster puts it in front of the nodes");
        Path state = temp.resolve("cluster");
        Ports ports = Ports.free();
        Map<String, String> env = ports.environment();
        env.put("PULSE_CLUSTER_DIR", state.toString());
        env.put("PULSE_CLASSPATH", System.getProperty("java.class.path"));
        env.put("PULSE_JAVA_OPTS", "-Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1");
        // The peers below send no pings: keep their sessions open however slow the machine is today.
        env.put("PULSE_HEARTBEAT_MS", "60000");
        env.put("PULSE_AUTH", "open"); // reaches every node unchanged; the clients here sign in by name
        env.put("PULSE_CLUSTER_TIMEOUT", "120");

        List<Long> started = new ArrayList<>();
        try {
            Run up = run(env, Duration.ofMinutes(4), "up", String.valueOf(NODES));
            assertThat(up.exitCode()).as("up:\n%s%s", up.output(), logs(state)).isZero();
            assertThat(up.output()).contains("is up: http://127.0.0.1:" + ports.lb() + "/");
            System.out.printf("pulse-cluster up %d: %d ms%n%s", NODES, up.millis(), up.output());

            started.addAll(processes(state));
            assertThat(started).as("launcher, postmaster, %d nodes, haproxy", NODES).hasSize(NODES + 3);
            assertThat(started).allMatch(PulseClusterScriptTest::alive);

            Run again = run(env, Duration.ofMinutes(1), "up", String.valueOf(NODES));
            assertThat(again.exitCode()).as(again.output()).isZero();
            assertThat(again.output()).contains("Already running");
            assertThat(processes(state)).containsExactlyElementsOf(started);
            // and PostgreSQL's own processes (checkpointer, writers, the nodes' backends)
            long postmaster = started.get(started.size() - 1);
            started.addAll(ProcessHandle.of(postmaster).stream()
                .flatMap(ProcessHandle::descendants).map(ProcessHandle::pid).toList());

            PulseClient lb = new PulseClient(URI.create("http://127.0.0.1:" + ports.lb()));
            try (ChatPeer alice = ChatPeer.connect(lb, "alice", PEER_TIMEOUT);
                 ChatPeer bob = ChatPeer.connect(lb, "bob", PEER_TIMEOUT)) {
                // welcome names the node a socket landed on (its cluster address). HAProxy balances
                // leastconn, so bob's socket goes to a node that has none: not alice's.
                Map<String, String> nodeOf = new LinkedHashMap<>();
                for (ChatPeer peer : List.of(alice, bob)) {
                    nodeOf.put(peer.user(), peer.welcome().path("node").asText());
                }
                assertThat(ports.nodeAddresses()).containsAll(nodeOf.values());
                assertThat(Set.copyOf(nodeOf.values())).as("nodes behind HAProxy: %s", nodeOf).hasSize(2);

                alice.join("j", "general");
                bob.join("j", "general");
                alice.send(new ClientFrame.Send("s", "general", "m-1", "hello through haproxy"));
                alice.expectReply("s", "ack");
                JsonNode message = bob.expectMessage("general");
                assertThat(message.path("from").asText()).isEqualTo("alice");
                assertThat(message.path("text").asText()).isEqualTo("hello through haproxy");

                Run status = run(env, Duration.ofMinutes(1), "status");
                assertThat(status.exitCode()).as(status.output()).isZero();
                assertThat(status.output()).contains(NODES + " of " + NODES + " node(s) UP");
                long haproxy = started.get(NODES + 1);
                assertThat(describe(haproxy)).as("HAProxy runs the load balancer policy compose runs")
                    .contains(SCRIPT.getParent().getParent().resolve("haproxy/haproxy.cfg").toString());

                // A node stopped behind HAProxy (SIGTERM: it leaves, its /ready fails) is taken out of
                // rotation by the health check: new sockets land on the others.
                long node3 = started.get(NODES);
                ProcessHandle.of(node3).ifPresent(ProcessHandle::destroy);
                Wire.awaitUntil("node3 exits after SIGTERM", Duration.ofSeconds(60), () -> !alive(node3));
                URI stats = URI.create("http://127.0.0.1:" + ports.lb() + "/haproxy?stats;csv");
                Wire.awaitUntil("HAProxy takes node3 out of rotation", Duration.ofSeconds(30),
                    () -> HaproxyStats.servers(stats).getOrDefault("node3", "").startsWith("DOWN"));
                String stopped = "127.0.0.1:" + (ports.remotingBase() + NODES - 1);
                for (int i = 0; i < 3; i++) {
                    try (ChatPeer later = ChatPeer.connect(lb, "dave" + i, PEER_TIMEOUT)) {
                        assertThat(later.welcome().path("node").asText()).as("dave%d's node", i).isNotEqualTo(stopped);
                    }
                }

                Run down = run(env, Duration.ofMinutes(3), "down");
                assertThat(down.exitCode()).as("down:\n%s%s", down.output(), logs(state)).isZero();
                System.out.printf("pulse-cluster down: %d ms%n%s", down.millis(), down.output());
                // each node left on purpose and said so to its sockets, through HAProxy
                for (ChatPeer peer : List.of(alice, bob)) {
                    assertThat(peer.expectClosed(Duration.ofSeconds(10)).code()).as(peer.user()).isEqualTo(1001);
                }
            }

            assertThat(started.stream().filter(PulseClusterScriptTest::alive).map(PulseClusterScriptTest::describe).toList())
                .as("processes still running after down").isEmpty();
            assertThat(commandLinesMentioning(state)).as("processes still running after down").isEmpty();
            for (int port : ports.all()) {
                assertThat(listening(port)).as("something still listens on port %d", port).isFalse();
            }
            assertThat(run(env, Duration.ofMinutes(1), "status").exitCode()).as("status of a stopped cluster").isEqualTo(3);
        } finally {
            // Whatever failed above, leave nothing running.
            if (started.stream().anyMatch(PulseClusterScriptTest::alive) || !commandLinesMentioning(state).isEmpty()) {
                run(env, Duration.ofMinutes(3), "down");
                started.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
            }
        }
    }

    // ------------------------------------------------------------------ the script

    private record Run(int exitCode, String output, long millis) {}

    private Run run(Map<String, String> env, Duration timeout, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(SCRIPT.toString());
        command.addAll(List.of(args));
        Path output = Files.createTempFile(temp, "pulse-cluster-" + args[0], ".out");
        ProcessBuilder builder = new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(output.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        // Only what the test sets: nothing of the surrounding PULSE_* environment leaks in.
        builder.environment().keySet().removeIf(key -> key.startsWith("PULSE_"));
        builder.environment().putAll(env);
        // The java of this test run, whatever the PATH says: nodes load classes compiled for it.
        builder.environment().put("PATH", Path.of(System.getProperty("java.home"), "bin") + File.pathSeparator
            + System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
        long start = System.nanoTime();
        Process process = builder.start();
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroy();
            process.waitFor(10, TimeUnit.SECONDS);
            throw new AssertionError("pulse-cluster " + String.join(" ", args) + " did not finish within " + timeout
                + ":\n" + Files.readString(output));
        }
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        return new Run(process.exitValue(), Files.readString(output, StandardCharsets.UTF_8), millis);
    }

    /** The pids the script started (its pid files) and the PostgreSQL server's (its postmaster.pid). */
    private static List<Long> processes(Path state) throws IOException {
        List<Long> pids = new ArrayList<>();
        for (String name : Stream.concat(Stream.of("postgres"), Stream.concat(
                IntStream.rangeClosed(1, NODES).mapToObj(i -> "node" + i), Stream.of("haproxy"))).toList()) {
            pids.add(Long.parseLong(Files.readString(state.resolve(name + ".pid")).trim().split("\\s+")[0]));
        }
        pids.add(Long.parseLong(Files.readAllLines(state.resolve("postgres/postmaster.pid")).get(0).trim()));
        return pids;
    }

    /**
     * Whether the process runs. An exited process whose parent has not reaped it yet (a zombie: the
     * script's children are reaped by init once the script is gone) counts as gone, as the script has it.
     */
    private static boolean alive(long pid) {
        if (!ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
            return false;
        }
        try {
            String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
            return !stat.substring(stat.lastIndexOf(')') + 1).trim().startsWith("Z");
        } catch (IOException noProcFs) {
            return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
        }
    }

    private static String describe(long pid) {
        return pid + " " + ProcessHandle.of(pid).flatMap(p -> p.info().commandLine()).orElse("");
    }

    /** Running processes whose command line names the state directory (HAProxy's config, PostgreSQL's data). */
    private static List<String> commandLinesMentioning(Path state) {
        return ProcessHandle.allProcesses()
            .filter(p -> alive(p.pid()))
            .map(p -> describe(p.pid()))
            .filter(line -> line.contains(state.toString()))
            .toList();
    }

    /** The tails of the cluster's logs, for failure messages. */
    private static String logs(Path state) {
        try (Stream<Path> files = Files.exists(state) ? Files.list(state) : Stream.empty()) {
            return files.filter(f -> f.toString().endsWith(".log")).sorted().map(f -> {
                try {
                    List<String> lines = Files.readAllLines(f, StandardCharsets.UTF_8);
                    return "\n---- " + f.getFileName() + "\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
                } catch (IOException | UncheckedIOException e) {
                    return "\n---- " + f.getFileName() + ": " + e;
                }
            }).collect(Collectors.joining());
        } catch (IOException e) {
            return "\n(no logs: " + e + ")";
        }
    }

    private static boolean haproxy() {
        Stream<Path> path = Stream.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
            .filter(dir -> !dir.isEmpty()).map(Path::of);
        return Stream.concat(path, Stream.of(Path.of("/usr/sbin"), Path.of("/usr/local/sbin")))
            .anyMatch(dir -> Files.isExecutable(dir.resolve("haproxy")));
    }

    private static boolean listening(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
            return true;
        } catch (IOException refused) {
            return false;
        }
    }

    // ------------------------------------------------------------------ ports

    /**
     * Eleven consecutive ports that are free now: the load balancer, then per node HTTP, remoting and
     * management, then PostgreSQL. Picked below the kernel's ephemeral range (32768 and up here), so
     * the free ports other tests ask the kernel for cannot take them between this check and the start.
     */
    private record Ports(int base) {

        static final int COUNT = 1 + 3 * NODES + 1;

        static Ports free() {
            for (int attempt = 0; attempt < 50; attempt++) {
                int base = ThreadLocalRandom.current().nextInt(20_000, 30_000);
                if (IntStream.range(base, base + COUNT).allMatch(Ports::bindable)) {
                    return new Ports(base);
                }
            }
            throw new AssertionError("no " + COUNT + " consecutive free ports between 20000 and 30000");
        }

        private static boolean bindable(int port) {
            try (ServerSocket socket = new ServerSocket()) {
                socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
                return true;
            } catch (IOException inUse) {
                return false;
            }
        }

        int lb() {
            return base;
        }

        int remotingBase() {
            return base + 1 + NODES;
        }

        Set<String> nodeAddresses() {
            return IntStream.range(0, NODES).mapToObj(i -> "127.0.0.1:" + (remotingBase() + i))
                .collect(Collectors.toCollection(TreeSet::new));
        }

        List<Integer> all() {
            return IntStream.range(base, base + COUNT).boxed().toList();
        }

        Map<String, String> environment() {
            Map<String, String> env = new LinkedHashMap<>();
            env.put("PULSE_LB_PORT", String.valueOf(base));
            env.put("PULSE_CLUSTER_HTTP_BASE", String.valueOf(base + 1));
            env.put("PULSE_CLUSTER_REMOTING_BASE", String.valueOf(remotingBase()));
            env.put("PULSE_CLUSTER_MANAGEMENT_BASE", String.valueOf(base + 1 + 2 * NODES));
            env.put("PULSE_CLUSTER_DB_PORT", String.valueOf(base + 1 + 3 * NODES));
            return env;
        }
    }
}
