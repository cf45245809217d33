package dev.pulse.node.session;

/** One WebSocket message from a client, made strict (and bounded) by the bridge. */
public sealed interface Inbound {

    record Text(String text) implements Inbound {}

    /** A text message over the frame limit; its content was drained, not kept. */
    record TooLarge(long bytes) implements Inbound {}

    record Binary() implements Inbound {}
}
