package dev.pulse.node.cluster;

import java.nio.file.Path;
import java.util.List;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * A node on the embedded database keeps its history in files only it can read. In a cluster of more
 * than one, rooms move between nodes and each node would show its own part of every history, so
 * such a node refuses to be one: it will not join seeds ({@link #refuseSeeds}), and it leaves as soon
 * as another node joins it ({@link #create}).
 */
public final class SplitDatabaseGuard {

    /** The reason a node stopped itself; {@code Main} exits non-zero for it. */
    public static final CoordinatedShutdown.Reason SPLIT_DATABASE = new CoordinatedShutdown.Reason() {
        @Override
        public String toString() {
            return "SplitDatabase";
        }
    };

    private SplitDatabaseGuard() {}

    /**
     * Fails a start that would join other nodes while the history is in {@code dataDir}; a seed list
     * naming only the node itself ({@code self}, host:port) is a cluster of one.
     */
    public static void refuseSeeds(List<String> seeds, String self, Path dataDir) {
        List<String> others = seeds.stream().filter(seed -> !seed.equals(self)).toList();
        if (!others.isEmpty()) {
            throw new IllegalStateException(explain(dataDir) + " It was asked to join " + String.join(", ", others) + ".");
        }
    }

    /** Fails a start that would bootstrap a cluster through discovery while the history is in {@code dataDir}. */
    public static void refuseDiscovery(String discovery, Path dataDir) {
        if (!discovery.isBlank()) {
            throw new IllegalStateException(explain(dataDir) + " It was asked to find other nodes (PULSE_DISCOVERY="
                + discovery + ").");
        }
    }

    /** Watches the membership of a node on the embedded database; another member stops the node. */
    public static Behavior<ClusterEvent.MemberEvent> create(Path dataDir) {
        return Behaviors.setup(context -> {
            Cluster cluster = Cluster.get(context.getSystem());
            cluster.subscriptions().tell(Subscribe.create(context.getSelf(), ClusterEvent.MemberEvent.class));
            return Behaviors.receiveMessage(event -> {
                if (!event.member().address().equals(cluster.selfMember().address())
                    && !(event instanceof ClusterEvent.MemberRemoved)) {
                    context.getLog().error("{} Node {} joined it, so this node stops.", explain(dataDir), event.member().address());
                    CoordinatedShutdown.get(context.getSystem()).run(SPLIT_DATABASE);
                    return Behaviors.stopped();
                }
                return Behaviors.same();
            });
        });
    }

    private static String explain(Path dataDir) {
        return "This node keeps its history in an embedded database (" + dataDir.toAbsolutePath()
            + ") that no other node can read, so it cannot be part of a cluster of more than one: set"
            + " PULSE_DB_URL (with PULSE_DB_USER and PULSE_DB_PASSWORD) to one PostgreSQL that every node uses.";
    }
}
