package dev.pulse.node;

import dev.pulse.node.cluster.SplitDatabaseGuard;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code cluster-node/bin/pulse-node} (or {@code java -jar pulse-node.jar}): a node configured by
 * PULSE_* environment variables. JVM-wide settings belong to the launcher, not here.
 */
public final class Main {

    public static final String SYSTEM_NAME = "pulse";

    private static final Logger log = LoggerFactory.getLogger(Main.class);

    private Main() {}

    public static void main(String[] args) {
        NodeSettings settings = NodeSettings.fromEnvironment();
        PulseNode node;
        try {
            node = PulseNode.start(settings);
        } catch (IllegalStateException refused) {
            log.error("Pulse node did not start: {}", refused.getMessage());
            System.exit(1);
            return;
        }
        log.info("Pulse node {} is up: open http://{}:{}/ (history in {})", node.node(), node.httpHost(), node.httpPort(),
            settings.database().embedded() ? settings.dataDir().toAbsolutePath() : settings.database().url());
        awaitTermination(node);
        boolean refused = CoordinatedShutdown.get(node.system()).getShutdownReason()
            .filter(SplitDatabaseGuard.SPLIT_DATABASE::equals).isPresent();
        System.exit(refused ? 1 : 0);
    }

    /**
     * Until the actor system terminates. A node downed by the split brain resolver once hung in the
     * actor-system-terminate phase, alive but out of the cluster, and never exited: once that phase
     * has begun (every graceful step is done by then), it gets {@link PulseNode#TERMINATE_LIMIT}, then the
     * process halts (not exit: the JVM's shutdown hook would wait for the same hung shutdown).
     */
    private static void awaitTermination(PulseNode node) {
        CompletableFuture<?> terminated = node.system().getWhenTerminated().toCompletableFuture();
        AtomicLong terminatingSince = new AtomicLong();
        CoordinatedShutdown.get(node.system()).addTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate(),
            "exit-watchdog", () -> {
                terminatingSince.compareAndSet(0, System.nanoTime());
                return CompletableFuture.completedFuture(Done.getInstance());
            });
        while (true) {
            try {
                terminated.get(1, TimeUnit.SECONDS);
                return;
            } catch (TimeoutException stillRunning) {
                long since = terminatingSince.get();
                if (since != 0 && System.nanoTime() - since > PulseNode.TERMINATE_LIMIT.toNanos()) {
                    log.error("Pulse node {} did not terminate within {} of its last shutdown phase; halting",
                        node.node(), PulseNode.TERMINATE_LIMIT);
                    Runtime.getRuntime().halt(1);
                }
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt();
                return;
            } catch (ExecutionException failed) {
                return;
            }
        }
    }
}
