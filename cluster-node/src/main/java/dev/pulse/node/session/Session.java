package dev.pulse.node.session;

import dev.pulse.node.delivery.Delivery;
import dev.pulse.node.delivery.EncodedFrame;
import dev.pulse.node.delivery.LocalRooms;
import dev.pulse.node.room.RoomEntity;
import dev.pulse.node.room.RoomFeed;
import dev.pulse.node.user.UserEntity;
import dev.pulse.protocol.ClientFrame;
import dev.pulse.protocol.Decoded;
import dev.pulse.protocol.ErrorCode;
import dev.pulse.protocol.Names;
import dev.pulse.protocol.ServerFrame;
import dev.pulse.protocol.Timestamps;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
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

/**
 * One client connection: decodes and validates client frames, rate-limits sends, heartbeats to the
 * user entity, closes idle connections, and routes each room's frames to its
 * {@link RoomSubscription}; sends in flight are tracked by {@link PendingAcks}. Everything it says
 * goes out through {@link Outbound}, whatever the transport.
 */
public final class Session extends AbstractBehavior<Session.Command> {

    public sealed interface Command {}

    /** Stream protocol with the transport's inbound side: one message at a time, each acked. */
    public enum StreamAck { INSTANCE }

    public record StreamStarted(ActorRef<StreamAck> ack) implements Command {}

    public record FromClient(ActorRef<StreamAck> ack, Inbound inbound) implements Command {}

    public record ClientGone() implements Command {}

    public record ClientFailed(Throwable cause) implements Command {}

    /** The node is going down: close with 1001. */
    public record Shutdown() implements Command {}

    private record Delivered(Delivery delivery) implements Command {}

    private record Attached(String room, ActorRef<RoomFeed> subscriber) implements Command {}

    private record JoinAnswered(String room, RoomEntity.JoinResult result) implements Command {}

    private record PostAnswered(RoomEntity.PostResult result) implements Command {}

    private record ReplayRead(String room, int generation, RoomEntity.ReadResult result) implements Command {}

    private record HistoryRead(String ref, String room, RoomEntity.ReadResult result) implements Command {}

    private record PresenceAnswered(String ref, List<UserEntity.Presence> presences, Throwable failure) implements Command {}

    private record ContinueReplay(String room) implements Command {}

    private enum Tick implements Command { CHECK_SILENCE, HEARTBEAT, ACK_DEADLINE }

    public static final int CLOSE_GOING_AWAY = 1001;
    public static final int CLOSE_POLICY_VIOLATION = 1008;

    public static Behavior<Command> create(String sessionId, String user, Outbound outbound, SessionDeps deps) {
        return Behaviors.setup(context -> Behaviors.withTimers(timers ->
            new Session(context, timers, sessionId, user, outbound, deps)));
    }

