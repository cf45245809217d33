package dev.pulse.node.testkit;

import static dev.pulse.node.testkit.Wire.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pulse.protocol.ClientFrame;
import dev.pulse.protocol.FrameCodec;
import dev.pulse.protocol.ServerFrame;
import dev.pulse.protocol.client.PulseClient;
import dev.pulse.protocol.client.PulseConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;

/**
 * One WebSocket session as a black-box test sees it, with verbs that read like PROTOCOL.md: the test
 * {@link #send}s frames, {@link #expectReply expects the reply} to one of them (matched by its
 * {@code ref}), {@link #expectPush expects a push} (a frame the server sends on its own, without a
 * {@code ref}), or {@link #expectNoPush expects none} over a window.
 *
 * <p>Every frame is kept as parsed raw JSON, in arrival order, so tests can assert exact shapes. An
 * {@code expect…} verb takes the first frame that matches and leaves the others for later;
 * {@link #expectNext} takes the very next one, whatever it is; {@link #received()} is everything that
 * arrived, taken or not. The overloads with a {@link ServerFrame} class hand out the same frame decoded
 * by the protocol's codec, for tests that read records. Every wait fails the test after the peer's
 * timeout (10 s unless given), and at once when the socket is closed with nothing left to read.
 *
 * <p>One thread reads at a time (the one driving the test, or the one it hands the peer to); any thread
 * may send, one frame at a time (a WebSocket allows one outstanding send).
 */
public final class ChatPeer implements AutoCloseable {

    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

    private final PulseConnection connection;
    private final Duration timeout;
    private final String user;
    private final List<JsonNode> inbox = new ArrayList<>();
    private final List<JsonNode> received = new ArrayList<>();
    private JsonNode welcome;
    private JsonNode rooms;
    private int syncs;

    private ChatPeer(PulseConnection connection, String user, Duration timeout) {
        this.connection = connection;
        this.user = user;
        this.timeout = timeout;
    }

    // ================================================================== opening

    /**
     * Logs {@code user} in, opens a socket and expects the {@code welcome} as its first frame and the
     * user's {@code rooms} (version 1.1) as its second.
     */
    public static ChatPeer connect(PulseClient client, String user) {
        return connect(client, user, DEFAULT_TIMEOUT);
    }

    /** As {@link #connect(PulseClient, String)}, with {@code timeout} for every wait of this peer. */
    public static ChatPeer connect(PulseClient client, String user, Duration timeout) {
        ChatPeer peer = new ChatPeer(client.connectAs(user), user, timeout);
        try {
            JsonNode welcome = peer.expectNext();
            assertThat(welcome.path("type").asText()).as("first frame: %s", welcome).isEqualTo("welcome");
            assertThat(welcome.path("user").asText()).isEqualTo(user);
            peer.welcome = welcome;
            JsonNode rooms = peer.expectNext();
            assertThat(rooms.path("type").asText()).as("second frame: %s", rooms).isEqualTo("rooms");
            peer.rooms = rooms;
            return peer;
        } catch (RuntimeException | Error e) {
            peer.close();
            throw e;
        }
    }

    /**
     * Opens a socket with {@code token} and takes nothing from it, for tests of the handshake and of
     * the {@code welcome} itself. Throws {@link PulseClient.HttpFailure} when the node refuses the upgrade.
     */
    public static ChatPeer open(PulseClient client, String token) {
        return new ChatPeer(client.connect(token), null, DEFAULT_TIMEOUT);
    }

    /** As {@link #open}, with a single-use ticket ({@code /ws?ticket=}, version 1.1). */
    public static ChatPeer openWithTicket(PulseClient client, String ticket) {
        return new ChatPeer(client.connectWithTicket(ticket), null, DEFAULT_TIMEOUT);
    }

    /** The user this peer logged in as (null for a peer {@link #open opened} with a token). */
    public String user() {
        return user;
    }

    /** The {@code welcome} that {@link #connect} took (null for a peer {@link #open opened} with a token). */
    public JsonNode welcome() {
        return welcome;
    }

    /** The {@code rooms} frame that {@link #connect} took right after the welcome. */
    public JsonNode rooms() {
        return rooms;
    }

    // ================================================================== sending

    public void send(ClientFrame frame) {
        connection.send(frame);
    }

    /** Sends {@code json} as it is: one text frame. */
    public void sendRaw(String json) {
        connection.sendRaw(json);
    }

    /** Sends one text message in several WebSocket fragments. */
    public void sendFragmented(String json, int fragments) {
        connection.sendFragmented(json, fragments);
    }

    public void sendBinary(byte[] data) {
        connection.sendBinary(data);
    }

    /** Sends {@code join} (without {@code since}) and expects its {@code joined}. */
    public JsonNode join(String ref, String room) {
        send(new ClientFrame.Join(ref, room, null));
        return expectReply(ref, "joined");
    }

