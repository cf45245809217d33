package dev.pulse.node.cluster;

import java.util.List;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.management.cluster.bootstrap.ClusterBootstrap;

/**
 * How a node becomes a cluster member: with seeds ({@code PULSE_SEED_NODES}) Pekko joins them by
 * itself; with a discovery method ({@code PULSE_DISCOVERY}) cluster bootstrap finds the other nodes'
 * management endpoints and joins them or, the lowest address of them, forms the cluster; with
 * neither the node forms a cluster of one, as a laptop run wants.
 */
public final class ClusterFormation {

    private ClusterFormation() {}

    /** Starts forming or joining; Pekko Management must be running when {@code discovery} is used. */
    public static void start(ActorSystem<?> system, List<String> seeds, String discovery) {
        if (!seeds.isEmpty()) {
            return; // pekko.cluster.seed-nodes: Pekko joins them itself
        }
        if (!discovery.isBlank()) {
            ClusterBootstrap.get(system.classicSystem()).start();
            return;
        }
        Cluster cluster = Cluster.get(system);
        cluster.manager().tell(Join.create(cluster.selfMember().address()));
    }
}
