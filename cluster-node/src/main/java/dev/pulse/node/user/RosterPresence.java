package dev.pulse.node.user;

import dev.pulse.node.room.Member;
import dev.pulse.node.room.MemberRoster;
import dev.pulse.node.room.PresenceStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A room's durable member list (the directory's read side of the user entities' joins and leaves),
 * with each member's presence asked of their user entity. Asking wakes the user entities of members
 * who are offline, so at most {@code askLimit} are asked; the others, and any that do not answer in
 * time, are listed offline without a last-seen time until their entity tells the room otherwise.
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
    public CompletionStage<List<Member>> load(String room) {
        return members.apply(room).toCompletableFuture()
            .orTimeout(timeout.toMillis() + 1_000, java.util.concurrent.TimeUnit.MILLISECONDS)
            .exceptionally(failure -> {
                LOG.warn("room {}: its member list could not be read: {}", room, failure.toString());
                return List.of();
            })
            .thenCompose(this::withPresence);
    }

    private CompletionStage<List<Member>> withPresence(List<String> users) {
        List<CompletableFuture<Member>> answers = new ArrayList<>(users.size());
        for (int i = 0; i < users.size(); i++) {
            String user = users.get(i);
            Member unknown = new Member(user, PresenceStatus.OFFLINE, null);
            answers.add(i >= askLimit ? CompletableFuture.completedFuture(unknown)
                : AskPattern.<UserEntity.Command, UserEntity.Presence>ask(sharding.entityRefFor(UserEntity.ENTITY_KEY, user),
                        UserEntity.GetPresence::new, timeout, system.scheduler())
                    .thenApply(presence -> Member.of(user, presence.status(), presence.lastSeen()))
                    .exceptionally(failure -> unknown)
                    .toCompletableFuture());
        }
        return CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new))
            .thenApply(done -> answers.stream().map(CompletableFuture::join).toList());
    }
}
