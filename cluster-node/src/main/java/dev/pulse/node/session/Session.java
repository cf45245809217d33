package dev.pulse.node.session;

import dev.pulse.node.room.LocalRooms;
import dev.pulse.node.room.RoomEntity;
import dev.pulse.node.room.RoomHub;
import dev.pulse.node.room.StoredMessage;
import dev.pulse.node.user.UserEntity;
import dev.pulse.protocol.ClientFrame;
import dev.pulse.protocol.Decoded;
import dev.pulse.protocol.ErrorCode;
import dev.pulse.protocol.FrameCodec;
import dev.pulse.protocol.Names;
import dev.pulse.protocol.ServerFrame;
import dev.pulse.protocol.Timestamps;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.http.scaladsl.model.ws.TextMessage;

/**
 * One WebSocket connection: parses and validates client frames, rate-limits sends, talks to room
 * and user entities, tracks the highest seq delivered per room (so replay and live delivery meet
 * without gaps or duplicates) and pushes frames into the bounded outbound queue.
 */
public final class Session extends AbstractBehavior<Session.Command> {

    public sealed interface Command {}

    /** Stream protocol with the inbound ActorSink. */
    public enum StreamAck { INSTANCE }

    public record StreamStarted(ActorRef<StreamAck> ack) implements Command {}

    public record FromClient(ActorRef<StreamAck> ack, Inbound inbound) implements Command {}

    public record ClientGone() implements Command {}

    public record ClientFailed(Throwable cause) implements Command {}

    /** A committed room message, encoded once per node by the room's hub. */
    public record Deliver(String room, long seq, TextMessage.Strict frame) implements Command {}

    /** A typing or presence frame about {@code user}; {@code dedupeKey} (nullable) suppresses repeats. */
    public record Notice(String user, String dedupeKey, TextMessage.Strict frame) implements Command {}

    /** The node is going down: close with 1001. */
    public record Shutdown() implements Command {}

    private record Attached(String room, ActorRef<RoomHub.Command> hub) implements Command {}

    private record JoinDone(String room, RoomEntity.JoinResult result, Throwable failure) implements Command {}

    private record PostAnswered(RoomEntity.PostResult result) implements Command {}

    /** A send posted to its room and not yet answered; answered "unavailable" at {@code deadlineNanos}. */
    private record AwaitingAck(String ref, String room, long deadlineNanos) {}

    /** {@code replayGeneration} tells an answer of the current replay from one of an abandoned replay. */
    private record ReadDone(String ref, String room, boolean history, int replayGeneration, RoomEntity.ReadResult result,
                            Throwable failure) implements Command {}

    private record PresenceDone(String ref, List<UserEntity.Presence> presences, Throwable failure) implements Command {}

    private record ContinueReplay(String room) implements Command {}

    private enum Tick implements Command { CHECK_SILENCE, HEARTBEAT, ACK_DEADLINE }

    public static final int CLOSE_GOING_AWAY = 1001;
    public static final int CLOSE_POLICY_VIOLATION = 1008;
    /** Messages asked for per replay round trip. */
    private static final int REPLAY_CHUNK = 200;
    /** Live messages held for one room while its join or resume is answered. */
    private static final int MAX_HELD = 10_000;
    private static final long TYPING_INTERVAL_NANOS = 1_000_000_000L;

    public static Behavior<Command> create(String sessionId, String user, Outbound outbound, SessionDeps deps) {
        return Behaviors.setup(context -> Behaviors.withTimers(timers ->
            new Session(context, timers, sessionId, user, outbound, deps)));
    }

    /** A room this session has joined or is joining. */
    private static final class RoomSub {
        enum Phase { ATTACHING, JOINING, REPLAYING, LIVE }

