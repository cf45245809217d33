package dev.pulse.node;

import dev.pulse.node.cluster.SplitDatabaseGuard;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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
     * Until the actor system terminates, or until a shutdown has run for longer than all of its
     * phases may take: a node downed by the split brain resolver once hung in its last phase with
     * the system never terminating, alive but out of the cluster, so the process never exited.
     */
    private static void awaitTermination(PulseNode node) {
        CompletableFuture<?> terminated = node.system().getWhenTerminated().toCompletableFuture();
        CoordinatedShutdown shutdown = CoordinatedShutdown.get(node.system());
        Duration limit = Duration.ofMillis(shutdown.totalTimeout().toMillis()).plusSeconds(5);
        long limitNanos = limit.toNanos();
        long shutdownSince = 0;
        while (true) {
            try {
                terminated.get(1, TimeUnit.SECONDS);
                return;
            } catch (TimeoutException stillRunning) {
                if (shutdown.getShutdownReason().isEmpty()) {
                    continue;
                }
                long now = System.nanoTime();
                if (shutdownSince == 0) {
                    shutdownSince = now;
                } else if (now - shutdownSince > limitNanos) {
                    log.error("Pulse node {} did not terminate within {} of its shutdown; exiting", node.node(),
                        limit);
                    return;
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
