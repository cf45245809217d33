package dev.pulse.node.session;

import dev.pulse.node.delivery.Delivery;
import dev.pulse.node.room.RoomEntity;
import dev.pulse.node.room.RoomFeed;
import dev.pulse.node.room.StoredEvent;
import dev.pulse.protocol.ClientFrame;
import dev.pulse.protocol.ErrorCode;
import dev.pulse.protocol.ServerFrame;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * One room of one session, from attach to live delivery: attach to the node's hub, join the room,
 * replay what the client missed ({@code since}), then deliver live. The heart of gap-free resume:
 * {@link #delivered} is the highest seq the client has, and nothing at or below it is sent again.
 *
 * <p>Live frames that arrive while joining or replaying are held and delivered after the replay,
 * once {@code synced} is out. A live frame that skips seqs (its hub missed messages while the room
 * moved, or a publish was lost with a node) is held too, and the hole is read from the room first:
 * whatever happens to nodes, the client never sees a seq jump. Replay is paced by the outbound queue's free space, so a long resume
 * is never taken for a slow consumer. Not thread-safe: driven by its session actor only, through
 * {@link Port}, which does the asking, sending and timing.
 */
final class RoomSubscription {

    enum Phase { ATTACHING, JOINING, REPLAYING, LIVE }

    /** What a subscription needs of its session. Answers come back through the methods below. */
    interface Port {

        /** Subscribe to the node's hub of {@code room}; answered by {@link #attached}. */
        void attach(String room);

        /** Join the room through {@code subscriber}; answered by {@link #joinAnswered}. */
        void join(String room, Long since, ActorRef<RoomFeed> subscriber);

        /** Read messages {@code from..to}; answered by {@link #fetched} with the same generation. */
        void fetch(String room, long from, long to, int generation);

        /** Post a send to its room (the room is joined). */
        void post(ClientFrame.Send send);

        /** A frame for the client: a reply or a replayed message. */
        void send(ServerFrame frame);

        /** A live room event, its frame encoded once per node. */
        void offer(Delivery.RoomEvent event);

        /** Answer a send with an error instead of posting it. */
        void rejectSend(ClientFrame.Send send, ErrorCode code, String message);

        /** Whether the outbound queue can take more replay now. */
        boolean hasRoomToSend();

        /** Call {@link #continueReplay} again a little later (the outbound queue is full). */
        void continueLater(String room);

        /** The room is joined: the user's entity should know it. */
        void joined(String room);

        /** The subscription is over; forget it, and leave the hub if {@code attached}. */
        void ended(String room, boolean attached);

        /** The room outpaces this client: close it as a slow consumer; it resumes with since. */
        void overflow();
    }

    /** Messages asked for per replay round trip. */
    static final int REPLAY_CHUNK = 200;
    /** Live messages held for one room while its join or resume is answered. */
    static final int MAX_HELD = 10_000;
    private static final long TYPING_INTERVAL_NANOS = 1_000_000_000L;

    private final String room;
    private final Port port;
    private Phase phase = Phase.ATTACHING;
    private ActorRef<RoomFeed> subscriber;
    /** The explicit join being answered; null for an implicit join by send. */
    private ClientFrame.Join join;
    /** Highest seq delivered to the client; -1 when nothing yet. */
    private long delivered = -1;
    private long replayTo;
    /** Tells answers of the current replay from those of an abandoned one. */
    private int replayGeneration;
    /** Replayed messages fetched from the room and not yet sent. */
    private final ArrayDeque<StoredEvent> fetched = new ArrayDeque<>();
    private boolean fetching;
    private boolean syncedSent;
    /** Live before a rejoin: a failed rejoin goes back to live instead of ending. */
    private boolean wasLive;
    /** Live frames that arrived while joining or replaying. */
    private final ArrayDeque<Delivery.RoomEvent> held = new ArrayDeque<>();
    /** Sends waiting for an implicit join to finish. */
    private final List<ClientFrame.Send> waitingSends = new ArrayList<>();
    private long lastTypingNanos = System.nanoTime() - TYPING_INTERVAL_NANOS;

    private RoomSubscription(String room, Port port) {
        this.room = room;
        this.port = port;
    }

    /** An explicit join of a room this session has no subscription for. */
    static RoomSubscription forJoin(ClientFrame.Join join, Port port) {
        RoomSubscription subscription = new RoomSubscription(join.room(), port);
        subscription.join = join;
        port.attach(join.room());
        return subscription;
    }

    /** A send to a room not joined yet: joins it implicitly (no joined frame), then posts. */
    static RoomSubscription forSend(ClientFrame.Send send, Port port) {
        RoomSubscription subscription = new RoomSubscription(send.room(), port);
        subscription.waitingSends.add(send);
        port.attach(send.room());
        return subscription;
    }

    Phase phase() {
        return phase;
    }

    /** Highest seq delivered to the client; -1 when nothing yet. */
    long delivered() {
        return delivered;
    }

    /** Whether the hub has answered, i.e. there is something to leave. */
    boolean isAttached() {
        return phase != Phase.ATTACHING;
    }

    /** An explicit join is being answered: a second one must wait for it. */
    boolean joinInProgress() {
        return join != null && (phase == Phase.ATTACHING || phase == Phase.JOINING);
    }

    /** A join of a room already subscribed: join again, and resume from its {@code since}. */
    void rejoin(ClientFrame.Join again) {
        join = again;
        if (phase != Phase.ATTACHING) {
            wasLive = phase == Phase.LIVE;
            phase = Phase.JOINING;
            port.join(room, since(), subscriber);
        }
    }

    void attached(ActorRef<RoomFeed> hub) {
        if (phase != Phase.ATTACHING) {
            return;
        }
        if (hub == null) {
            fail(ErrorCode.UNAVAILABLE, "the node could not subscribe to " + room);
            return;
        }
        subscriber = hub;
        phase = Phase.JOINING;
        port.join(room, since(), subscriber);
    }

    /** The room's answer to a join; null when it did not answer in time. */
    void joinAnswered(RoomEntity.JoinResult result) {
        if (phase != Phase.JOINING) {
            return;
        }
        if (result instanceof RoomEntity.JoinRejected rejected) {
            fail(rejected.code(), rejected.message());
            return;
        }
        if (!(result instanceof RoomEntity.Joined joined)) {
            fail(ErrorCode.UNAVAILABLE, "room " + room + " did not answer in time; try again");
            return;
        }
        port.joined(room);
        Long since = since();
        if (join != null) {
            port.send(new ServerFrame.Joined(join.ref(), room, joined.lastSeq(), WireFrames.memberFrames(joined.members())));
        }
        join = null;
        if (since == null) {
            delivered = Math.max(delivered, joined.lastSeq());
            goLive();
        } else {
            startReplay(since, joined.lastSeq(), false);
        }
        List<ClientFrame.Send> waiting = new ArrayList<>(waitingSends);
        waitingSends.clear();
        waiting.forEach(port::post);
    }

    void send(ClientFrame.Send send) {
        if (phase == Phase.ATTACHING || phase == Phase.JOINING) {
            waitingSends.add(send);
        } else {
            port.post(send);
        }
    }

    /** Messages read for a replay; anything but a non-empty page means the journal could not be read. */
    void fetched(int generation, RoomEntity.ReadResult result) {
        if (phase != Phase.REPLAYING || generation != replayGeneration) {
            return; // an answer of an abandoned replay
        }
        fetching = false;
        if (result instanceof RoomEntity.Messages chunk && !chunk.messages().isEmpty()) {
            fetched.addAll(chunk.messages());
            continueReplay();
        } else {
            port.send(ServerFrame.Error.of(null, ErrorCode.UNAVAILABLE, "resume of " + room + " failed; join again with since"));
            port.ended(room, true);
        }
    }

    /** A live room event from the hub. */
    void deliver(Delivery.RoomEvent event) {
        if (phase == Phase.LIVE && event.seq() <= delivered + 1) {
            deliverLive(event);
        } else if (held.size() < MAX_HELD) {
            held.addLast(event);
            if (phase == Phase.LIVE) {
                fillHoleBefore(event.seq());
            }
        } else {
            port.overflow();
        }
    }

    /** Whether a typing notice may go out now: at most one a second per room. */
    boolean typingDue(long nowNanos) {
        if (nowNanos - lastTypingNanos < TYPING_INTERVAL_NANOS) {
            return false;
        }
        lastTypingNanos = nowNanos;
        return true;
    }

    /**
     * Moves a resume forward as far as the socket has room: first the replayed messages (fetched from
     * the room in chunks), then {@code synced}, then the live messages held meanwhile.
     */
    void continueReplay() {
        if (phase != Phase.REPLAYING) {
            return;
        }
        while (!fetched.isEmpty() && port.hasRoomToSend()) {
            StoredEvent event = fetched.pollFirst();
            if (event.seq() > delivered) {
                delivered = event.seq();
                port.send(WireFrames.eventFrame(room, event));
            }
        }
        if (!fetched.isEmpty()) {
            port.continueLater(room);
            return;
        }
        if (delivered < replayTo) {
            if (!fetching) {
                fetching = true;
                port.fetch(room, delivered + 1, Math.min(replayTo, delivered + REPLAY_CHUNK), replayGeneration);
            }
            return;
        }
        if (!syncedSent) {
            syncedSent = true;
            port.send(new ServerFrame.Synced(room, replayTo));
        }
        while (!held.isEmpty() && port.hasRoomToSend()) {
            if (held.peekFirst().seq() > delivered + 1) {
                fillHoleBefore(held.peekFirst().seq());
                return;
            }
            deliverLive(held.pollFirst());
        }
        if (!held.isEmpty()) {
            port.continueLater(room);
            return;
        }
        phase = Phase.LIVE;
        wasLive = false;
    }

    private Long since() {
        return join == null ? null : join.since();
    }

    private void startReplay(long from, long to, boolean synced) {
        phase = Phase.REPLAYING;
        replayGeneration++;
        fetched.clear();
        fetching = false;
        syncedSent = synced;
        delivered = from;
        replayTo = to;
        continueReplay();
    }

    /** Live delivery from {@link #delivered} on, after the frames held meanwhile (no synced frame). */
    private void goLive() {
        startReplay(delivered, delivered, true);
    }

    /** Reads {@code delivered + 1 .. seq - 1} from the room before the frames held from {@code seq} on. */
    private void fillHoleBefore(long seq) {
        startReplay(delivered, seq - 1, true);
    }

    private void deliverLive(Delivery.RoomEvent event) {
        if (event.seq() > delivered) {
            delivered = event.seq();
            port.offer(event);
        }
    }

    private void fail(ErrorCode code, String message) {
        if (join != null) {
            port.send(ServerFrame.Error.of(join.ref(), code, message));
            join = null;
        }
        for (ClientFrame.Send waiting : waitingSends) {
            port.rejectSend(waiting, ErrorCode.UNAVAILABLE, message);
        }
        waitingSends.clear();
        if (wasLive) {
            goLive();
        } else {
            port.ended(room, subscriber != null);
        }
    }
}