        Phase phase = Phase.ATTACHING;
        ActorRef<RoomHub.Command> hub;
        /** The explicit join being answered; null for an implicit join by send. */
        ClientFrame.Join join;
        /** Highest seq delivered to the client; -1 when nothing yet. */
        long delivered = -1;
        long replayTo;
        int replayGeneration;
        /** Replayed messages fetched from the room and not yet sent. */
        final ArrayDeque<StoredMessage> fetched = new ArrayDeque<>();
        boolean fetching;
        boolean syncedSent;
        boolean wasLive;
        /** Live frames that arrived while joining or replaying. */
        final ArrayDeque<Deliver> held = new ArrayDeque<>();
        /** Sends waiting for an implicit join to finish. */
        final List<ClientFrame.Send> waitingSends = new ArrayList<>();
        long lastTypingNanos;
    }

    private final TimerScheduler<Command> timers;
    private final String sessionId;
    private final String user;
    private final Outbound outbound;
    private final SessionDeps deps;
    private final EntityRef<UserEntity.Command> userEntity;
    private final Map<String, RoomSub> rooms = new HashMap<>();
    private final Map<String, String> lastNotice = new HashMap<>();
    /** Sends awaiting their room's answer by tag, in deadline order (one timeout for all). */
    private final LinkedHashMap<Long, AwaitingAck> awaitingAck = new LinkedHashMap<>();
    private final ActorRef<RoomEntity.PostResult> postAnswers;
    private long lastPostTag;
    private final long silenceBoundNanos;
    private long lastHeardNanos = System.nanoTime();
    private ActorRef<StreamAck> streamAck;
    private boolean closing;

    private Session(ActorContext<Command> context, TimerScheduler<Command> timers, String sessionId, String user,
                    Outbound outbound, SessionDeps deps) {
        super(context);
        this.timers = timers;
        this.sessionId = sessionId;
        this.user = user;
        this.outbound = outbound;
        this.deps = deps;
        this.userEntity = deps.sharding().entityRefFor(UserEntity.ENTITY_KEY, user);
        this.postAnswers = context.messageAdapter(RoomEntity.PostResult.class, PostAnswered::new);
        this.silenceBoundNanos = deps.heartbeat().toNanos() * 5 / 2;
        Duration check = deps.heartbeat().dividedBy(4).isZero() ? Duration.ofMillis(1) : deps.heartbeat().dividedBy(4);
        timers.startTimerWithFixedDelay(Tick.CHECK_SILENCE, check);
        timers.startTimerWithFixedDelay(Tick.HEARTBEAT, deps.heartbeat());
        userEntity.tell(new UserEntity.SessionOpened(sessionId, context.getSelf()));
        send(new ServerFrame.Welcome(user, sessionId, deps.node(), deps.heartbeat().toMillis(), 1));
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
            .onMessage(StreamStarted.class, started -> {
                streamAck = started.ack();
                started.ack().tell(StreamAck.INSTANCE);
                return this;
            })
            .onMessage(FromClient.class, this::onFromClient)
            .onMessage(ClientGone.class, gone -> Behaviors.stopped())
            .onMessage(ClientFailed.class, failed -> Behaviors.stopped())
            .onMessage(Deliver.class, this::onDeliver)
            .onMessage(Notice.class, this::onNotice)
            .onMessage(Attached.class, this::onAttached)
            .onMessage(JoinDone.class, this::onJoinDone)
            .onMessage(PostAnswered.class, this::onPostAnswered)
            .onMessage(ReadDone.class, this::onReadDone)
            .onMessage(PresenceDone.class, this::onPresenceDone)
            .onMessage(ContinueReplay.class, this::onContinueReplay)
            .onMessage(Shutdown.class, shutdown -> closeWith(CLOSE_GOING_AWAY, "server shutting down"))
            .onMessageEquals(Tick.CHECK_SILENCE, this::onCheckSilence)
            .onMessageEquals(Tick.ACK_DEADLINE, this::onAckDeadline)
            .onMessageEquals(Tick.HEARTBEAT, () -> {
                userEntity.tell(new UserEntity.Heartbeat(sessionId, getContext().getSelf(), List.copyOf(rooms.keySet())));
                return this;
            })
            .onSignal(PostStop.class, stop -> onStop())
            .build();
    }

