package dev.pulse.node.user;

import dev.pulse.node.room.Member;
import dev.pulse.node.room.MemberRoster;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A room's durable member list (the directory's read side of the user entities' joins and leaves),
 * and each member's presence asked of their user entity. Asking wakes the user entities of members
 * who are offline, so at most {@code askLimit} are asked, each for at most {@code timeout}.
 */
public final class RosterPresence implements MemberRoster {

    private static final Logger LOG = LoggerFactory.getLogger(RosterPresence.class);

    private final Function<String, CompletionStage<List<String>>> members;
    private final ClusterSharding sharding;
    private final ActorSystem<?> system;
    private final Duration timeout;
    private final int askLimit;

    public RosterPresence(Function<String, CompletionStage<List<String>>> members, ActorSystem<?> system,
                          Duration timeout, int askLimit) {
        this.members = members;
        this.sharding = ClusterSharding.get(system);
        this.system = system;
        this.timeout = timeout;
        this.askLimit = askLimit;
    }

    @Override
    public CompletionStage<List<String>> members(String room) {
        return members.apply(room).toCompletableFuture()
            .orTimeout(timeout.toMillis() + 1_000, TimeUnit.MILLISECONDS)
            .exceptionally(failure -> {
                LOG.warn("room {}: its member list could not be read: {}", room, failure.toString());
                return List.of();
            });
    }

    @Override
    public List<CompletionStage<Member>> presence(List<String> users) {
        return users.stream().limit(askLimit)
            .map(user -> AskPattern.<UserEntity.Command, UserEntity.Presence>ask(
                    sharding.entityRefFor(UserEntity.ENTITY_KEY, user), UserEntity.GetPresence::new, timeout, system.scheduler())
                .thenApply(presence -> Member.of(user, presence.status(), presence.lastSeen())))
            .toList();
    }
}
