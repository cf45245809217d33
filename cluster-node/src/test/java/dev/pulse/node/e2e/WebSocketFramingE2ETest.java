package dev.pulse.node.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pulse.node.TestNode;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Base64;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RFC 6455 on the node's {@code /ws} as a hand-written client meets it: frames written byte by byte
 * over a plain socket, so each rule of the server's framing (masking, control frames, fragments,
 * UTF-8, the close handshake) is tested on the wire, not through a client library that obeys them.
 */
class WebSocketFramingE2ETest {

    private static final int TEXT = 1;
    private static final int BINARY = 2;
    private static final int CLOSE = 8;
    private static final int PING = 9;
    private static final int PONG = 10;

    @TempDir
    static Path data;

    private static TestNode node;
    private RawSocket socket;

    @BeforeAll
    static void start() {
        node = TestNode.start(data);
    }

    @AfterAll
    static void stop() {
        if (node != null) {
            node.close();
        }
    }

    @AfterEach
    void closeSocket() throws IOException {
        if (socket != null) {
            socket.socket.close();
        }
    }

    private RawSocket open(String user) throws Exception {
        socket = RawSocket.open(node.httpPort(), node.client().login(user).token());
        assertThat(socket.readText()).contains("\"type\":\"welcome\"");
        assertThat(socket.readText()).as("the user's rooms, right after welcome (version 1.1)").startsWith("{\"type\":\"rooms\"");
        return socket;
    }

    @Test
    void aMaskedTextFrameIsAnsweredAndTheServersFramesAreUnmasked() throws Exception {
        RawSocket ws = open("framing-basic");
        ws.send(TEXT, true, "{\"type\":\"ping\",\"ref\":\"p1\"}".getBytes(StandardCharsets.UTF_8), true);
        Frame answer = ws.read();
        assertThat(answer.opcode).isEqualTo(TEXT);
        assertThat(answer.masked).as("a server's frames are never masked").isFalse();
        assertThat(answer.text()).isEqualTo("{\"type\":\"pong\",\"ref\":\"p1\"}");
    }

    @Test
    void aPingIsAnsweredWithItsPayloadEvenBetweenTheFragmentsOfAMessage() throws Exception {
        RawSocket ws = open("framing-ping");
        byte[] message = "{\"type\":\"ping\",\"ref\":\"frag\"}".getBytes(StandardCharsets.UTF_8);
        ws.send(TEXT, false, Arrays.copyOfRange(message, 0, 10), true);
        ws.send(PING, true, "are you there".getBytes(StandardCharsets.UTF_8), true);
        ws.send(0, true, Arrays.copyOfRange(message, 10, message.length), true);

        Frame pong = ws.read();
        assertThat(pong.opcode).isEqualTo(PONG);
        assertThat(pong.text()).isEqualTo("are you there");
        assertThat(ws.readText()).as("the message around the ping still counts").isEqualTo("{\"type\":\"pong\",\"ref\":\"frag\"}");
    }

    @Test
    void aCharacterSplitAcrossFragmentsArrivesWhole() throws Exception {
        RawSocket ws = open("framing-split-char");
        byte[] message = "{\"type\":\"ping\",\"ref\":\"é😀\"}".getBytes(StandardCharsets.UTF_8);
        int inTheEmoji = message.length - 4; // two bytes into the four of 😀
        ws.send(TEXT, false, Arrays.copyOfRange(message, 0, inTheEmoji), true);
        ws.send(0, true, Arrays.copyOfRange(message, inTheEmoji, message.length), true);
        assertThat(ws.readText()).isEqualTo("{\"type\":\"pong\",\"ref\":\"é😀\"}");
    }

    @Test
    void aBinaryMessageIsRefusedAndTheSocketStaysOpen() throws Exception {
        RawSocket ws = open("framing-binary");
        ws.send(BINARY, true, new byte[] {1, 2, 3}, true);
        assertThat(ws.readText()).contains("\"code\":\"invalid\"").contains("binary");
        ws.send(TEXT, true, "{\"type\":\"ping\",\"ref\":\"after\"}".getBytes(StandardCharsets.UTF_8), true);
        assertThat(ws.readText()).isEqualTo("{\"type\":\"pong\",\"ref\":\"after\"}");
    }

    @Test
    void theClientsCloseIsAnsweredWithItsCodeAndTheSocketEnds() throws Exception {
        RawSocket ws = open("framing-close");
        ws.send(CLOSE, true, closePayload(4001, "bye"), true);
        Frame answer = ws.read();
        assertThat(answer.opcode).isEqualTo(CLOSE);
        assertThat(answer.closeCode()).isEqualTo(4001);
        assertThat(ws.endOfStream()).as("the server ends the TCP connection after the handshake").isTrue();
    }

    @Test
    void anUnmaskedFrameClosesWithProtocolError() throws Exception {
        assertClosedWith(1002, ws -> ws.send(TEXT, true, "{\"type\":\"ping\",\"ref\":\"1\"}".getBytes(StandardCharsets.UTF_8), false));
    }