    // ------------------------------------------------------------------ client frames

    private Behavior<Command> onFromClient(FromClient message) {
        lastHeardNanos = System.nanoTime();
        message.ack().tell(StreamAck.INSTANCE);
        Inbound inbound = message.inbound();
        if (inbound instanceof Inbound.Text text) {
            Decoded decoded = deps.codec().decodeClient(text.text());
            if (decoded instanceof Decoded.Rejected rejected) {
                send(rejected.toError());
            } else {
                handle(((Decoded.Ok) decoded).frame());
            }
        } else if (inbound instanceof Inbound.TooLarge tooLarge) {
            send(ServerFrame.Error.of(null, ErrorCode.TOO_LARGE,
                "frame of " + tooLarge.bytes() + " bytes exceeds " + deps.codec().limits().maxFrameBytes()));
        } else {
            send(ServerFrame.Error.of(null, ErrorCode.INVALID, "binary frames are not supported; send JSON text frames"));
        }
        return next();
    }

    private void handle(ClientFrame frame) {
        if (frame instanceof ClientFrame.Ping ping) {
            send(new ServerFrame.Pong(ping.ref()));
        } else if (frame instanceof ClientFrame.Send sendFrame) {
            onSend(sendFrame);
        } else if (frame instanceof ClientFrame.Join join) {
            onJoin(join);
        } else if (frame instanceof ClientFrame.Leave leave) {
            onLeave(leave);
        } else if (frame instanceof ClientFrame.History history) {
            onHistory(history);
        } else if (frame instanceof ClientFrame.Typing typing) {
            onTyping(typing);
        } else if (frame instanceof ClientFrame.PresenceQuery query) {
            onPresenceQuery(query);
        }
    }

    private boolean forbidden(String ref, String room) {
        if (Names.mayAccess(user, room)) {
            return false;
        }
        send(ServerFrame.Error.of(ref, ErrorCode.FORBIDDEN, "only its two participants may use " + room));
        return true;
    }

    private void onJoin(ClientFrame.Join join) {
        if (forbidden(join.ref(), join.room())) {
            return;
        }
        RoomSub sub = rooms.get(join.room());
        if (sub != null && (sub.phase == RoomSub.Phase.ATTACHING || sub.phase == RoomSub.Phase.JOINING)
            && sub.join != null) {
            send(ServerFrame.Error.of(join.ref(), ErrorCode.INVALID, "a join of " + join.room() + " is in progress"));
            return;
        }
        if (sub == null) {
            sub = new RoomSub();
            sub.join = join;
            rooms.put(join.room(), sub);
            attach(join.room());
        } else {
            sub.join = join;
            if (sub.phase != RoomSub.Phase.ATTACHING) {
                // Already attached (joined, or an implicit join underway): join again to resync.
                sub.wasLive = sub.phase == RoomSub.Phase.LIVE;
                sub.phase = RoomSub.Phase.JOINING;
                askJoin(join.room(), sub);
            }
        }
    }

