package dev.pulse.node;

import dev.pulse.node.cluster.SplitDatabaseGuard;
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
        node.system().getWhenTerminated().toCompletableFuture().join();
        boolean refused = CoordinatedShutdown.get(node.system()).getShutdownReason()
            .filter(SplitDatabaseGuard.SPLIT_DATABASE::equals).isPresent();
        System.exit(refused ? 1 : 0);
    }
}
