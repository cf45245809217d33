package dev.pulse.node;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code java -jar pulse-node.jar}: a node configured by PULSE_* environment variables. */
public final class Main {

    public static final String SYSTEM_NAME = "pulse";

    static {
        // Pekko's Java ask hands back Scala's CompletionStage, which runs every callback
        // asynchronously on the common pool. With 2 CPUs or fewer (this machine, a small k8s
        // limit) that pool has parallelism 1, and CompletableFuture then starts a new thread per
        // task. Posts no longer use ask; this keeps joins, history and logins off that path too.
        // Set before anything touches ForkJoinPool; an explicit -D setting wins.
        String parallelism = "java.util.concurrent.ForkJoinPool.common.parallelism";
        if (System.getProperty(parallelism) == null) {
            System.setProperty(parallelism, String.valueOf(Math.max(2, Runtime.getRuntime().availableProcessors())));
        }
    }

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
