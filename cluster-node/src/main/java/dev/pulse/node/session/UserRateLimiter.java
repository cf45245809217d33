package dev.pulse.node.session;

import dev.pulse.protocol.Limits;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Token buckets, one per user, shared by all of the user's sessions on this node: {@code burst}
 * tokens that refill evenly over {@code window}. One limiter counts sends; another counts requests
 * (history, presence, join), another typing notices. When the user's sessions are on several nodes,
 * the user entity gives each node an even share of the send budget ({@link #setShare}), so it stays
 * the same however many nodes the user's devices are connected to.
 */
public final class UserRateLimiter {

    private final int burst;
    private final double tokensPerNano;
    private final ConcurrentHashMap<String, Bucket> buckets = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Integer> shares = new ConcurrentHashMap<>();

    private final Duration window;

    /** The send budget of {@code limits}. */
    public UserRateLimiter(Limits limits) {
        this(limits.sendBurst(), limits.sendWindow());
    }

    public UserRateLimiter(int burst, Duration window) {
        this.burst = burst;
        this.window = window;
        this.tokensPerNano = (double) burst / window.toNanos();
    }

    /** "50 per 10 s", for error messages. */
    public String describe() {
        return burst + " per " + window.toSeconds() + " s";
    }

    /** Takes a token for {@code user}: 0 when allowed, else the milliseconds until one is available. */
    public long acquire(String user) {
        long now = System.nanoTime();
        return buckets.computeIfAbsent(user, u -> new Bucket(shares.getOrDefault(u, 1), now)).take(now);
    }

    /** This node's sessions of {@code user} get 1/{@code nodes} of the user's budget. */
    public void setShare(String user, int nodes) {
        int share = Math.max(1, nodes);
        if (share == 1) {
            shares.remove(user);
        } else {
            shares.put(user, share);
        }
        Bucket bucket = buckets.get(user);
        if (bucket != null) {
            bucket.share(share, System.nanoTime());
        }
    }

    /** Drops the bucket of a user without sessions here, once it is full again. */
    public void forgetIfIdle(String user) {
        buckets.computeIfPresent(user, (u, bucket) -> bucket.isFull(System.nanoTime()) ? null : bucket);
    }

    /** The user has no sessions here any more: a later session starts with the whole budget until told. */
    public void forget(String user) {
        shares.remove(user);
        forgetIfIdle(user);
    }

    private final class Bucket {
        private double capacity;
        private double refillPerNano;
        private double tokens;
        private long updatedNanos;

        Bucket(int share, long now) {
            this.capacity = (double) burst / share;
            this.refillPerNano = tokensPerNano / share;
            this.tokens = capacity;
            this.updatedNanos = now;
        }

        synchronized void share(int share, long now) {
            refill(now);
            capacity = (double) burst / share;
            refillPerNano = tokensPerNano / share;
            tokens = Math.min(tokens, capacity);
        }

        synchronized long take(long now) {
            refill(now);
            if (tokens >= 1) {
                tokens -= 1;
                return 0;
            }
            return Math.max(1, (long) Math.ceil((1 - tokens) / refillPerNano / 1_000_000));
        }

        synchronized boolean isFull(long now) {
            refill(now);
            return tokens >= capacity;
        }

        private void refill(long now) {
            tokens = Math.min(capacity, tokens + (now - updatedNanos) * refillPerNano);
            updatedNanos = now;
        }
    }
}
