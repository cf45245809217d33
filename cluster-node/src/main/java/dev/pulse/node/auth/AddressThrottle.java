package dev.pulse.node.auth;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Wrong passwords per client address on this node: at most {@code max} within {@code window}, so one
 * client cannot try names one after another (the per-name bound lives in each user's entity).
 * Thread-safe; addresses with no recent failure are forgotten.
 */
public final class AddressThrottle {

    private final int max;
    private final long windowMs;
    private final Map<String, ArrayDeque<Long>> failures = new HashMap<>();
    private long lastSweepMs;

    public AddressThrottle(int max, Duration window) {
        this.max = max;
        this.windowMs = window.toMillis();
    }

    /** 0 when {@code address} may try a password now, else the milliseconds until it may. */
    public synchronized long retryAfterMs(String address, long nowMs) {
        sweep(nowMs);
        ArrayDeque<Long> recent = failures.get(address);
        if (recent == null) {
            return 0;
        }
        while (!recent.isEmpty() && recent.peekFirst() <= nowMs - windowMs) {
            recent.pollFirst();
        }
        return recent.size() < max ? 0 : Math.max(1, recent.peekFirst() + windowMs - nowMs);
    }

    public synchronized void failed(String address, long nowMs) {
        failures.computeIfAbsent(address, a -> new ArrayDeque<>()).addLast(nowMs);
    }

    private void sweep(long nowMs) {
        if (nowMs - lastSweepMs < windowMs) {
            return;
        }
        lastSweepMs = nowMs;
        failures.values().removeIf(recent -> recent.isEmpty() || recent.peekLast() <= nowMs - windowMs);
    }
}
