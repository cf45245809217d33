package dev.pulse.node.delivery;

/**
 * One client frame, already encoded: built once per node and shared by every local recipient, so
 * fan-out never encodes per member. What the text says is the session layer's business; {@code type}
 * is its wire type, for counting frames by type without reading the text.
 */
public record EncodedFrame(String type, String text) {}
