package dev.pulse.perf;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/** Things to stop at the end of a benchmark, in reverse order, whatever happened (also on Ctrl-C). */
final class Cleanup implements AutoCloseable {

    interface Step {
        void run() throws Exception;
    }

    private final List<Map.Entry<String, Step>> steps = new ArrayList<>();
    private final Consumer<String> log;
    private final Thread hook = new Thread(this::runAll, "benchmark-cleanup");

    Cleanup(Consumer<String> log) {
        this.log = log;
        Runtime.getRuntime().addShutdownHook(hook); // Ctrl-C: still stop the node and PostgreSQL
    }

    synchronized void add(String name, Step step) {
        steps.add(Map.entry(name, step));
    }

    private synchronized void runAll() {
        for (int i = steps.size() - 1; i >= 0; i--) {
            try {
                steps.get(i).getValue().run();
            } catch (Exception e) {
                log.accept("stopping " + steps.get(i).getKey() + " failed: " + e);
            }
        }
        steps.clear();
    }

    @Override
    public void close() {
        runAll();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook runs anyway
        }
    }
}