    private final TimerScheduler<Command> timers;
    private final String sessionId;
    private final String user;
    private final Outbound outbound;
    private final SessionDeps deps;
    private final EntityRef<UserEntity.Command> userEntity;
    private final ActorRef<Delivery> deliveries;
    private final ActorRef<RoomEntity.PostResult> postAnswers;
    private final Map<String, RoomSubscription> rooms = new HashMap<>();
    private final SubscriptionPort port = new SubscriptionPort();
    private final PendingAcks pendingAcks;
    private final Map<String, String> lastNotice = new HashMap<>();
    private final long silenceBoundNanos;
    private long lastHeardNanos = System.nanoTime();
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
        this.deliveries = context.messageAdapter(Delivery.class, Delivered::new);
        this.postAnswers = context.messageAdapter(RoomEntity.PostResult.class, PostAnswered::new);
        this.pendingAcks = new PendingAcks(deps.entityTimeout().toNanos());
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
                started.ack().tell(StreamAck.INSTANCE);
                return this;
            })
            .onMessage(FromClient.class, this::onFromClient)
            .onMessage(ClientGone.class, gone -> Behaviors.stopped())
            .onMessage(ClientFailed.class, failed -> Behaviors.stopped())
            .onMessage(Delivered.class, this::onDelivered)
            .onMessage(Attached.class, attached -> withRoom(attached.room(), sub -> sub.attached(attached.subscriber())))
            .onMessage(JoinAnswered.class, answer -> withRoom(answer.room(), sub -> sub.joinAnswered(answer.result())))
            .onMessage(ReplayRead.class, read -> withRoom(read.room(), sub -> sub.fetched(read.generation(), read.result())))
            .onMessage(ContinueReplay.class, resume -> withRoom(resume.room(), RoomSubscription::continueReplay))
            .onMessage(PostAnswered.class, this::onPostAnswered)
            .onMessage(HistoryRead.class, this::onHistoryRead)
            .onMessage(PresenceAnswered.class, this::onPresenceAnswered)
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

    private Behavior<Command> withRoom(String room, java.util.function.Consumer<RoomSubscription> action) {
        RoomSubscription subscription = rooms.get(room);
        if (subscription != null) {
            action.accept(subscription);
        }
        return next();
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
        RoomSubscription subscription = rooms.get(join.room());
        if (subscription == null) {
            rooms.put(join.room(), RoomSubscription.forJoin(join, port));
        } else if (subscription.joinInProgress()) {
            send(ServerFrame.Error.of(join.ref(), ErrorCode.INVALID, "a join of " + join.room() + " is in progress"));
        } else {
            // Already joined (or an implicit join underway): join again to resync.
            subscription.rejoin(join);
        }
    }

    private void onLeave(ClientFrame.Leave leave) {
        RoomSubscription subscription = rooms.get(leave.room());
        if (subscription == null || !subscription.isAttached()) {
            send(ServerFrame.Error.of(leave.ref(), ErrorCode.NOT_FOUND, "not joined to " + leave.room()));
            return;
        }
        port.ended(leave.room(), true);
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
        RoomSubscription subscription = rooms.get(sendFrame.room());
        if (subscription == null) {
            rooms.put(sendFrame.room(), RoomSubscription.forSend(sendFrame, port));
        } else {
            subscription.send(sendFrame);
        }
    }

    private Behavior<Command> onPostAnswered(PostAnswered answered) {
        PendingAcks.Awaiting awaiting = pendingAcks.answered(answered.result().tag());
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
        for (PendingAcks.Awaiting expired : pendingAcks.expire(now)) {
            send(ServerFrame.Error.of(expired.ref(), ErrorCode.UNAVAILABLE,
                "the message was not confirmed in time; retry with the same id"));
        }
        long next = pendingAcks.nextDeadlineIn(now);
        if (next >= 0) {
            timers.startSingleTimer(Tick.ACK_DEADLINE, Duration.ofNanos(next));
        }
        return next();
    }

    private void onHistory(ClientFrame.History history) {
        if (forbidden(history.ref(), history.room())) {
            return;
        }
        getContext().ask(RoomEntity.ReadResult.class, roomRef(history.room()), deps.entityTimeout(),
            replyTo -> new RoomEntity.GetHistory(history.before(), history.limit(), replyTo),
            (result, failure) -> new HistoryRead(history.ref(), history.room(), result));
    }

    private Behavior<Command> onHistoryRead(HistoryRead read) {
        if (read.result() instanceof RoomEntity.Messages page) {
            send(new ServerFrame.History(read.ref(), read.room(), WireFrames.messageFrames(read.room(), page.messages()),
                page.hasMore()));
        } else {
            send(ServerFrame.Error.of(read.ref(), ErrorCode.UNAVAILABLE, "history of " + read.room() + " is unavailable"));
        }
        return next();
    }

    private void onTyping(ClientFrame.Typing typing) {
        RoomSubscription subscription = rooms.get(typing.room());
        if (subscription == null) {
            send(ServerFrame.Error.of(typing.ref(), ErrorCode.NOT_FOUND, "not joined to " + typing.room()));
        } else if (subscription.typingDue(System.nanoTime())) {
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
        getContext().pipeToSelf(all, (presences, failure) -> new PresenceAnswered(query.ref(), presences, failure));
    }

    private Behavior<Command> onPresenceAnswered(PresenceAnswered answered) {
        if (answered.failure() != null) {
            send(ServerFrame.Error.of(answered.ref(), ErrorCode.UNAVAILABLE, "presence is unavailable; try again"));
        } else {
            send(new ServerFrame.PresenceList(answered.ref(),
                answered.presences().stream().map(WireFrames::memberFrame).toList()));
        }
        return next();
    }

    // ------------------------------------------------------------------ from hubs

    private Behavior<Command> onDelivered(Delivered delivered) {
        if (delivered.delivery() instanceof Delivery.RoomEvent event) {
            RoomSubscription subscription = rooms.get(event.room());
            if (subscription != null) {
                subscription.deliver(event);
            }
        } else if (delivered.delivery() instanceof Delivery.Notice notice) {
            onNotice(notice);
        }
        return next();
    }

    private void onNotice(Delivery.Notice notice) {
        // The same presence change arrives once per shared room; the client needs it once.
        if (notice.dedupeKey() != null && notice.dedupeKey().equals(lastNotice.put(notice.user(), notice.dedupeKey()))) {
            return;
        }
        offer(notice.frame());
    }

    // ------------------------------------------------------------------ lifecycle

    private Behavior<Command> onCheckSilence() {
        if (System.nanoTime() - lastHeardNanos > silenceBoundNanos) {
            return closeWith(CLOSE_GOING_AWAY, "idle: no frame for " + deps.heartbeat().multipliedBy(5).dividedBy(2).toMillis() + " ms");
        }
        return next();
    }

    /** Stay, unless the connection is being closed. */
    private Behavior<Command> next() {
        return closing ? Behaviors.stopped() : this;
    }

    private Behavior<Command> closeWith(int code, String reason) {
        closing = true;
        outbound.close(code, reason);
        return Behaviors.stopped();
    }

    private Behavior<Command> onStop() {
        rooms.keySet().forEach(room -> deps.localRooms().tell(new LocalRooms.Detach(room, deliveries)));
        userEntity.tell(new UserEntity.SessionClosed(sessionId));
        deps.rateLimiter().forgetIfIdle(user);
        outbound.complete();
        return next();
    }

    private void send(ServerFrame frame) {
        offer(WireFrames.encode(frame));
    }

    private void offer(EncodedFrame frame) {
        if (closing) {
            return;
        }
        if (outbound.offer(frame) == Outbound.Offered.FULL) {
            // The client does not read fast enough; it loses nothing, as it resumes with since.
            closeSlowConsumer();
        }
    }

    private void closeSlowConsumer() {
        closing = true;
        outbound.close(CLOSE_POLICY_VIOLATION, "slow consumer");
    }

    private EntityRef<RoomEntity.Command> roomRef(String room) {
        return deps.sharding().entityRefFor(RoomEntity.ENTITY_KEY, room);
    }

    /** How this session's room subscriptions ask, send and wait. */
    private final class SubscriptionPort implements RoomSubscription.Port {

        @Override
        public void attach(String room) {
            getContext().ask(LocalRooms.Attached.class, deps.localRooms(), deps.entityTimeout(),
                replyTo -> new LocalRooms.Attach(room, deliveries, user, replyTo),
                (attached, failure) -> new Attached(room, attached == null ? null : attached.subscriber()));
        }

        @Override
        public void join(String room, Long since, ActorRef<RoomFeed> subscriber) {
            getContext().ask(RoomEntity.JoinResult.class, roomRef(room), deps.entityTimeout(),
                replyTo -> new RoomEntity.Join(user, since, subscriber, replyTo),
                (result, failure) -> new JoinAnswered(room, result));
        }

        @Override
        public void fetch(String room, long from, long to, int generation) {
            getContext().ask(RoomEntity.ReadResult.class, roomRef(room), deps.entityTimeout(),
                replyTo -> new RoomEntity.GetRange(from, to, replyTo),
                (result, failure) -> new ReplayRead(room, generation, result));
        }

        @Override
        public void post(ClientFrame.Send send) {
            long tag = pendingAcks.add(send.ref(), send.room(), System.nanoTime());
            roomRef(send.room()).tell(new RoomEntity.Post(user, send.id(), send.text(), tag, postAnswers));
            if (!timers.isTimerActive(Tick.ACK_DEADLINE)) {
                timers.startSingleTimer(Tick.ACK_DEADLINE, deps.entityTimeout());
            }
        }

        @Override
        public void send(ServerFrame frame) {
            Session.this.send(frame);
        }

        @Override
        public void offer(EncodedFrame frame) {
            Session.this.offer(frame);
        }

        @Override
        public boolean hasRoomToSend() {
            return !closing && outbound.queued() < Math.max(1, outbound.capacity() * 3 / 4);
        }

        @Override
        public void continueLater(String room) {
            if (!closing) {
                timers.startSingleTimer("replay-" + room, new ContinueReplay(room), Duration.ofMillis(10));
            }
        }

        @Override
        public void joined(String room) {
            userEntity.tell(new UserEntity.TrackRoom(room));
        }

        @Override
        public void ended(String room, boolean attached) {
            rooms.remove(room);
            timers.cancel("replay-" + room);
            if (attached) {
                deps.localRooms().tell(new LocalRooms.Detach(room, deliveries));
            }
        }

        @Override
        public void overflow() {
            closeSlowConsumer();
        }
    }
}
