package dev.pulse.node.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pulse.protocol.Limits;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The per-user token bucket. It reads {@code System.nanoTime()} (no injectable clock), so refill is
 * tested with a short window and real time: polls with a deadline where a condition can be awaited,
 * and one wait of a full window where the passage of that time is itself what is tested.
 */
class UserRateLimiterTest {

    private static UserRateLimiter limiter(int burst, Duration window) {
        return new UserRateLimiter(new Limits(64 * 1024, 4000, burst, window));
    }

    /** Polls until {@code user} gets a token; returns how long that took. */
    private static Duration awaitToken(UserRateLimiter limiter, String user, Duration max) throws InterruptedException {
        long start = System.nanoTime();
        long deadline = start + max.toNanos();
        while (System.nanoTime() < deadline) {
            if (limiter.acquire(user) == 0) {
                return Duration.ofNanos(System.nanoTime() - start);
            }
            Thread.sleep(1); // poll interval
        }
        throw new AssertionError("no token for " + user + " within " + max);
    }

    @Test
    void aBurstOfTwentyThenRateLimitedWithARetryHint() {
        UserRateLimiter limiter = limiter(20, Duration.ofSeconds(10));
        for (int i = 1; i <= 20; i++) {
            assertThat(limiter.acquire("alice")).as("send %d of the burst", i).isZero();
        }

        long retryAfterMs = limiter.acquire("alice");

        // One token refills every 10 000 / 20 = 500 ms.
        assertThat(retryAfterMs).isPositive().isLessThanOrEqualTo(10_000 / 20);
        assertThat(limiter.acquire("alice")).as("a refused send takes no token").isPositive().isLessThanOrEqualTo(500);
    }

    @Test
    void theDefaultLimitsOfTheProtocolAllowTwentySends() {
        UserRateLimiter limiter = new UserRateLimiter(Limits.DEFAULTS);
        for (int i = 0; i < 20; i++) {
            assertThat(limiter.acquire("alice")).isZero();
        }
        assertThat(limiter.acquire("alice")).isBetween(1L, 500L);
    }

    @Test
    void tokensRefillOverTheWindow() throws InterruptedException {
        // One token per 200 ms: long enough that a loaded machine does not refill a second token
        // between two calls (with 40 ms per token, that happened).
        Duration window = Duration.ofMillis(1000);
        UserRateLimiter limiter = limiter(5, window);
        for (int i = 0; i < 5; i++) {
            assertThat(limiter.acquire("alice")).isZero();
        }
        long retryAfterMs = limiter.acquire("alice");
        assertThat(retryAfterMs).isBetween(1L, 200L);

        // One token comes back within about its refill time (generous bound for a loaded machine).
        awaitToken(limiter, "alice", Duration.ofSeconds(2));
        assertThat(limiter.acquire("alice")).as("only one token came back").isPositive();

        // After a whole window without sends, the full burst is available again, and no more.
        Thread.sleep(window.toMillis() + 50);
        for (int i = 0; i < 5; i++) {
            assertThat(limiter.acquire("alice")).as("send %d after a full refill", i + 1).isZero();
        }
        assertThat(limiter.acquire("alice")).isPositive();
    }

    @Test
    void usersHaveIndependentBuckets() {
        UserRateLimiter limiter = limiter(20, Duration.ofSeconds(10));
        for (int i = 0; i < 20; i++) {
            limiter.acquire("alice");
        }
        assertThat(limiter.acquire("alice")).isPositive();

        for (int i = 1; i <= 20; i++) {
            assertThat(limiter.acquire("bob")).as("bob's send %d", i).isZero();
        }
        assertThat(limiter.acquire("bob")).isPositive();
    }

    @Test
    void forgettingAnIdleUserDoesNotResetADrainedBucket() {
        UserRateLimiter limiter = limiter(3, Duration.ofHours(1));
        for (int i = 0; i < 3; i++) {
            assertThat(limiter.acquire("alice")).isZero();
        }
        limiter.forgetIfIdle("alice");
        assertThat(limiter.acquire("alice")).as("a drained bucket survives forgetIfIdle").isPositive();
    }

    @Test
    void forgettingAFullBucketKeepsTheFullBurst() {
        UserRateLimiter limiter = limiter(3, Duration.ofHours(1));
        limiter.forgetIfIdle("nobody");
        limiter.forgetIfIdle("alice");
        for (int i = 0; i < 3; i++) {
            assertThat(limiter.acquire("alice")).isZero();
        }
        assertThat(limiter.acquire("alice")).isPositive();
    }

    @Test
    void concurrentSendsOfOneUserNeverExceedTheBurst() throws Exception {
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            // Many short races: each trial releases all threads at once on a fresh limiter.
            for (int trial = 0; trial < 300; trial++) {
                // A window of an hour: nothing measurable refills while a trial runs.
                UserRateLimiter limiter = limiter(20, Duration.ofHours(1));
                CyclicBarrier start = new CyclicBarrier(threads);
                List<Callable<Integer>> tasks = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    tasks.add(() -> {
                        start.await(5, TimeUnit.SECONDS);
                        int granted = 0;
                        for (int i = 0; i < 10; i++) {
                            if (limiter.acquire("alice") == 0) {
                                granted++;
                            }
                        }
                        return granted;
                    });
                }
                int granted = 0;
                for (Future<Integer> result : pool.invokeAll(tasks)) {
                    granted += result.get();
                }
                assertThat(granted).as("tokens granted in trial %d", trial).isEqualTo(20);
            }
        } finally {
            pool.shutdownNow();
            assertThat(pool.awaitTermination(5, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void aNodeWithAShareOfTheUsersBudgetGetsThatPartOfBurstAndRate() {
        UserRateLimiter limiter = limiter(20, Duration.ofSeconds(10));
        limiter.setShare("alice", 2); // alice is also connected to another node
        for (int i = 1; i <= 10; i++) {
            assertThat(limiter.acquire("alice")).as("send %d of half the burst", i).isZero();
        }
        // half the rate too: one token every 10 000 / 10 = 1 000 ms
        assertThat(limiter.acquire("alice")).isGreaterThan(500).isLessThanOrEqualTo(1000);

        limiter.setShare("alice", 1); // the other node's sessions are gone: the whole rate again
        assertThat(limiter.acquire("alice")).isPositive().isLessThanOrEqualTo(500);
        assertThat(limiter.acquire("bob")).as("other users keep their whole budget").isZero();
    }
}
