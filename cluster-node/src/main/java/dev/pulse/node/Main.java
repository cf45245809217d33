package dev.pulse.node;

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
        PulseNode node = PulseNode.start(settings);
        log.info("Pulse node {} is up: open http://{}:{}/ (history in {})", node.node(), node.httpHost(), node.httpPort(),
            settings.database().embedded() ? settings.dataDir().toAbsolutePath() : settings.database().url());
        node.system().getWhenTerminated().toCompletableFuture().join();
        System.exit(0);
    }
}
