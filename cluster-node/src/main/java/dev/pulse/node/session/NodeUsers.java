package dev.pulse.node.session;

import dev.pulse.node.user.UserEntity;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.UniqueAddress;
import org.apache.pekko.cluster.ddata.Key;
import org.apache.pekko.cluster.ddata.ORSet;
import org.apache.pekko.cluster.ddata.ORSetKey;
import org.apache.pekko.cluster.ddata.SelfUniqueAddress;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;
import org.apache.pekko.cluster.ddata.typed.javadsl.ReplicatorMessageAdapter;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * The users with sessions on this node, published in distributed data (replicated in memory to every
 * node, written locally, no database). When a node is removed from the cluster (it died and was
 * downed), every other node wakes the user entities of that node's users: an entity that died with
 * the node starts again elsewhere, finds no session left and tells the user's rooms the user is
 * offline. Without this nobody would ask for such a user again, and the rooms would show them online
 * for ever. Keys name a node incarnation, so a node restarted on the same address starts empty.
 */
public final class NodeUsers {

    public sealed interface Command {}

    /** The first session of {@code user} on this node opened. */
    public record Arrived(String user) implements Command {}

    /** The last session of {@code user} on this node closed. */
    public record Departed(String user) implements Command {}

    private record Removed(UniqueAddress node) implements Command {}

    private record Read(UniqueAddress node, Replicator.GetResponse<ORSet<String>> response) implements Command {}

    private record Written(Replicator.UpdateResponse<ORSet<String>> response) implements Command {}

    private record Deleted(Replicator.DeleteResponse<ORSet<String>> response) implements Command {}

    private NodeUsers() {}

    public static Behavior<Command> create() {
        return Behaviors.setup(context -> DistributedData.<Command, ORSet<String>>withReplicatorMessageAdapter(replicator -> {
            ActorRef<ClusterEvent.MemberRemoved> removed = context.messageAdapter(ClusterEvent.MemberRemoved.class,
                event -> new Removed(event.member().uniqueAddress()));
            Cluster.get(context.getSystem()).subscriptions().tell(Subscribe.create(removed, ClusterEvent.MemberRemoved.class));
            return behavior(context, replicator);
        }));
    }

    static Key<ORSet<String>> keyOf(UniqueAddress node) {
        return ORSetKey.create("pulse-users-" + node.address().hostPort() + "-" + node.longUid());
    }

    private static Behavior<Command> behavior(ActorContext<Command> context,
                                              ReplicatorMessageAdapter<Command, ORSet<String>> replicator) {
        SelfUniqueAddress self = DistributedData.get(context.getSystem()).selfUniqueAddress();
        Key<ORSet<String>> ownKey = keyOf(self.uniqueAddress());
        ClusterSharding sharding = ClusterSharding.get(context.getSystem());
        return Behaviors.receive(Command.class)
            .onMessage(Arrived.class, arrived -> {
                replicator.askUpdate(replyTo -> new Replicator.Update<>(ownKey, ORSet.empty(), Replicator.writeLocal(), replyTo,
                    users -> users.add(self, arrived.user())), Written::new);
                return Behaviors.same();
            })
            .onMessage(Departed.class, departed -> {
                replicator.askUpdate(replyTo -> new Replicator.Update<>(ownKey, ORSet.empty(), Replicator.writeLocal(), replyTo,
                    users -> users.remove(self, departed.user())), Written::new);
                return Behaviors.same();
            })
            .onMessage(Removed.class, gone -> {
                if (!gone.node().equals(self.uniqueAddress())) {
                    replicator.askGet(replyTo -> new Replicator.Get<>(keyOf(gone.node()), Replicator.readLocal(), replyTo),
                        response -> new Read(gone.node(), response));
                }
                return Behaviors.same();
            })
            .onMessage(Read.class, read -> {
                if (read.response() instanceof Replicator.GetSuccess<ORSet<String>> found) {
                    UserEntity.NodeLeft left = new UserEntity.NodeLeft(read.node().address());
                    java.util.Set<String> users = found.get(keyOf(read.node())).getElements();
                    context.getLog().info("Node {} was removed: waking the entities of its {} users", read.node().address(), users.size());
                    users.forEach(user -> sharding.entityRefFor(UserEntity.ENTITY_KEY, user).tell(left));
                    // Every node that saw the removal does this; the entities take it once or twice alike.
                    replicator.askDelete(replyTo -> new Replicator.Delete<>(keyOf(read.node()), Replicator.writeLocal(), replyTo),
                        Deleted::new);
                } else {
                    context.getLog().info("Node {} was removed; no users of it known here ({})", read.node().address(), read.response());
                }
                return Behaviors.same();
            })
            .onMessage(Written.class, written -> Behaviors.same())
            .onMessage(Deleted.class, deleted -> Behaviors.same())
            .build();
    }
}