    private void attach(String room) {
        getContext().ask(ActorRef.class, deps.localRooms(), deps.entityTimeout(),
            replyTo -> new LocalRooms.Attach(room, getContext().getSelf(), user, castHubReply(replyTo)),
            (hub, failure) -> new Attached(room, castHub(hub)));
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static ActorRef<ActorRef<RoomHub.Command>> castHubReply(ActorRef replyTo) {
        return replyTo;
    }

    @SuppressWarnings("unchecked")
    private static ActorRef<RoomHub.Command> castHub(ActorRef<?> hub) {
        return (ActorRef<RoomHub.Command>) hub;
    }

    private Behavior<Command> onAttached(Attached attached) {
        RoomSub sub = rooms.get(attached.room());
        if (sub == null || sub.phase != RoomSub.Phase.ATTACHING) {
            return next();
        }
        if (attached.hub() == null) {
            failJoin(attached.room(), sub, ErrorCode.UNAVAILABLE, "the node could not subscribe to " + attached.room());
            return next();
        }
        sub.hub = attached.hub();
        sub.phase = RoomSub.Phase.JOINING;
        askJoin(attached.room(), sub);
        return next();
    }

    private void askJoin(String room, RoomSub sub) {
        Long since = sub.join == null ? null : sub.join.since();
        ActorRef<RoomHub.Command> hub = sub.hub;
        getContext().ask(RoomEntity.JoinResult.class, roomRef(room), deps.entityTimeout(),
            replyTo -> new RoomEntity.Join(user, since, hub, replyTo),
            (result, failure) -> new JoinDone(room, result, failure));
    }

    private Behavior<Command> onJoinDone(JoinDone done) {
        RoomSub sub = rooms.get(done.room());
        if (sub == null || sub.phase != RoomSub.Phase.JOINING) {
            return next();
        }
        String ref = sub.join == null ? null : sub.join.ref();
        if (done.result() instanceof RoomEntity.JoinRejected rejected) {
            failJoin(done.room(), sub, rejected.code(), rejected.message());
            return next();
        }
        if (!(done.result() instanceof RoomEntity.Joined joined)) {
            failJoin(done.room(), sub, ErrorCode.UNAVAILABLE, "room " + done.room() + " did not answer in time; try again");
            return next();
        }
        userEntity.tell(new UserEntity.TrackRoom(done.room()));
        if (sub.join != null) {
            send(new ServerFrame.Joined(ref, done.room(), joined.lastSeq(), joined.members()));
        }
        Long since = sub.join == null ? null : sub.join.since();
        sub.join = null;
        if (since == null) {
            sub.delivered = Math.max(sub.delivered, joined.lastSeq());
            goLive(done.room(), sub);
        } else {
            sub.phase = RoomSub.Phase.REPLAYING;
            sub.replayGeneration++;
            sub.fetched.clear();
            sub.fetching = false;
            sub.syncedSent = false;
            sub.delivered = since;
            sub.replayTo = joined.lastSeq();
            continueReplay(done.room(), sub);
        }
        List<ClientFrame.Send> waiting = new ArrayList<>(sub.waitingSends);
        sub.waitingSends.clear();
        waiting.forEach(this::post);
        return next();
    }

    private void failJoin(String room, RoomSub sub, ErrorCode code, String message) {
        if (sub.join != null) {
            send(ServerFrame.Error.of(sub.join.ref(), code, message));
            sub.join = null;
        }
        for (ClientFrame.Send waiting : sub.waitingSends) {
            send(ServerFrame.Error.of(waiting.ref(), ErrorCode.UNAVAILABLE, message));
        }
        sub.waitingSends.clear();
        if (sub.wasLive) {
            goLive(room, sub);
        } else {
            rooms.remove(room);
            if (sub.hub != null) {
                deps.localRooms().tell(new LocalRooms.Detach(room, getContext().getSelf()));
            }
        }
    }

    /**
     * Moves a resume forward as far as the socket has room: first the replayed messages (fetched from
     * the room in chunks), then {@code synced}, then the live messages held meanwhile. Pausing while
     * the outbound queue is nearly full keeps a long resume from counting as a slow consumer.
     */
    private void continueReplay(String room, RoomSub sub) {
        while (!sub.fetched.isEmpty() && hasRoomToSend()) {
            StoredMessage message = sub.fetched.pollFirst();
            if (message.seq() > sub.delivered) {
                sub.delivered = message.seq();
                send(message.toFrame(room));
            }
        }
        if (!sub.fetched.isEmpty()) {
            waitForRoomToSend(room);
            return;
        }
        if (sub.delivered < sub.replayTo) {
            if (!sub.fetching) {
                sub.fetching = true;
                long from = sub.delivered + 1;
                long to = Math.min(sub.replayTo, sub.delivered + REPLAY_CHUNK);
                int generation = sub.replayGeneration;
                getContext().ask(RoomEntity.ReadResult.class, roomRef(room), deps.entityTimeout(),
                    replyTo -> new RoomEntity.GetRange(from, to, replyTo),
                    (result, failure) -> new ReadDone(null, room, false, generation, result, failure));
            }
            return;
        }
        if (!sub.syncedSent) {
            sub.syncedSent = true;
            send(new ServerFrame.Synced(room, sub.replayTo));
        }
        while (!sub.held.isEmpty() && hasRoomToSend()) {
            deliver(sub, sub.held.pollFirst());
        }
        if (!sub.held.isEmpty()) {
            waitForRoomToSend(room);
            return;
        }
        sub.phase = RoomSub.Phase.LIVE;
        sub.wasLive = false;
    }

    private boolean hasRoomToSend() {
        return !closing && outbound.queued() < Math.max(1, outbound.capacity() * 3 / 4);
    }

    private void waitForRoomToSend(String room) {
        if (!closing) {
            timers.startSingleTimer("replay-" + room, new ContinueReplay(room), Duration.ofMillis(10));
        }
    }

    private Behavior<Command> onContinueReplay(ContinueReplay resume) {
        RoomSub sub = rooms.get(resume.room());
        if (sub != null && sub.phase == RoomSub.Phase.REPLAYING) {
            continueReplay(resume.room(), sub);
        }
        return next();
    }

    /** Live delivery from {@code sub.delivered} on, after the frames held meanwhile. */
    private void goLive(String room, RoomSub sub) {
        sub.phase = RoomSub.Phase.REPLAYING;
        sub.replayGeneration++;
        sub.fetched.clear();
        sub.fetching = false;
        sub.replayTo = sub.delivered;
        sub.syncedSent = true;
        continueReplay(room, sub);
    }

    private void onLeave(ClientFrame.Leave leave) {
        RoomSub sub = rooms.get(leave.room());
        if (sub == null || sub.phase == RoomSub.Phase.ATTACHING) {
            send(ServerFrame.Error.of(leave.ref(), ErrorCode.NOT_FOUND, "not joined to " + leave.room()));
            return;
        }
        rooms.remove(leave.room());
        timers.cancel("replay-" + leave.room());
        deps.localRooms().tell(new LocalRooms.Detach(leave.room(), getContext().getSelf()));
        roomRef(leave.room()).tell(new RoomEntity.Leave(user));
        userEntity.tell(new UserEntity.UntrackRoom(leave.room()));
        send(new ServerFrame.Left(leave.ref(), leave.room()));
    }

    private void onSend(ClientFrame.Send sendFrame) {
        if (forbidden(sendFrame.ref(), sendFrame.room())) {
            return;
        }
        long retryAfterMs = deps.rateLimiter().acquire(user);
        if (retryAfterMs > 0) {
            send(new ServerFrame.Error(sendFrame.ref(), ErrorCode.RATE_LIMITED.wire(),
                "at most " + deps.codec().limits().sendBurst() + " messages per "
                    + deps.codec().limits().sendWindow().toSeconds() + " s", retryAfterMs));
            return;
        }
        RoomSub sub = rooms.get(sendFrame.room());
        if (sub == null) {
            // Sending to a room not joined joins it implicitly, without a joined frame.
            sub = new RoomSub();
            rooms.put(sendFrame.room(), sub);
            sub.waitingSends.add(sendFrame);
            attach(sendFrame.room());
        } else if (sub.phase == RoomSub.Phase.ATTACHING || sub.phase == RoomSub.Phase.JOINING) {
            sub.waitingSends.add(sendFrame);
        } else {
            post(sendFrame);
        }
    }

    /**
     * Posts are the hot path, so they are not asks: every answer comes through one message
     * adapter, matched by tag, and one timer serves all deadlines.
     */
    private void post(ClientFrame.Send sendFrame) {
        long tag = ++lastPostTag;
        awaitingAck.put(tag, new AwaitingAck(sendFrame.ref(), sendFrame.room(),
            System.nanoTime() + deps.entityTimeout().toNanos()));
        roomRef(sendFrame.room()).tell(new RoomEntity.Post(user, sendFrame.id(), sendFrame.text(), tag, postAnswers));
        if (!timers.isTimerActive(Tick.ACK_DEADLINE)) {
            timers.startSingleTimer(Tick.ACK_DEADLINE, deps.entityTimeout());
        }
    }

    private Behavior<Command> onPostAnswered(PostAnswered answered) {
        AwaitingAck awaiting = awaitingAck.remove(answered.result().tag());
        if (awaiting == null) {
            return next(); // answered after its deadline: the client was told to retry with the same id
        }
        if (answered.result() instanceof RoomEntity.Posted posted) {
            send(new ServerFrame.Ack(awaiting.ref(), awaiting.room(), posted.id(), posted.seq(), Timestamps.format(posted.ts())));
        } else if (answered.result() instanceof RoomEntity.PostRejected rejected) {
            send(ServerFrame.Error.of(awaiting.ref(), rejected.code(), rejected.message()));
        }
        return next();
    }

    private Behavior<Command> onAckDeadline() {
        long now = System.nanoTime();
        var oldest = awaitingAck.values().iterator();
        while (oldest.hasNext()) {
            AwaitingAck awaiting = oldest.next();
            long left = awaiting.deadlineNanos() - now;
            if (left > 0) {
                timers.startSingleTimer(Tick.ACK_DEADLINE, Duration.ofNanos(left));
                break;
            }
            oldest.remove();
            send(ServerFrame.Error.of(awaiting.ref(), ErrorCode.UNAVAILABLE,
                "the message was not confirmed in time; retry with the same id"));
        }
        return next();
    }

    private void onHistory(ClientFrame.History history) {
        if (forbidden(history.ref(), history.room())) {
            return;
        }
        getContext().ask(RoomEntity.ReadResult.class, roomRef(history.room()), deps.entityTimeout(),
            replyTo -> new RoomEntity.GetHistory(history.before(), history.limit(), replyTo),
            (result, failure) -> new ReadDone(history.ref(), history.room(), true, 0, result, failure));
    }

    private Behavior<Command> onReadDone(ReadDone done) {
        if (done.history()) {
            if (done.result() instanceof RoomEntity.Messages page) {
                List<ServerFrame.Message> messages = new ArrayList<>(page.messages().size());
                page.messages().forEach(m -> messages.add(m.toFrame(done.room())));
                send(new ServerFrame.History(done.ref(), done.room(), messages, page.hasMore()));
            } else {
                send(ServerFrame.Error.of(done.ref(), ErrorCode.UNAVAILABLE, "history of " + done.room() + " is unavailable"));
            }
            return next();
        }
        RoomSub sub = rooms.get(done.room());
        if (sub == null || sub.phase != RoomSub.Phase.REPLAYING || sub.replayGeneration != done.replayGeneration()) {
            return next();
        }
        sub.fetching = false;
        if (done.result() instanceof RoomEntity.Messages chunk && !chunk.messages().isEmpty()) {
            sub.fetched.addAll(chunk.messages());
            continueReplay(done.room(), sub);
        } else {
            // The journal could not be read: the client resumes again with the same since.
            send(ServerFrame.Error.of(null, ErrorCode.UNAVAILABLE, "resume of " + done.room() + " failed; join again with since"));
            rooms.remove(done.room());
            deps.localRooms().tell(new LocalRooms.Detach(done.room(), getContext().getSelf()));
        }
        return next();
    }

    private void onTyping(ClientFrame.Typing typing) {
        RoomSub sub = rooms.get(typing.room());
        if (sub == null) {
            send(ServerFrame.Error.of(typing.ref(), ErrorCode.NOT_FOUND, "not joined to " + typing.room()));
            return;
        }
        long now = System.nanoTime();
        if (now - sub.lastTypingNanos >= TYPING_INTERVAL_NANOS) {
            sub.lastTypingNanos = now;
            roomRef(typing.room()).tell(new RoomEntity.Typing(user));
        }
    }

    private void onPresenceQuery(ClientFrame.PresenceQuery query) {
        List<CompletableFuture<UserEntity.Presence>> asks = new ArrayList<>(query.users().size());
        for (String other : query.users()) {
            CompletionStage<UserEntity.Presence> answer = AskPattern.ask(
                deps.sharding().entityRefFor(UserEntity.ENTITY_KEY, other),
                UserEntity.GetPresence::new, deps.entityTimeout(), getContext().getSystem().scheduler());
            asks.add(answer.toCompletableFuture());
        }
        CompletableFuture<List<UserEntity.Presence>> all = CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new))
            .thenApply(ignored -> asks.stream().map(CompletableFuture::join).toList());
        getContext().pipeToSelf(all, (presences, failure) -> new PresenceDone(query.ref(), presences, failure));
    }

    private Behavior<Command> onPresenceDone(PresenceDone done) {
        if (done.failure() != null) {
            send(ServerFrame.Error.of(done.ref(), ErrorCode.UNAVAILABLE, "presence is unavailable; try again"));
            return next();
        }
        List<ServerFrame.Member> users = done.presences().stream()
            .map(p -> new ServerFrame.Member(p.user(), p.status(), p.lastSeen() == null ? null : Timestamps.format(p.lastSeen())))
            .toList();
        send(new ServerFrame.PresenceList(done.ref(), users));
        return next();
    }

    // ------------------------------------------------------------------ from hubs

    private Behavior<Command> onDeliver(Deliver message) {
        RoomSub sub = rooms.get(message.room());
        if (sub == null) {
            return next();
        }
        if (sub.phase == RoomSub.Phase.LIVE) {
            deliver(sub, message);
        } else if (sub.held.size() < MAX_HELD) {
            sub.held.addLast(message);
        } else {
            // The room outpaces this session's resume; it will resume again from what it has.
            closing = true;
            outbound.close(CLOSE_POLICY_VIOLATION, "slow consumer");
        }
        return next();
    }

    private void deliver(RoomSub sub, Deliver message) {
        if (message.seq() > sub.delivered) {
            sub.delivered = message.seq();
            offer(message.frame());
        }
    }

    private Behavior<Command> onNotice(Notice notice) {
        if (notice.dedupeKey() != null) {
            // The same presence change arrives once per shared room; the client needs it once.
            if (notice.dedupeKey().equals(lastNotice.put(notice.user(), notice.dedupeKey()))) {
                return this;
            }
        }
        offer(notice.frame());
        return next();
    }

    // ------------------------------------------------------------------ lifecycle

    private Behavior<Command> onCheckSilence() {
        if (System.nanoTime() - lastHeardNanos > silenceBoundNanos) {
            return closeWith(CLOSE_GOING_AWAY, "idle: no frame for " + deps.heartbeat().multipliedBy(5).dividedBy(2).toMillis() + " ms");
        }
        return next();
    }

    /** Stay, unless the socket is being closed. */
    private Behavior<Command> next() {
        return closing ? Behaviors.stopped() : this;
    }

    private Behavior<Command> closeWith(int code, String reason) {
        closing = true;
        outbound.close(code, reason);
        return Behaviors.stopped();
    }

    private Behavior<Command> onStop() {
        rooms.forEach((room, sub) -> deps.localRooms().tell(new LocalRooms.Detach(room, getContext().getSelf())));
        userEntity.tell(new UserEntity.SessionClosed(sessionId));
        deps.rateLimiter().forgetIfIdle(user);
        outbound.complete();
        return next();
    }

    private void send(ServerFrame frame) {
        offer(TextMessage.apply(FrameCodec.encode(frame)));
    }

    private void offer(TextMessage.Strict frame) {
        if (closing) {
            return;
        }
        if (outbound.offer(frame) == Outbound.Offered.FULL) {
            // The client does not read fast enough; it loses nothing, as it resumes with since.
            closing = true;
            outbound.close(CLOSE_POLICY_VIOLATION, "slow consumer");
        }
    }

    private EntityRef<RoomEntity.Command> roomRef(String room) {
        return deps.sharding().entityRefFor(RoomEntity.ENTITY_KEY, room);
    }
}
