package dev.pulse.node.http;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Open sockets per client address on this node, when bounded ({@code pulse.limits.max-sockets-per-address},
 * off by default: behind a load balancer without a trusted X-Forwarded-For every client shares one).
 */
final class AddressSockets {

    private final int max;
    private final ConcurrentHashMap<String, Integer> open = new ConcurrentHashMap<>();

    /** {@code max} 0: no bound. */
    AddressSockets(int max) {
        this.max = max;
    }

    boolean bounded() {
        return max > 0;
    }

    int max() {
        return max;
    }

    /** Counts a socket of {@code address} in, unless it has {@code max} open already. */
    boolean tryOpen(String address) {
        if (max <= 0) {
            return true;
        }
        boolean[] admitted = {false};
        open.compute(address, (key, count) -> {
            int now = count == null ? 0 : count;
            if (now >= max) {
                return now;
            }
            admitted[0] = true;
            return now + 1;
        });
        return admitted[0];
    }

    void closed(String address) {
        if (max > 0) {
            open.computeIfPresent(address, (key, count) -> count <= 1 ? null : count - 1);
        }
    }
}
