package dev.pulse.node.http;

import dev.pulse.node.metrics.SocketStats;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The node's open WebSockets, for metrics only: added when a socket's stream starts, removed when it
 * ends. Queue depths are summed when Prometheus asks, so sending a frame costs nothing here.
 */
final class OpenSockets implements SocketStats {

    private final Set<WebSocketOutbound> open = ConcurrentHashMap.newKeySet();

    void opened(WebSocketOutbound socket) {
        open.add(socket);
    }

    void closed(WebSocketOutbound socket) {
        open.remove(socket);
    }

    @Override
    public int open() {
        return open.size();
    }

    @Override
    public long queuedFrames() {
        long queued = 0;
        for (WebSocketOutbound socket : open) {
            queued += socket.queued();
        }
        return queued;
    }

    @Override
    public int maxQueuedFrames() {
        int max = 0;
        for (WebSocketOutbound socket : open) {
            max = Math.max(max, socket.queued());
        }
        return max;
    }
}