    /** Sends {@code ping} and expects the {@code pong} that echoes {@code ref}. */
    public void ping(String ref) {
        send(new ClientFrame.Ping(ref));
        JsonNode pong = expectReply(ref);
        assertThat(pong.path("type").asText()).as("reply to ping: %s", pong).isEqualTo("pong");
        assertThat(pong.path("ref").asText()).isEqualTo(ref);
    }

    /**
     * A ping round trip: when the pong is here, every frame the server queued for this session before
     * reading the ping has arrived. Returns the frames received before the pong and not taken.
     */
    public List<JsonNode> sync() {
        String ref = "sync-" + (++syncs);
        send(new ClientFrame.Ping(ref));
        JsonNode pong = expectReply(ref);
        assertThat(pong.path("type").asText()).as("%s", pong).isEqualTo("pong");
        return List.copyOf(inbox);
    }

    // ================================================================== expecting

    /** The direct reply to the frame sent with {@code ref}, whatever its type. */
    public JsonNode expectReply(String ref) {
        return expect("reply with ref " + ref, withRef(ref), timeout);
    }

    /** The direct reply to the frame sent with {@code ref}; fails unless it is of {@code type}. */
    public JsonNode expectReply(String ref, String type) {
        JsonNode reply = expectReply(ref);
        assertThat(reply.path("type").asText()).as("reply to %s: %s", ref, reply).isEqualTo(type);
        return reply;
    }

    /** The direct reply to the frame sent with {@code ref}, decoded; fails unless it is a {@code type}. */
    public <T extends ServerFrame> T expectReply(String ref, Class<T> type) {
        return expectReply(ref, type, timeout);
    }

    public <T extends ServerFrame> T expectReply(String ref, Class<T> type, Duration within) {
        JsonNode reply = expect("reply with ref " + ref, withRef(ref), within);
        ServerFrame frame = FrameCodec.decodeServer(reply.toString());
        assertThat(frame).as("reply to %s: %s", ref, reply).isInstanceOf(type);
        return type.cast(frame);
    }

    /** The first push (a frame without {@code ref}) of {@code type}. */
    public JsonNode expectPush(String type) {
        return expectPush(type, f -> true);
    }

    /** The first push (a frame without {@code ref}) of {@code type} that matches. */
    public JsonNode expectPush(String type, Predicate<JsonNode> match) {
        return expect(type + " push", push(type).and(match), timeout);
    }

    public <T extends ServerFrame> T expectPush(Class<T> type) {
        return expectPush(type, f -> true);
    }

    /** The first push (a frame without {@code ref}) that decodes to a {@code type} and matches. */
    public <T extends ServerFrame> T expectPush(Class<T> type, Predicate<? super T> match) {
        return expectPush(type, match, timeout);
    }

    public <T extends ServerFrame> T expectPush(Class<T> type, Predicate<? super T> match, Duration within) {
        Predicate<JsonNode> decoded = f -> {
            ServerFrame frame;
            try {
                frame = FrameCodec.decodeServer(f.toString());
            } catch (IllegalArgumentException notAServerFrame) {
                return false;
            }
            return type.isInstance(frame) && match.test(type.cast(frame));
        };
        return decode(expect(type.getSimpleName() + " push", isPush().and(decoded), within), type);
    }

    /** The next {@code message} of {@code room}. */
    public JsonNode expectMessage(String room) {
        return expect("message of " + room, message(room), timeout);
    }

