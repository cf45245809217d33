package dev.pulse.perf;

import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/** At most {@code permits} asynchronous tasks under way; the rest wait in order, without blocking a thread. */
final class AsyncLimiter {

    private final ArrayDeque<Runnable> waiting = new ArrayDeque<>();
    private final Executor executor;
    private int permits;

    AsyncLimiter(int permits, Executor executor) {
        this.permits = permits;
        this.executor = executor;
    }

    <T> CompletableFuture<T> submit(Supplier<CompletableFuture<T>> task) {
        CompletableFuture<T> result = new CompletableFuture<>();
        Runnable run = () -> {
            CompletableFuture<T> started;
            try {
                started = task.get();
            } catch (RuntimeException e) {
                started = CompletableFuture.failedFuture(e);
            }
            started.whenComplete((value, error) -> {
                release();
                if (error != null) {
                    result.completeExceptionally(error);
                } else {
                    result.complete(value);
                }
            });
        };
        synchronized (this) {
            if (permits == 0) {
                waiting.add(run);
                return result;
            }
            permits--;
        }
        run.run();
        return result;
    }

    private void release() {
        Runnable next;
        synchronized (this) {
            next = waiting.poll();
            if (next == null) {
                permits++;
                return;
            }
        }
        executor.execute(next); // not on this stack: thousands may be queued
    }
}
