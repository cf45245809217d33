package dev.pulse.node.delivery;

import dev.pulse.protocol.FrameCodec;

/**
 * One client frame, already encoded: built once per node and shared by every local recipient, so
 * fan-out never encodes per member. What the text says is the session layer's business; {@code type}
 * is its wire type, for counting frames by type without reading the text.
 */
public record EncodedFrame(String type, String text, int bytes) {

    /** {@code bytes}: the text's UTF-8 length, what the frame costs in an outbound queue and on the wire. */
    public EncodedFrame(String type, String text) {
        this(type, text, FrameCodec.utf8Length(text));
    }
}
