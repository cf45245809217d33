package dev.pulse.node.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A network namespace of a test's own, joined to the root namespace by a veth pair in a private /30
 * of 10.254.0.0/16 that nothing else on the machine uses: {@link #hostAddress()} on the root side,
 * {@link #address()} inside. Processes run inside with {@link #launcher()} ({@code ip netns exec}),
 * commands with {@link #exec}; its own iptables filter what crosses into it. {@link #close()} deletes
 * the namespace and so the pair. Needs root, {@code ip} and {@code iptables} ({@link #available()}).
 */
public final class NetworkNamespace implements AutoCloseable {

    private final String name;
    private final String hostInterface;
    private final String hostAddress;
    private final String address;

    private NetworkNamespace(String name, String hostInterface, String hostAddress, String address) {
        this.name = name;
        this.hostInterface = hostInterface;
        this.hostAddress = hostAddress;
        this.address = address;
    }

    /** Whether this machine lets a test make namespaces: root, with {@code ip} and {@code iptables}. */
    public static boolean available() {
        try {
            return onPath("ip") && onPath("iptables") && "0".equals(run("id", "-u").trim());
        } catch (Exception | AssertionError e) {
            return false;
        }
    }

    /**
     * Creates namespace {@code <prefix>-<pid>-<n>} with its end of the veth pair and its loopback up.
     *
     * @param tag a few letters that tell this test's interfaces from others' (interface names: 15 chars at most)
     */
    public static NetworkNamespace create(String tag) throws IOException, InterruptedException {
        long pid = ProcessHandle.current().pid();
        int n = ThreadLocalRandom.current().nextInt(1000);
        String name = "pulse-" + tag + "-" + pid + "-" + n;
        String hostIf = tag + "h" + pid % 100_000 + "x" + n;
        String nsIf = tag + "n" + pid % 100_000 + "x" + n;
        String[] addresses = freeSlash30();
        NetworkNamespace namespace = new NetworkNamespace(name, hostIf, addresses[0], addresses[1]);
        try {
            run("ip", "netns", "add", name);
            run("ip", "link", "add", hostIf, "type", "veth", "peer", "name", nsIf);
            run("ip", "link", "set", nsIf, "netns", name);
            run("ip", "addr", "add", addresses[0] + "/30", "dev", hostIf);
            run("ip", "link", "set", hostIf, "up");
            namespace.exec("ip", "addr", "add", addresses[1] + "/30", "dev", nsIf);
            namespace.exec("ip", "link", "set", nsIf, "up");
            namespace.exec("ip", "link", "set", "lo", "up");
            return namespace;
        } catch (IOException | InterruptedException | RuntimeException | AssertionError e) {
            namespace.close();
            throw e;
        }
    }

    public String name() {
        return name;
    }

    /** The root namespace's end of the veth pair. */
    public String hostAddress() {
        return hostAddress;
    }

    /** The namespace's own address. */
    public String address() {
        return address;
    }

    /** The words that run a program inside: {@code ip netns exec <name>} (which execs it: same pid). */
    public List<String> launcher() {
        return List.of("ip", "netns", "exec", name);
    }

    /** Runs a command inside and returns its output; fails the test if it exits non-zero. */
    public String exec(String... command) throws IOException, InterruptedException {
        List<String> all = new ArrayList<>(launcher());
        all.addAll(Arrays.asList(command));
        return run(all.toArray(String[]::new));
    }

    /**
     * Runs a command inside with {@code input} on its standard input, e.g. {@code iptables-restore --noflush}
     * to change several rules at once, atomically.
     */
    public String execWithInput(String input, String... command) throws IOException, InterruptedException {
        List<String> all = new ArrayList<>(launcher());
        all.addAll(Arrays.asList(command));
        return runWithInput(input, all.toArray(String[]::new));
    }

    /** Runs a command and returns its output (stdout and stderr); fails the test if it exits non-zero or hangs 10 s. */
    public static String run(String... command) throws IOException, InterruptedException {
        return runWithInput(null, command);
    }

    private static String runWithInput(String input, String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        try (var stdin = process.getOutputStream()) {
            if (input != null) {
                stdin.write(input.getBytes(StandardCharsets.UTF_8));
            }
        }
        CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return String.valueOf(e);
            }
        });
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + ": no exit within 10 s");
        }
        String text = output.join();
        if (process.exitValue() != 0) {
            throw new AssertionError(String.join(" ", command) + " exited " + process.exitValue() + ": " + text);
        }
        return text;
    }

    /** As {@link #run}, for cleanup of something that may already be gone. */
    public static void runQuietly(String... command) {
        try {
            run(command);
        } catch (Exception | AssertionError ignored) {
            // already gone
        }
    }

    private static boolean onPath(String command) {
        for (String dir : (System.getenv().getOrDefault("PATH", "") + ":/usr/sbin:/sbin").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, command))) {
                return true;
            }
        }
        return false;
    }

    /** Host and namespace addresses of a /30 in 10.254.0.0/16 whose /24 no interface or route here uses. */
    private static String[] freeSlash30() throws IOException, InterruptedException {
        String used = run("ip", "-4", "-o", "addr") + run("ip", "-4", "route", "show", "table", "all");
        for (int attempt = 0; attempt < 50; attempt++) {
            String net = "10.254." + ThreadLocalRandom.current().nextInt(256) + ".";
            if (!used.contains(net)) {
                int base = ThreadLocalRandom.current().nextInt(64) * 4;
                return new String[] {net + (base + 1), net + (base + 2)};
            }
        }
        throw new AssertionError("no free 10.254.x.0/24 found");
    }

    /** Deletes the namespace (and with it its end of the veth pair, so the pair). */
    @Override
    public void close() {
        runQuietly("ip", "netns", "del", name);
        runQuietly("ip", "link", "del", hostInterface);
    }
}
