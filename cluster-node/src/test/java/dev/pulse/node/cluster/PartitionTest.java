package dev.pulse.node.cluster;

import dev.pulse.node.TestDatabase;
import dev.pulse.node.faults.FaultProxy;
import dev.pulse.node.testkit.NetworkNamespace;
import dev.pulse.node.testkit.ResilientChatClient;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A network partition, not a crash (issue 9): one node of three runs in a network namespace of the
 * test's own, and iptables inside it drops the cluster (Artery) traffic between it and the other two,
 * both ways, while its clients and its database connection keep working and clients on both sides
 * keep sending. Expected: the cut-off node, the minority, stops acknowledging and is downed (the
 * split brain resolver's keep-majority; it shuts itself down), the majority serves its rooms, and a
 * room is never alive on both sides at once: no seq acknowledged for two different messages, no
 * acknowledgement through the cut-off node for a room after the majority has acknowledged in it,
 * nothing acknowledged lost. Then the network heals, the node is started again (as an operator or
 * Kubernetes would) and rejoins, and every client converges: the same history through every node,
 * equal to what each client saw.
 * <p>Topology: the two majority nodes bind the root side of a veth pair, the cut-off node its
 * namespace side; its database connection goes through a relay on the root side. Nothing leaves the
 * machine's loopback and the test's own namespace.
 */
class PartitionTest {

    static final Duration DOWNED_WITHIN = Duration.ofSeconds(30);
    /** An ack in flight when the cut began may still arrive just after it. */
    private static final long IN_FLIGHT_TOLERANCE_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
    private static final int ROOMS = 6;

    @Test
    @Timeout(value = 240, unit = TimeUnit.SECONDS)
    void aNodeCutOffFromTheOtherTwoIsDownedAndRejoinsWithoutASecondCopyOfAnyRoom() throws Exception {
        Assumptions.assumeTrue(NetworkNamespace.available(), "needs root, ip and iptables to create a network namespace");
        Map<String, String> database = TestDatabase.postgresEnvironment(Path.of("partition-test-" + System.nanoTime()));
        Matcher url = Pattern.compile("jdbc:postgresql://([^:/]+):(\\d+)/(.+)").matcher(database.get("PULSE_DB_URL"));
        Assumptions.assumeTrue(url.matches(), "a PostgreSQL URL with host and port: " + database.get("PULSE_DB_URL"));
        String prefix = "n" + Long.toString(ThreadLocalRandom.current().nextLong(36L * 36 * 36 * 36), 36) + "-";

        try (NetworkNamespace ns = NetworkNamespace.create("pp");
             FaultProxy databaseRelay = new FaultProxy(ns.hostAddress(),
                 new InetSocketAddress(url.group(1), Integer.parseInt(url.group(2))))) {
            Map<String, String> insideDatabase = new HashMap<>(database);
            insideDatabase.put("PULSE_DB_URL", "jdbc:postgresql://" + ns.hostAddress() + ":" + databaseRelay.port() + "/" + url.group(3));
            List<NodeCluster.Placement> placements = List.of(
                new NodeCluster.Placement(ns.hostAddress(), List.of(), Map.of()),
                new NodeCluster.Placement(ns.hostAddress(), List.of(), Map.of()),
                new NodeCluster.Placement(ns.address(), ns.launcher(), insideDatabase));
            int cut = 2;
            try (NodeCluster cluster = NodeCluster.start("partition", placements, database);
                 ClusterChat chat = new ClusterChat(cluster, prefix, ROOMS, cluster.size(), Duration.ofMillis(200))) {
                chat.awaitAcks(5, System.nanoTime(), Duration.ofSeconds(30));
                Map<String, Integer> homes = cluster.roomHomes(chat.rooms());
                List<String> cutOffRooms = chat.rooms().stream().filter(r -> homes.get(r) != null && homes.get(r) == cut).toList();

                // ---- cut: drop Artery traffic between the namespace and the root side, both ways, in one go
                String majorityPorts = cluster.node(0).clusterPort() + "," + cluster.node(1).clusterPort();
                int ownPort = cluster.node(cut).clusterPort();
                String host = ns.hostAddress();
                String rules = String.join("\n",
                    "*filter",
                    "-A INPUT -s " + host + " -p tcp -m multiport --sports " + majorityPorts + " -j DROP",
                    "-A INPUT -s " + host + " -p tcp --dport " + ownPort + " -j DROP",
                    "-A OUTPUT -d " + host + " -p tcp -m multiport --dports " + majorityPorts + " -j DROP",
                    "-A OUTPUT -d " + host + " -p tcp --sport " + ownPort + " -j DROP",
                    "COMMIT", "");
                long cutAt = System.nanoTime();
                ns.execWithInput(rules, "iptables-restore", "--noflush");
                long cutDone = System.nanoTime();

                List<String> failures = new ArrayList<>();
                boolean downed = cluster.node(cut).waitForExit(DOWNED_WITHIN);
                long exitMs = (System.nanoTime() - cutAt) / 1_000_000;
                String exit = downed ? "exited " + cluster.node(cut).exitValue() + " after " + exitMs + " ms" : "still running";
                if (!downed) {
                    failures.add("the cut-off node did not shut itself down within " + DOWNED_WITHIN + " of the cut; its threads: "
                        + cluster.node(cut).dumpThreads());
                    cluster.kill(cut); // so the rest can still be judged
                }
                long removedMs;
                try {
                    cluster.awaitUp(Duration.ofSeconds(30)); // the running nodes: the majority, without the cut-off one
                    removedMs = (System.nanoTime() - cutAt) / 1_000_000;
                } catch (AssertionError e) {
                    failures.add("the majority did not remove the cut-off node: " + e.getMessage());
                    removedMs = -1;
                }
                // Without the cut-off node, the majority serves every client (those of the cut-off node moved).
                try {
                    chat.awaitAcks(2, System.nanoTime(), Duration.ofSeconds(30));
                } catch (AssertionError e) {
                    failures.add("the majority did not serve every client: " + e.getMessage());
                }
                Map<String, Long> ackedAgain = chat.ackedAgainAfterMs(cutAt);
                String latestTrace = chat.latestAckedAgainTrace(cutAt);

                // ---- heal, start the node again, let everyone chat on
                ns.exec("iptables", "-F");
                long healAt = System.nanoTime();
                cluster.startAgain(cut);
                cluster.awaitUp(NodeCluster.START_TIMEOUT);
                long rejoinMs = (System.nanoTime() - healAt) / 1_000_000;
                chat.awaitAcks(3, System.nanoTime(), Duration.ofSeconds(30));

                LiveCopies copies = liveCopies(chat, cutOffRooms, cut, cutAt, cutDone, healAt);
                long lastAckViaCut = chat.clients().stream().flatMap(c -> c.acks().stream())
                    .filter(a -> a.node() == cut && a.atNanos() >= cutAt && a.atNanos() < healAt)
                    .mapToLong(a -> (a.atNanos() - cutAt) / 1_000_000).max().orElse(-1);
                ClusterChat.Audit audit = chat.finishAndAudit(Duration.ofSeconds(30));

                String summary = "PARTITION " + cluster.node(cut).name() + " (hosting " + cutOffRooms.size() + "/" + ROOMS
                    + " rooms) cut off from the other two (in " + (cutDone - cutAt) / 1_000_000 + " ms), " + chat.clients().size() + " clients on both sides"
                    + " | last ack through it " + lastAckViaCut + " ms after the cut; it " + exit
                    + "; the majority removed it after " + removedMs + " ms"
                    + " | clients acked again (by the majority) after the cut " + ClusterChat.stats(ackedAgain)
                    + " | rejoined " + rejoinMs + " ms after healing"
                    + " | rooms acknowledged on both sides at once: " + copies.overlapping().size()
                    + " (closest: the majority acked " + copies.closestMs() + " ms after the cut-off node's last ack)"
                    + " | " + audit.summary() + " | logs " + cluster.dir();
                NodeCluster.report(summary);
                System.out.println(chat.longestGapTrace());
                System.out.println(latestTrace);

                SoftAssertions soft = new SoftAssertions();
                soft.assertThat(failures).as("minority downed and removed; %s", summary).isEmpty();
                soft.assertThat(copies.overlapping()).as("a room acknowledged through the cut-off node after the majority did").isEmpty();
                soft.assertThat(audit.problems()).as("lost, duplicated, out of order, or not converged").isEmpty();
                soft.assertAll();
            }
        }
    }

    /**
     * Rooms in which, between the cut and the healing, a client of the cut-off node got an ack later than
     * a client of the majority did (acks that may have been in flight while the cut went in aside): both
     * sides had the room alive. {@code closestMs}: of the rooms the cut-off node hosted at the cut, the
     * shortest time from the last ack through it to the first through the majority (-1: none such).
     */
    record LiveCopies(List<String> overlapping, long closestMs) {}

    private static LiveCopies liveCopies(ClusterChat chat, List<String> cutOffRooms, int cut, long cutAt, long cutDone, long healAt) {
        List<String> found = new ArrayList<>();
        long closest = Long.MAX_VALUE;
        for (String room : chat.rooms()) {
            long lastViaCut = Long.MIN_VALUE;
            long firstViaMajority = Long.MAX_VALUE;
            for (ResilientChatClient client : chat.clients()) {
                if (!client.room().equals(room)) {
                    continue;
                }
                for (ResilientChatClient.AckEvent ack : client.acks()) {
                    if (ack.atNanos() < cutAt || ack.atNanos() >= healAt) {
                        continue;
                    }
                    if (ack.node() == cut) {
                        lastViaCut = Math.max(lastViaCut, ack.atNanos());
                    } else if (ack.atNanos() > cutDone + IN_FLIGHT_TOLERANCE_NANOS) {
                        firstViaMajority = Math.min(firstViaMajority, ack.atNanos());
                    }
                }
            }
            if (lastViaCut == Long.MIN_VALUE || firstViaMajority == Long.MAX_VALUE) {
                continue;
            }
            if (lastViaCut > firstViaMajority) {
                found.add(room + ": acked through the cut-off node " + (lastViaCut - cutAt) / 1_000_000
                    + " ms after the cut, through the majority already " + (firstViaMajority - cutAt) / 1_000_000 + " ms after it");
            }
            if (cutOffRooms.contains(room)) {
                closest = Math.min(closest, (firstViaMajority - lastViaCut) / 1_000_000);
            }
        }
        return new LiveCopies(found, closest == Long.MAX_VALUE ? -1 : closest);
    }
}
