package dev.pulse.node.persistence;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.RecoveryFailed;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Recovers a few empty persistent actors as the node starts, so the journal and snapshot plugins,
 * their connection pool and the recovery path are up before the node says it is ready
 * ({@code /ready}, through {@link ReadinessCheck}). Without it the journal plugin starts with the
 * first entity: in a rolling restart the rooms handed to a node just started recovered in 2–5 s
 * (plugin start, connections, class loading) instead of well under a second.
 * A node whose database does not answer keeps trying and stays not ready.
 */
public final class JournalWarmup implements Extension {

    private static final Logger LOG = LoggerFactory.getLogger(JournalWarmup.class);
    private static final Duration RETRY_AFTER = Duration.ofSeconds(1);

    public static final ExtensionId<JournalWarmup> ID = new ExtensionId<>() {
        @Override
        public JournalWarmup createExtension(ActorSystem<?> system) {
            return new JournalWarmup();
        }
    };

    private final CompletableFuture<Done> done = new CompletableFuture<>();

    public static JournalWarmup get(ActorSystem<?> system) {
        return ID.apply(system);
    }

    /** True once a round of recoveries has completed. */
    public boolean isDone() {
        return done.isDone();
    }

    public CompletionStage<Done> whenDone() {
        return done;
    }

    /** Starts {@code parallelism} recoveries at once (one per pooled connection), again after failures. */
    public void start(ActorSystem<?> system, int parallelism) {
        long startedAt = System.nanoTime();
        round(system, parallelism, 1).thenRun(() -> {
            LOG.info("Journal ready: {} recoveries in {} ms", parallelism, (System.nanoTime() - startedAt) / 1_000_000);
            done.complete(Done.getInstance());
        });
    }

    private CompletableFuture<Void> round(ActorSystem<?> system, int parallelism, int attempt) {
        List<CompletableFuture<Void>> recoveries = new ArrayList<>(parallelism);
        String run = UUID.randomUUID().toString();
        for (int i = 0; i < parallelism; i++) {
            CompletableFuture<Void> recovered = new CompletableFuture<>();
            recoveries.add(recovered);
            system.systemActorOf(Probe.create(PersistenceId.ofUniqueId("pulse-warmup-" + run + "-" + i), recovered),
                "journal-warmup-" + run + "-" + i, Props.empty());
        }
        return CompletableFuture.allOf(recoveries.toArray(CompletableFuture[]::new)).handle((ok, failure) -> failure)
            .thenCompose(failure -> {
                if (failure == null) {
                    return CompletableFuture.<Void>completedFuture(null);
                }
                LOG.warn("The journal did not answer (attempt {}): {}; trying again", attempt, failure.toString());
                CompletableFuture<Void> later = new CompletableFuture<>();
                system.scheduler().scheduleOnce(RETRY_AFTER, () -> round(system, parallelism, attempt + 1)
                    .whenComplete((v, e) -> later.complete(null)), system.executionContext());
                return later;
            });
    }

    /** Pekko Management readiness check ({@code pekko.management.health-checks.readiness-checks}). */
    public static final class ReadinessCheck implements Supplier<CompletionStage<Boolean>> {

        private final JournalWarmup warmup;

        public ReadinessCheck(org.apache.pekko.actor.ActorSystem system) {
            this.warmup = JournalWarmup.get(Adapter.toTyped(system));
        }

        @Override
        public CompletionStage<Boolean> get() {
            return CompletableFuture.completedFuture(warmup.isDone());
        }
    }

    /** Recovers (there are no events) and stops. */
    private static final class Probe extends EventSourcedBehavior<Object, Object, String> {

        private final ActorContext<Object> context;
        private final CompletableFuture<Void> recovered;

        static Behavior<Object> create(PersistenceId id, CompletableFuture<Void> recovered) {
            return Behaviors.setup(context -> new Probe(context, id, recovered));
        }

        private Probe(ActorContext<Object> context, PersistenceId id, CompletableFuture<Void> recovered) {
            super(id);
            this.context = context;
            this.recovered = recovered;
        }

        @Override
        public String emptyState() {
            return "";
        }

        @Override
        public CommandHandler<Object, Object, String> commandHandler() {
            return (state, command) -> Effect().stop();
        }

        @Override
        public EventHandler<String, Object> eventHandler() {
            return (state, event) -> state;
        }

        @Override
        public SignalHandler<String> signalHandler() {
            return newSignalHandlerBuilder()
                .onSignal(RecoveryCompleted.instance(), state -> {
                    recovered.complete(null);
                    context.getSelf().tell(Done.getInstance()); // any command stops it
                })
                .onSignal(RecoveryFailed.class, (state, failed) -> recovered.completeExceptionally(failed.getFailure()))
                .build();
        }
    }
}
