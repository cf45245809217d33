package dev.pulse.node.metrics;

/** What the transport tells about its open sockets; called at scrape time, from any thread. */
public interface SocketStats {

    int open();

    /** Frames queued for clients over all sockets. */
    long queuedFrames();

    /** The longest queue of one socket. */
    int maxQueuedFrames();
}