    /** The next {@code count} {@code message} frames of {@code room}, in arrival order. */
    public List<JsonNode> expectMessages(String room, int count) {
        List<JsonNode> messages = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            messages.add(expect("message " + (i + 1) + " of " + count + " in " + room, message(room), timeout));
        }
        return messages;
    }

    /**
     * Fails if a frame of {@code type} that matches arrives within {@code window} (or is already here,
     * not taken); a frame of that type carrying a {@code ref} counts too, so nothing slips through.
     * Frames are left for later. The absence of a frame is only observable over a window.
     */
    public void expectNoPush(String type, Predicate<JsonNode> match, Duration window) {
        Predicate<JsonNode> unexpected = ofType(type).and(match);
        long deadline = System.nanoTime() + window.toNanos();
        while (true) {
            for (JsonNode frame : inbox) {
                if (unexpected.test(frame)) {
                    fail(name() + ": unexpected " + frame + " within " + window);
                }
            }
            if (System.nanoTime() >= deadline || !pull(deadline)) {
                drain();
                for (JsonNode frame : inbox) {
                    if (unexpected.test(frame)) {
                        fail(name() + ": unexpected " + frame + " within " + window);
                    }
                }
                return;
            }
        }
    }

    /** Takes the very next frame, whatever it is (frames received earlier and not taken come first). */
    public JsonNode expectNext() {
        return expect("frame", f -> true, timeout);
    }

    /** Takes frames in arrival order up to and including the first of {@code type}. */
    public List<JsonNode> takeThrough(String type) {
        return takeThrough(type, timeout);
    }

    public List<JsonNode> takeThrough(String type, Duration within) {
        long deadline = System.nanoTime() + within.toNanos();
        List<JsonNode> taken = new ArrayList<>();
        while (true) {
            while (!inbox.isEmpty()) {
                JsonNode frame = inbox.remove(0);
                taken.add(frame);
                if (type.equals(frame.path("type").asText())) {
                    return taken;
                }
            }
            if (!pull(deadline)) {
                throw new AssertionError(name() + ": no " + type + " within " + within + "; taken: " + abbreviate(taken)
                    + closedNote());
            }
        }
    }

    /** Takes every frame that has arrived and was not taken yet, without waiting. */
    public List<JsonNode> takePending() {
        drain();
        List<JsonNode> taken = List.copyOf(inbox);
        inbox.clear();
        return taken;
    }

    /** Frames that have arrived and were not taken yet. */
    public List<JsonNode> pending() {
        drain();
        return List.copyOf(inbox);
    }

    /** Every frame that has arrived so far, taken or not, welcome included. */
    public List<JsonNode> received() {
        drain();
        return List.copyOf(received);
    }

    // ================================================================== the socket

    public boolean isOpen() {
        return connection.isOpen();
    }

    /** Completes when the server closes the socket (or it fails: code 1006). */
    public CompletableFuture<PulseConnection.Closed> closed() {
        return connection.closed();
    }

    /** Expects the server to close the socket within {@code within}; returns its code and reason. */
    public PulseConnection.Closed expectClosed(Duration within) {
        return connection.awaitClosed(within);
    }

    /** Stops reading from the socket, so the server's frames pile up (a slow consumer). */
    public void pauseReading() {
        connection.pauseReading();
    }

    public void resumeReading() {
        connection.resumeReading();
    }

    /** Drops the TCP connection without a close handshake, like a lost network; frames not taken are lost. */
    public void abort() {
        connection.abort();
        drain();
        inbox.clear();
    }

    /** Closes the socket with a close handshake (1000). */
    @Override
    public void close() {
        connection.close();
    }

    // ================================================================== predicates and decoding

    /** Frames of {@code type}, reply or push. */
    public static Predicate<JsonNode> ofType(String type) {
        return f -> type.equals(f.path("type").asText());
    }

    /** The reply to the frame sent with {@code ref}. */
    public static Predicate<JsonNode> withRef(String ref) {
        return f -> f.has("ref") && ref.equals(f.get("ref").asText());
    }

    /** Frames the server sends on its own: no {@code ref}. */
    public static Predicate<JsonNode> isPush() {
        return f -> !f.hasNonNull("ref");
    }

    /** Pushes of {@code type}. */
    public static Predicate<JsonNode> push(String type) {
        return ofType(type).and(isPush());
    }

    /** {@code message} frames of {@code room}. */
    public static Predicate<JsonNode> message(String room) {
        return f -> "message".equals(f.path("type").asText()) && room.equals(f.path("room").asText());
    }

    /** {@code frame} decoded by the protocol's codec; fails unless it is a {@code type}. */
    public static <T extends ServerFrame> T decode(JsonNode frame, Class<T> type) {
        ServerFrame decoded = FrameCodec.decodeServer(frame.toString());
        assertThat(decoded).as("%s", frame).isInstanceOf(type);
        return type.cast(decoded);
    }

    // ================================================================== reading

    /** Takes the first frame (in arrival order) that matches, waiting up to {@code within}. */
    private JsonNode expect(String what, Predicate<JsonNode> match, Duration within) {
        long deadline = System.nanoTime() + within.toNanos();
        while (true) {
            for (Iterator<JsonNode> it = inbox.iterator(); it.hasNext(); ) {
                JsonNode frame = it.next();
                if (match.test(frame)) {
                    it.remove();
                    return frame;
                }
            }
            if (!pull(deadline)) {
                throw new AssertionError(name() + ": no " + what + " within " + within + "; not taken: "
                    + abbreviate(inbox) + closedNote());
            }
        }
    }

    /** Reads one more frame into the inbox; false at the deadline or when the socket is closed and read out. */
    private boolean pull(long deadline) {
        long left = deadline - System.nanoTime();
        String raw = connection.pollRaw(Duration.ofNanos(Math.max(0, left)));
        if (raw == null) {
            return false;
        }
        keep(raw);
        return true;
    }

    /** Reads every frame that has already arrived, without waiting. */
    private void drain() {
        for (String raw = connection.pollRaw(Duration.ZERO); raw != null; raw = connection.pollRaw(Duration.ZERO)) {
            keep(raw);
        }
    }

    private void keep(String raw) {
        JsonNode frame = json(raw);
        assertThat(frame).as("frame %s", raw).isInstanceOf(ObjectNode.class);
        inbox.add(frame);
        received.add(frame);
    }

    private String name() {
        return user != null ? user : "socket";
    }

    private String closedNote() {
        return connection.closed().isDone() ? "; closed: " + connection.closed().join() : "";
    }

    private static List<String> abbreviate(List<JsonNode> frames) {
        return frames.stream().map(JsonNode::toString).map(s -> s.length() > 200 ? s.substring(0, 200) + "…" : s).toList();
    }
}
