package dev.pulse.node.delivery;

import java.nio.charset.StandardCharsets;
import org.apache.pekko.util.ByteString;

/**
 * One client frame, already encoded: built once per node and shared by every local recipient, so
 * fan-out never encodes per member. It is held as the bytes a WebSocket writes for it (an RFC 6455
 * text frame from the server: unmasked, so the same for every socket), which makes a delivery a
 * hand-over of shared bytes. What the text says is the session layer's business; {@code type} is its
 * wire type, for counting frames by type without reading the text.
 *
 * @param wire  the whole text frame, header and payload
 * @param bytes the payload's length (the text's UTF-8 length): what the frame costs in an outbound queue
 */
public record EncodedFrame(String type, ByteString wire, int bytes) {

    public EncodedFrame(String type, String text) {
        this(type, text.getBytes(StandardCharsets.UTF_8));
    }

    /** {@code utf8}: the frame's JSON text in UTF-8. */
    public EncodedFrame(String type, byte[] utf8) {
        this(type, ByteString.fromArrayUnsafe(textFrame(utf8)), utf8.length);
    }

    /** The frame's text (decoded from the wire bytes: for tests and logs, not the delivery path). */
    public String text() {
        return wire.drop(wire.length() - bytes).decodeString(StandardCharsets.UTF_8);
    }

    /** Header (FIN, opcode 1, no mask, 7/16/64-bit length) and payload, in one array. */
    private static byte[] textFrame(byte[] payload) {
        int length = payload.length;
        int header = length < 126 ? 2 : length <= 0xFFFF ? 4 : 10;
        byte[] frame = new byte[header + length];
        frame[0] = (byte) 0x81;
        if (length < 126) {
            frame[1] = (byte) length;
        } else if (length <= 0xFFFF) {
            frame[1] = 126;
            frame[2] = (byte) (length >>> 8);
            frame[3] = (byte) length;
        } else {
            frame[1] = 127;
            for (int i = 0; i < 8; i++) {
                frame[2 + i] = (byte) ((long) length >>> (56 - 8 * i));
            }
        }
        System.arraycopy(payload, 0, frame, header, length);
        return frame;
    }
}