    @Test
    void reservedBitsCloseWithProtocolError() throws Exception {
        assertClosedWith(1002, ws -> ws.sendRaw(0x80 | 0x40 | TEXT, "{}".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void aContinuationWithoutAMessageClosesWithProtocolError() throws Exception {
        assertClosedWith(1002, ws -> ws.send(0, true, "{}".getBytes(StandardCharsets.UTF_8), true));
    }

    @Test
    void aNewMessageInsideAnotherClosesWithProtocolError() throws Exception {
        assertClosedWith(1002, ws -> {
            ws.send(TEXT, false, "{\"type\"".getBytes(StandardCharsets.UTF_8), true);
            ws.send(TEXT, true, "{}".getBytes(StandardCharsets.UTF_8), true);
        });
    }

    @Test
    void aControlFrameOver125BytesClosesWithProtocolError() throws Exception {
        assertClosedWith(1002, ws -> ws.send(PING, true, new byte[126], true));
    }

    @Test
    void anUnknownOpcodeClosesWithProtocolError() throws Exception {
        assertClosedWith(1002, ws -> ws.send(3, true, new byte[1], true));
    }

    @Test
    void textThatIsNotUtf8ClosesWithInconsistentData() throws Exception {
        assertClosedWith(1007, ws -> ws.send(TEXT, true, new byte[] {'{', (byte) 0xC3, (byte) 0x28, '}'}, true));
    }

    private interface Misstep {
        void on(RawSocket ws) throws IOException;
    }

    /** After the misstep the server sends a close frame with {@code code} (other frames may come first). */
    private void assertClosedWith(int code, Misstep misstep) throws Exception {
        RawSocket ws = open("framing-" + code + "-" + ThreadLocalRandom.current().nextInt(1_000_000));
        misstep.on(ws);
        Frame frame;
        do {
            frame = ws.read();
        } while (frame.opcode != CLOSE);
        assertThat(frame.closeCode()).isEqualTo(code);
        ws.send(CLOSE, true, closePayload(code, ""), true);
        assertThat(ws.endOfStream()).isTrue();
    }

    private static byte[] closePayload(int code, String reason) {
        byte[] text = reason.getBytes(StandardCharsets.UTF_8);
        byte[] payload = new byte[2 + text.length];
        payload[0] = (byte) (code >>> 8);
        payload[1] = (byte) code;
        System.arraycopy(text, 0, payload, 2, text.length);
        return payload;
    }

    private record Frame(int opcode, boolean fin, boolean masked, byte[] payload) {
        String text() {
            return new String(payload, StandardCharsets.UTF_8);
        }

        int closeCode() {
            return ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF);
        }
    }

    /** A WebSocket client on a plain socket: it writes whatever frames a test asks for. */
    private static final class RawSocket {
        final Socket socket;
        final DataInputStream in;
        final OutputStream out;

        private RawSocket(Socket socket) throws IOException {
            this.socket = socket;
            this.in = new DataInputStream(socket.getInputStream());
            this.out = socket.getOutputStream();
        }

        static RawSocket open(int port, String token) throws Exception {
            Socket socket = new Socket("127.0.0.1", port);
            socket.setSoTimeout(10_000);
            byte[] nonce = new byte[16];
            ThreadLocalRandom.current().nextBytes(nonce);
            String key = Base64.getEncoder().encodeToString(nonce);
            String request = "GET /ws?token=" + token + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n"
                + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                + "Sec-WebSocket-Key: " + key + "\r\n\r\n";
            socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
            RawSocket ws = new RawSocket(socket);
            String head = ws.readHead();
            assertThat(head).startsWith("HTTP/1.1 101");
            String accept = Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-1")
                .digest((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").getBytes(StandardCharsets.US_ASCII)));
            assertThat(head).containsIgnoringCase("sec-websocket-accept: " + accept);
            return ws;
        }

        private String readHead() throws IOException {
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
                head.write(in.readUnsignedByte());
            }
            return head.toString(StandardCharsets.US_ASCII);
        }

        void send(int opcode, boolean fin, byte[] payload, boolean masked) throws IOException {
            ByteArrayOutputStream frame = new ByteArrayOutputStream();
            frame.write((fin ? 0x80 : 0) | opcode);
            int maskBit = masked ? 0x80 : 0;
            if (payload.length < 126) {
                frame.write(maskBit | payload.length);
            } else {
                frame.write(maskBit | 126);
                frame.write(payload.length >>> 8);
                frame.write(payload.length & 0xFF);
            }
            byte[] body = payload.clone();
            if (masked) {
                byte[] mask = new byte[4];
                ThreadLocalRandom.current().nextBytes(mask);
                frame.write(mask);
                for (int i = 0; i < body.length; i++) {
                    body[i] ^= mask[i % 4];
                }
            }
            frame.write(body);
            out.write(frame.toByteArray());
            out.flush();
        }

        /** A masked frame whose first byte is {@code firstByte} as given (flags and opcode). */
        void sendRaw(int firstByte, byte[] payload) throws IOException {
            byte[] frame = new byte[2 + 4 + payload.length];
            frame[0] = (byte) firstByte;
            frame[1] = (byte) (0x80 | payload.length);
            System.arraycopy(payload, 0, frame, 6, payload.length); // a zero mask leaves the payload as is
            out.write(frame);
            out.flush();
        }

        Frame read() throws IOException {
            int first = in.readUnsignedByte();
            int second = in.readUnsignedByte();
            long length = second & 0x7F;
            if (length == 126) {
                length = in.readUnsignedShort();
            } else if (length == 127) {
                length = in.readLong();
            }
            boolean masked = (second & 0x80) != 0;
            byte[] mask = new byte[4];
            if (masked) {
                in.readFully(mask);
            }
            byte[] payload = new byte[(int) length];
            in.readFully(payload);
            if (masked) {
                for (int i = 0; i < payload.length; i++) {
                    payload[i] ^= mask[i % 4];
                }
            }
            return new Frame(first & 0x0F, (first & 0x80) != 0, masked, payload);
        }

        String readText() throws IOException {
            Frame frame = read();
            assertThat(frame.opcode).as("a text frame, got %s", frame.text()).isEqualTo(TEXT);
            return frame.text();
        }

        /** Whether the server ended the connection (end of stream before the read timeout). */
        boolean endOfStream() throws IOException {
            try {
                return in.read() == -1;
            } catch (SocketTimeoutException e) {
                return false;
            } catch (IOException reset) {
                return true; // a reset ends it too
            }
        }
    }
}
