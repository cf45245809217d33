package dev.pulse.node.session;

import dev.pulse.protocol.Limits;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Token buckets for {@code send}, one per user, shared by all of the user's sessions on this node:
 * {@code sendBurst} tokens that refill evenly over {@code sendWindow}.
 */
public final class SendRateLimiter {

    private final int burst;
    private final double tokensPerNano;
    private final ConcurrentHashMap<String, Bucket> buckets = new ConcurrentHashMap<>();

    public SendRateLimiter(Limits limits) {
        this.burst = limits.sendBurst();
        this.tokensPerNano = (double) limits.sendBurst() / limits.sendWindow().toNanos();
    }

    /** Takes a token for {@code user}: 0 when allowed, else the milliseconds until one is available. */
    public long acquire(String user) {
        return buckets.computeIfAbsent(user, u -> new Bucket(burst, System.nanoTime())).take(System.nanoTime());
    }

    /** Drops the bucket of a user without sessions here, once it is full again. */
    public void forgetIfIdle(String user) {
        buckets.computeIfPresent(user, (u, bucket) -> bucket.isFull(System.nanoTime()) ? null : bucket);
    }

    private final class Bucket {
        private double tokens;
        private long updatedNanos;

        Bucket(double tokens, long now) {
            this.tokens = tokens;
            this.updatedNanos = now;
        }

        synchronized long take(long now) {
            refill(now);
            if (tokens >= 1) {
                tokens -= 1;
                return 0;
            }
            return Math.max(1, (long) Math.ceil((1 - tokens) / tokensPerNano / 1_000_000));
        }

        synchronized boolean isFull(long now) {
            refill(now);
            return tokens >= burst;
        }

        private void refill(long now) {
            tokens = Math.min(burst, tokens + (now - updatedNanos) * tokensPerNano);
            updatedNanos = now;
        }
    }
}
