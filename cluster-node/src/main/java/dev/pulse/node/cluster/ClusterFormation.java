package dev.pulse.node.cluster;

import java.util.List;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.AddressFromURIString;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.cluster.typed.JoinSeedNodes;
import org.apache.pekko.management.cluster.bootstrap.ClusterBootstrap;

/**
 * How a node becomes a cluster member: with seeds ({@code PULSE_SEED_NODES}) it joins them; with a
 * discovery method ({@code PULSE_DISCOVERY}) cluster bootstrap finds the other nodes' management
 * endpoints and joins them or, the lowest address of them, forms the cluster; with neither the node
 * forms a cluster of one, as a laptop run wants. Called once the node's shard regions run (the seeds
 * are not in {@code pekko.cluster.seed-nodes}, from where Pekko would join at once).
 */
public final class ClusterFormation {

    private ClusterFormation() {}

    /** Starts forming or joining; Pekko Management must be running when {@code discovery} is used. */
    public static void start(ActorSystem<?> system, List<String> seeds, String discovery) {
        Cluster cluster = Cluster.get(system);
        if (!seeds.isEmpty()) {
            cluster.manager().tell(new JoinSeedNodes(seedAddresses(system.name(), seeds)));
        } else if (!discovery.isBlank()) {
            ClusterBootstrap.get(system.classicSystem()).start();
        } else {
            cluster.manager().tell(Join.create(cluster.selfMember().address()));
        }
    }

    /** {@code host:port} seeds as the cluster addresses of a system named {@code systemName}. */
    public static List<Address> seedAddresses(String systemName, List<String> seeds) {
        return seeds.stream().map(seed -> AddressFromURIString.parse("pekko://" + systemName + "@" + seed)).toList();
    }
}
