package dev.pulse.node.session;

import dev.pulse.node.CborSerializable;
import dev.pulse.node.user.UntilConfirmed;
import dev.pulse.node.user.UserEntity;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.ActorSelection;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * The users with sessions on this node, as every other node knows them (in memory, no database).
 * When a node is removed from the cluster (it died and was downed), every other node wakes the user
 * entities of that node's users: an entity that died with the node starts again elsewhere, finds no
 * session left and tells the user's rooms the user is offline. Without this nobody would ask for such
 * a user again, and the rooms would show them online for ever. Peers are told apart by node
 * incarnation (uid), so a node restarted on the same address starts empty.
 *
 * <p>Each node sends its changes to the others itself. An arrival goes out at once, with whatever
 * else is pending: until the others know of a user here, a crash of this node would leave that user
 * online for good (the user's rooms show a joining user online at once). Departures alone are
 * batched (written at once when the last batch is older than {@link #FLUSH_INTERVAL}, else with the
 * next batch); a user shown departed a little late does no harm.
 * numbered, and sent to every other Up member's {@code NodeUsers} (same path on every node, found
 * from cluster membership, so a node is told of the others' users as soon as it is Up). A
 * receiver that sees a number missing, or a sender it does not know, asks for everything (sent in
 * chunks); every {@link #ANNOUNCE_INTERVAL} each node tells the others its last number, so a lost
 * last batch is noticed too. This costs a message per batch and node. It replaced one distributed-data
 * ORSet per node: each connect changed it, and gossip re-serialized, compared and shipped the whole
 * set (digests, full state whenever a digest differed) — 11–15 % of every node's CPU while 6,000
 * users connected to three nodes, growing with the number of users.
 */
public final class NodeUsers {

    static final Duration FLUSH_INTERVAL = Duration.ofMillis(200);
    static final Duration ANNOUNCE_INTERVAL = Duration.ofSeconds(5);
    static final int CHUNK = 2_000;

    public sealed interface Command {}

    /** The first session of {@code user} on this node opened. */
    public record Arrived(String user) implements Command {}

    /** The last session of {@code user} on this node closed. */
    public record Departed(String user) implements Command {}

    /** Batch {@code seq} of node incarnation {@code uid}'s changes. */
    public record Changes(ActorRef<Command> from, long uid, long seq, List<String> arrived, List<String> departed)
        implements Command, CborSerializable {}

    /** Node incarnation {@code uid} has sent batches up to {@code seq}. */
    public record LastSeq(ActorRef<Command> from, long uid, long seq) implements Command, CborSerializable {}

    /** Send me all your users. */
    public record SendAll(ActorRef<Command> replyTo) implements Command, CborSerializable {}

    /** All users of {@code uid} as of batch {@code seq}, in chunks: the first resets, the last completes. */
    public record Snapshot(ActorRef<Command> from, long uid, long seq, List<String> users, boolean first, boolean last)
        implements Command, CborSerializable {}

    private record Removed(Address address, long uid) implements Command {}

    private record MemberIsUp(Member member) implements Command {}

    private record WakeNoted(UserEntity.NodeLeftNoted noted) implements Command {}

    /** The entity of {@code user} is to hear that {@code node} left. */
    private record Wake(String user, Address node) {}

    private enum Tick implements Command { FLUSH, ANNOUNCE, REWAKE }

    /** Wake-ups not confirmed yet are sent again this often, for this long at most. */
    static final Duration REWAKE_INTERVAL = Duration.ofSeconds(1);
    static final Duration REWAKE_GIVE_UP = Duration.ofMinutes(2);

    /** What this node knows of another node incarnation's users. */
    private static final class Peer {
        final ActorRef<Command> ref;
        long seq;
        Set<String> users = new HashSet<>();
        Set<String> incoming;
        boolean syncing;

        Peer(ActorRef<Command> ref) {
            this.ref = ref;
        }
    }

    private NodeUsers() {}

    public static Behavior<Command> create() {
        return Behaviors.setup(context -> Behaviors.withTimers(timers -> {
            ActorRef<ClusterEvent.MemberRemoved> removed = context.messageAdapter(ClusterEvent.MemberRemoved.class,
                event -> new Removed(event.member().address(), event.member().uniqueAddress().longUid()));
            Cluster.get(context.getSystem()).subscriptions().tell(Subscribe.create(removed, ClusterEvent.MemberRemoved.class));
            ActorRef<ClusterEvent.MemberUp> up = context.messageAdapter(ClusterEvent.MemberUp.class,
                event -> new MemberIsUp(event.member()));
            Cluster cluster = Cluster.get(context.getSystem());
            cluster.subscriptions().tell(Subscribe.create(up, ClusterEvent.MemberUp.class));
            cluster.state().getMembers().forEach(member -> {
                if (member.status() == MemberStatus.up()) {
                    context.getSelf().tell(new MemberIsUp(member));
                }
            });
            timers.startTimerWithFixedDelay(Tick.ANNOUNCE, ANNOUNCE_INTERVAL);
            return new Running(context, timers).behavior();
        }));
    }

    private static final class Running {

        private final ActorContext<Command> context;
        private final TimerScheduler<Command> timers;
        private final ClusterSharding sharding;
        private final long uid;
        private final Set<String> users = new HashSet<>();
        /** Changes not sent yet: user → true (arrived) or false (departed); the last one counts. */
        private final Map<String, Boolean> pending = new HashMap<>();
        private long seq;
        private long lastFlushNanos = System.nanoTime() - FLUSH_INTERVAL.toNanos();
        /** The NodeUsers of every other Up member, by node incarnation. */
        private final Map<Long, ActorSelection> others = new HashMap<>();
        private final Map<Long, Peer> peers = new HashMap<>();
        private final Set<Long> removedUids = new HashSet<>();
        /** Wake-ups of removed nodes' users that their entities have not answered yet. */
        private final UntilConfirmed<Wake, UserEntity.NodeLeft> unwoken = new UntilConfirmed<>(REWAKE_GIVE_UP);
        private final ActorRef<UserEntity.NodeLeftNoted> wakeNoted;

        Running(ActorContext<Command> context, TimerScheduler<Command> timers) {
            this.context = context;
            this.timers = timers;
            this.wakeNoted = context.messageAdapter(UserEntity.NodeLeftNoted.class, WakeNoted::new);
            this.sharding = ClusterSharding.get(context.getSystem());
            this.uid = Cluster.get(context.getSystem()).selfMember().uniqueAddress().longUid();
        }

        Behavior<Command> behavior() {
            return Behaviors.receive(Command.class)
                .onMessage(Arrived.class, arrived -> changed(arrived.user(), true))
                .onMessage(Departed.class, departed -> changed(departed.user(), false))
                .onMessageEquals(Tick.FLUSH, () -> {
                    flush();
                    return Behaviors.same();
                })
                .onMessageEquals(Tick.ANNOUNCE, () -> {
                    tellOthers(new LastSeq(context.getSelf(), uid, seq));
                    return Behaviors.same();
                })
                .onMessage(MemberIsUp.class, this::onMemberUp)
                .onMessage(Changes.class, this::onChanges)
                .onMessage(LastSeq.class, last -> {
                    Peer peer = peerOf(last.uid(), last.from());
                    if (peer != null && (peer.syncing || last.seq() > peer.seq)) {
                        resync(peer); // its last batches, or the snapshot asked for, never came
                    }
                    return Behaviors.same();
                })
                .onMessage(SendAll.class, sendAll -> {
                    sendAll(sendAll.replyTo()::tell);
                    return Behaviors.same();
                })
                .onMessage(Snapshot.class, this::onSnapshot)
                .onMessage(Removed.class, this::onRemoved)
                .onMessage(WakeNoted.class, noted -> {
                    unwoken.remove(new Wake(noted.noted().user(), noted.noted().node()));
                    return Behaviors.same();
                })
                .onMessageEquals(Tick.REWAKE, () -> {
                    int givenUp = unwoken.expire(System.nanoTime());
                    if (givenUp > 0) {
                        context.getLog().warn("{} user entities never answered that their node left; given up", givenUp);
                    }
                    unwoken.forEach((wake, left) -> wake(wake.user(), left));
                    if (!unwoken.isEmpty()) {
                        timers.startSingleTimer(Tick.REWAKE, REWAKE_INTERVAL);
                    }
                    return Behaviors.same();
                })
                .build();
        }

        private Behavior<Command> changed(String user, boolean arrived) {
            pending.put(user, arrived);
            if (arrived) {
                timers.cancel(Tick.FLUSH);
                flush();
            } else if (!timers.isTimerActive(Tick.FLUSH)) {
                long due = lastFlushNanos + FLUSH_INTERVAL.toNanos() - System.nanoTime();
                if (due <= 0) {
                    flush(); // quiet until now: no reason to wait
                } else {
                    timers.startSingleTimer(Tick.FLUSH, Duration.ofNanos(due));
                }
            }
            return Behaviors.same();
        }

        private void flush() {
            lastFlushNanos = System.nanoTime();
            List<String> arrived = new ArrayList<>();
            List<String> departed = new ArrayList<>();
            pending.forEach((user, here) -> {
                if (here ? users.add(user) : users.remove(user)) {
                    (here ? arrived : departed).add(user);
                }
            });
            pending.clear();
            if (arrived.isEmpty() && departed.isEmpty()) {
                return;
            }
            tellOthers(new Changes(context.getSelf(), uid, ++seq, arrived, departed));
        }

        private void tellOthers(Command message) {
            others.values().forEach(other -> other.tell(message, org.apache.pekko.actor.ActorRef.noSender()));
        }

        private Behavior<Command> onMemberUp(MemberIsUp up) {
            long memberUid = up.member().uniqueAddress().longUid();
            if (memberUid != uid && !removedUids.contains(memberUid) && !others.containsKey(memberUid)) {
                ActorSelection other = context.classicActorContext().actorSelection(
                    up.member().address() + context.getSelf().path().toStringWithoutAddress());
                others.put(memberUid, other);
                sendAll(message -> other.tell(message, org.apache.pekko.actor.ActorRef.noSender())); // it knows nothing of ours yet
            }
            return Behaviors.same();
        }

        private Behavior<Command> onChanges(Changes changes) {
            Peer peer = peerOf(changes.uid(), changes.from());
            if (peer == null || peer.syncing || changes.seq() <= peer.seq) {
                return Behaviors.same(); // the snapshot under way has these, or we had them
            }
            if (changes.seq() != peer.seq + 1) {
                resync(peer);
                return Behaviors.same();
            }
            peer.seq = changes.seq();
            peer.users.addAll(changes.arrived());
            changes.departed().forEach(peer.users::remove);
            return Behaviors.same();
        }

        private Behavior<Command> onSnapshot(Snapshot snapshot) {
            Peer peer = peerOf(snapshot.uid(), snapshot.from());
            if (peer == null) {
                return Behaviors.same();
            }
            if (snapshot.first()) {
                peer.incoming = new HashSet<>();
                peer.syncing = true;
            }
            if (peer.incoming == null) {
                return Behaviors.same(); // a tail without its head: the next LastSeq or Changes resyncs
            }
            peer.incoming.addAll(snapshot.users());
            if (snapshot.last()) {
                peer.users = peer.incoming;
                peer.incoming = null;
                peer.seq = snapshot.seq();
                peer.syncing = false;
            }
            return Behaviors.same();
        }

        private Behavior<Command> onRemoved(Removed removed) {
            Peer peer = peers.remove(removed.uid());
            others.remove(removed.uid());
            removedUids.add(removed.uid());
            if (removed.uid() == uid) {
                return Behaviors.same();
            }
            if (peer == null) {
                context.getLog().info("Node {} was removed; no users of it known here", removed.address());
                return Behaviors.same();
            }
            Set<String> gone = new HashSet<>(peer.users);
            if (peer.incoming != null) {
                gone.addAll(peer.incoming); // half a snapshot is better than none
            }
            context.getLog().info("Node {} was removed: waking the entities of its {} users", removed.address(), gone.size());
            // Every node that saw the removal does this; the entities take it once or twice alike. Sent
            // again until answered: right after a removal the shard coordinator may still place a shard
            // on the dead node's region, and the message goes with it.
            UserEntity.NodeLeft left = new UserEntity.NodeLeft(removed.address(), wakeNoted);
            long now = System.nanoTime();
            gone.forEach(user -> {
                unwoken.put(new Wake(user, removed.address()), left, now);
                wake(user, left);
            });
            if (!unwoken.isEmpty() && !timers.isTimerActive(Tick.REWAKE)) {
                timers.startSingleTimer(Tick.REWAKE, REWAKE_INTERVAL);
            }
            return Behaviors.same();
        }

        private void wake(String user, UserEntity.NodeLeft left) {
            sharding.entityRefFor(UserEntity.ENTITY_KEY, user).tell(left);
        }

        /** Null for a node already removed (its last messages may come after the removal). */
        private Peer peerOf(long peerUid, ActorRef<Command> ref) {
            Peer peer = peers.get(peerUid);
            if (peer == null && !removedUids.contains(peerUid)) {
                peer = new Peer(ref);
                peers.put(peerUid, peer);
                resync(peer);
            }
            return peer;
        }

        private void resync(Peer peer) {
            peer.syncing = true;
            peer.ref.tell(new SendAll(context.getSelf()));
        }

        private void sendAll(java.util.function.Consumer<Command> to) {
            List<String> all = new ArrayList<>(users);
            int chunks = Math.max(1, (all.size() + CHUNK - 1) / CHUNK);
            for (int i = 0; i < chunks; i++) {
                List<String> chunk = List.copyOf(all.subList(i * CHUNK, Math.min(all.size(), (i + 1) * CHUNK)));
                to.accept(new Snapshot(context.getSelf(), uid, seq, chunk, i == 0, i == chunks - 1));
            }
        }
    }
}
