package dev.pulse.node.cluster;

import dev.pulse.node.testkit.ResilientChatClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A rolling restart under traffic (issue 9 "Graceful leave"): each node of three in turn gets SIGTERM,
 * is started again on the same ports once it has exited, and the next one follows once the cluster is
 * whole and every client has been acked again. Nothing acked may be lost or stored twice, every live
 * view stays gap-free, the nodes close their sockets with 1001 "going away" (PROTOCOL.md "Leaving a
 * node gracefully"), and no steadily sending client waits more than 3 s between two acks, moving to
 * another node included.
 */
class RollingRestartTest {

    static final Duration LONGEST_ACK_GAP = Duration.ofSeconds(3);
    private static final Duration EXIT_WITHIN = Duration.ofSeconds(30);

    @Test
    @Timeout(value = 240, unit = TimeUnit.SECONDS)
    void sigtermOfEachNodeInTurnUnderTraffic() {
        String prefix = "o" + Long.toString(ThreadLocalRandom.current().nextLong(36L * 36 * 36 * 36), 36) + "-";
        try (NodeCluster cluster = NodeCluster.start("rolling", 3);
             ClusterChat chat = new ClusterChat(cluster, prefix, 6, cluster.size(), Duration.ofMillis(200))) {
            chat.awaitAcks(5, System.nanoTime(), Duration.ofSeconds(30));
            List<String> steps = new ArrayList<>();
            for (int i = 0; i < cluster.size(); i++) {
                long termAt = System.nanoTime();
                int exit = cluster.terminate(i, EXIT_WITHIN);
                long exitMs = (System.nanoTime() - termAt) / 1_000_000;
                cluster.startAgain(i);
                cluster.awaitUp(NodeCluster.START_TIMEOUT);
                long upAt = System.nanoTime();
                steps.add(cluster.node(i).name() + " exited " + exit + " after " + exitMs + " ms, back after "
                    + (upAt - termAt) / 1_000_000 + " ms");
                chat.awaitAcks(3, upAt, Duration.ofSeconds(30));
            }
            Map<String, Long> gaps = chat.longestAckGapsMs();
            List<ResilientChatClient.CloseEvent> closes = chat.clients().stream().flatMap(c -> c.closes().stream()).toList();
            List<String> notGoingAway = chat.clients().stream().flatMap(c -> c.closes().stream()
                    .filter(close -> close.code() != 1001 || !"going away".equals(close.reason()))
                    .map(close -> c.user() + " closed " + close.code() + " '" + close.reason() + "' by " + cluster.node(close.node()).name()))
                .toList();
            ClusterChat.Audit audit = chat.finishAndAudit(Duration.ofSeconds(30));

            String summary = "ROLLING RESTART of " + cluster.size() + " nodes by SIGTERM, " + chat.clients().size() + " clients"
                + " | " + String.join("; ", steps)
                + " | longest ack gap " + ClusterChat.stats(gaps) + ", over " + LONGEST_ACK_GAP.toMillis() + " ms: "
                + ClusterChat.over(gaps, LONGEST_ACK_GAP.toMillis()).size()
                + " | sockets closed by the nodes " + closes.size() + ", not 1001 'going away': " + notGoingAway.size()
                + " | " + audit.summary() + " | logs " + cluster.dir();
            NodeCluster.report(summary);
            System.out.println(chat.longestGapTrace());

            SoftAssertions soft = new SoftAssertions();
            soft.assertThat(ClusterChat.over(gaps, LONGEST_ACK_GAP.toMillis()))
                .as("clients that waited longer than %s between two acks (ms); %s", LONGEST_ACK_GAP, summary).isEmpty();
            soft.assertThat(closes).as("the nodes closed their clients' sockets when they left").isNotEmpty();
            soft.assertThat(notGoingAway).as("sockets closed otherwise than with 1001 'going away'").isEmpty();
            soft.assertThat(audit.problems()).as("lost, duplicated, out of order").isEmpty();
            soft.assertAll();
        }
    }
}
