package dev.pulse.node.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.stream.StreamSupport;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * Cluster membership as this node sees it, read from the cluster's current state at scrape time:
 * members by status, and how many of them this node's failure detector finds unreachable.
 */
public final class ClusterMetrics {

    private static final List<MemberStatus> STATUSES = List.of(MemberStatus.joining(), MemberStatus.weaklyUp(),
        MemberStatus.up(), MemberStatus.leaving(), MemberStatus.exiting(), MemberStatus.down(),
        MemberStatus.shuttingDown(), MemberStatus.shutDown());

    private ClusterMetrics() {}

    public static void bind(Cluster cluster, MeterRegistry registry) {
        for (MemberStatus status : STATUSES) {
            Gauge.builder("pulse.cluster.members", cluster, c -> count(c.state(), status))
                .tag("status", snakeCase(status.toString()))
                .description("cluster members by status, as this node sees them").register(registry);
        }
        Gauge.builder("pulse.cluster.unreachable.members", cluster, c -> c.state().getUnreachable().size())
            .description("members this node's failure detector finds unreachable").register(registry);
    }

    private static long count(ClusterEvent.CurrentClusterState state, MemberStatus status) {
        return StreamSupport.stream(state.getMembers().spliterator(), false)
            .filter(member -> member.status().equals(status)).count();
    }

    /** WeaklyUp → weakly_up. */
    static String snakeCase(String name) {
        return name.replaceAll("([a-z])([A-Z])", "$1_$2").toLowerCase(java.util.Locale.ROOT);
    }
}
