package dev.pulse.node.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pulse.node.delivery.Delivery;
import dev.pulse.node.delivery.EncodedFrame;
import dev.pulse.node.room.Member;
import dev.pulse.node.room.RoomEntity;
import dev.pulse.node.room.RoomFeed;
import dev.pulse.node.room.StoredEvent;
import dev.pulse.node.room.StoredMessage;
import dev.pulse.protocol.ClientFrame;
import dev.pulse.protocol.ErrorCode;
import dev.pulse.protocol.ServerFrame;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.stream.LongStream;
import org.apache.pekko.actor.testkit.typed.javadsl.TestInbox;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.Test;

/**
 * The per-room state machine of a session, without actors or sockets: a fake port answers for the
 * hub and the room, and a fake outbound queue of bounded size stands for the socket. What reaches
 * the client is read as seqs in order, so gaps and duplicates show.
 */
class RoomSubscriptionTest {

    private static final String ROOM = "general";

    private final FakePort port = new FakePort();
    private final ActorRef<RoomFeed> hub = TestInbox.<RoomFeed>create().getRef();

    // ------------------------------------------------------------------ join and live

    @Test
    void joinWithoutSinceAnswersJoinedAndDeliversLiveFramesAfterLastSeq() {
        RoomSubscription sub = RoomSubscription.forJoin(join("j1", null), port);
        assertThat(port.calls).containsExactly("attach " + ROOM);

        sub.attached(hub);
        assertThat(port.calls).containsExactly("attach " + ROOM, "join " + ROOM + " since=null");
        sub.joinAnswered(new RoomEntity.Joined(5, List.of(Member.online("bob"))));

        assertThat(port.sent).containsExactly(new ServerFrame.Joined("j1", ROOM, 5,
            List.of(new ServerFrame.Member("bob", "online", null))));
        assertThat(port.calls).contains("joined " + ROOM);
        assertThat(sub.phase()).isEqualTo(RoomSubscription.Phase.LIVE);

        sub.deliver(live(5)); // published before the join answered: the client has it as lastSeq
        sub.deliver(live(6));
        sub.deliver(live(7));
        assertThat(port.clientSeqs()).containsExactly(6L, 7L);
    }

    @Test
    void framesRepublishedByAReturningHubAreNotDeliveredTwice() {
        RoomSubscription sub = liveAt(5);
        sub.deliver(live(6));
        // the hub came back and was caught up by the room: it publishes an overlapping range
        LongStream.rangeClosed(3, 9).forEach(seq -> sub.deliver(live(seq)));
        assertThat(port.clientSeqs()).containsExactly(6L, 7L, 8L, 9L);
    }

    @Test
    void aLiveFrameThatSkipsSeqsWaitsUntilTheHoleIsReadFromTheRoom() {
        RoomSubscription sub = liveAt(5);
        sub.deliver(live(9)); // the hub missed 6..8 (it was re-created while the room moved on)
        assertThat(port.clientSeqs()).isEmpty();
        assertThat(port.fetches).containsExactly("6-8");
        sub.deliver(live(10)); // keeps coming while the hole is read

        answerFetches(sub);
        assertThat(port.clientSeqs()).containsExactly(6L, 7L, 8L, 9L, 10L);
        assertThat(port.sent).noneMatch(frame -> frame instanceof ServerFrame.Synced);
        assertThat(sub.phase()).isEqualTo(RoomSubscription.Phase.LIVE);
        sub.deliver(live(11));
        assertThat(port.clientSeqs()).endsWith(10L, 11L);
    }

    @Test
    void aHoleAmongTheFramesHeldDuringAResumeIsFilledBeforeThem() {
        RoomSubscription sub = joined("j1", 0L, 3);
        sub.deliver(live(4));
        sub.deliver(live(7)); // 5 and 6 never reached this node's hub

        answerFetches(sub);
        assertThat(port.fetches).containsExactly("1-3", "5-6");
        assertThat(port.clientSeqs()).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L);
        assertThat(port.sent).containsOnlyOnce(new ServerFrame.Synced(ROOM, 3));
    }

    @Test
    void aSecondJoinWhileTheFirstIsAnsweredIsRefusedUntilItIsDone() {
        RoomSubscription sub = RoomSubscription.forJoin(join("j1", null), port);
        assertThat(sub.joinInProgress()).isTrue();
        sub.attached(hub);
        assertThat(sub.joinInProgress()).isTrue();
        sub.joinAnswered(new RoomEntity.Joined(0, List.of()));
        assertThat(sub.joinInProgress()).isFalse();
    }

    @Test
    void aRejectedJoinAnswersItsErrorAndEndsTheSubscription() {
        RoomSubscription sub = RoomSubscription.forJoin(join("j1", 99L), port);
        sub.attached(hub);
        sub.joinAnswered(new RoomEntity.JoinRejected(ErrorCode.INVALID, "since 99 is beyond the room's lastSeq 5"));

        assertThat(port.sent).containsExactly(ServerFrame.Error.of("j1", ErrorCode.INVALID, "since 99 is beyond the room's lastSeq 5"));
        assertThat(port.calls).contains("ended " + ROOM + " attached=true").doesNotContain("joined " + ROOM);
    }

    @Test
    void aJoinTheRoomDoesNotAnswerInTimeIsUnavailable() {
        RoomSubscription sub = RoomSubscription.forJoin(join("j1", null), port);
        sub.attached(hub);
        sub.joinAnswered(null);
        assertThat(port.sent).singleElement().satisfies(frame ->
            assertThat(((ServerFrame.Error) frame).errorCode()).isEqualTo(ErrorCode.UNAVAILABLE));
        assertThat(port.calls).contains("ended " + ROOM + " attached=true");
    }

    @Test
    void noHubMeansUnavailableAndNothingToDetach() {
        RoomSubscription sub = RoomSubscription.forJoin(join("j1", null), port);
        sub.attached(null);
        assertThat(((ServerFrame.Error) port.sent.get(0)).errorCode()).isEqualTo(ErrorCode.UNAVAILABLE);
        assertThat(port.calls).contains("ended " + ROOM + " attached=false");
    }

    @Test
    void aFailedRejoinOfALiveRoomStaysLiveWithoutLosingFrames() {
        RoomSubscription sub = liveAt(3);
        sub.rejoin(join("j2", 10L));
        sub.deliver(live(4)); // arrives while the rejoin is answered: held
        sub.joinAnswered(new RoomEntity.JoinRejected(ErrorCode.INVALID, "since 10 is beyond the room's lastSeq 4"));

        assertThat(sub.phase()).isEqualTo(RoomSubscription.Phase.LIVE);
        assertThat(port.calls).noneMatch(call -> call.startsWith("ended"));
        sub.deliver(live(5));
        assertThat(port.clientSeqs()).containsExactly(4L, 5L);
    }

    // ------------------------------------------------------------------ resume with since

    @Test
    void resumeReplaysTheGapInChunksThenSyncedThenTheLiveFramesHeldMeanwhile() {
        RoomSubscription sub = joined("j1", 10L, 450);
        // live frames keep coming while the replay is read
        LongStream.rangeClosed(440, 455).forEach(seq -> sub.deliver(live(seq)));

        answerFetches(sub);

        assertThat(port.fetches).containsExactly("11-210", "211-410", "411-450");
        List<Long> seqs = port.clientSeqs();
        assertThat(seqs).containsExactlyElementsOf(LongStream.rangeClosed(11, 455).boxed().toList());
        assertThat(port.syncedAt()).as("synced comes right after the replayed seq 450").isEqualTo(440);
        assertThat(port.sent).contains(new ServerFrame.Synced(ROOM, 450));
        assertThat(sub.phase()).isEqualTo(RoomSubscription.Phase.LIVE);
    }

    @Test
    void resumeWithNothingMissedSendsSyncedAtOnce() {
        RoomSubscription sub = joined("j1", 7L, 7);
        assertThat(port.fetches).isEmpty();
        assertThat(port.sent).containsExactly(new ServerFrame.Joined("j1", ROOM, 7, List.of()), new ServerFrame.Synced(ROOM, 7));
    }

    @Test
    void resumePausesWhileTheSocketIsFullAndNeverOverfillsIt() {
        port.capacity = 40; // the resume stops at three quarters: 30 frames
        RoomSubscription sub = joined("j1", 0L, 100);
        answerFetch(sub);

        assertThat(port.queue).hasSize(30);
        assertThat(port.continueLater).isEqualTo(1);
        assertThat(port.sent).doesNotContain(new ServerFrame.Synced(ROOM, 100));

        while (sub.phase() != RoomSubscription.Phase.LIVE) {
            port.drain(); // the socket writes what is queued
            sub.continueReplay();
            answerFetches(sub);
        }
        assertThat(port.maxQueued).isLessThanOrEqualTo(30);
        assertThat(port.clientSeqs()).containsExactlyElementsOf(LongStream.rangeClosed(1, 100).boxed().toList());
    }

    @Test
    void answersOfAnAbandonedReplayAreIgnored() {
        RoomSubscription sub = joined("j1", 0L, 50);
        int abandoned = port.lastGeneration;
        port.pendingFetch = null; // still in flight when the replay is abandoned
        // the client joins again with a later since before the first replay was read
        sub.rejoin(join("j2", 40L));
        sub.joinAnswered(new RoomEntity.Joined(50, List.of()));
        sub.fetched(abandoned, page(1, 50)); // the old replay's answer arrives late
        answerFetches(sub);

        assertThat(port.clientSeqs()).containsExactlyElementsOf(LongStream.rangeClosed(41, 50).boxed().toList());
        assertThat(port.sent).containsOnlyOnce(new ServerFrame.Synced(ROOM, 50));
    }

    @Test
    void aReplayThatCannotBeReadTellsTheClientToResumeAgain() {
        RoomSubscription sub = joined("j1", 0L, 20);
        sub.fetched(port.lastGeneration, new RoomEntity.ReadFailed("journal down"));

        assertThat(port.sent.get(port.sent.size() - 1)).isEqualTo(
            ServerFrame.Error.of(null, ErrorCode.UNAVAILABLE, "resume of general failed; join again with since"));
        assertThat(port.calls).contains("ended " + ROOM + " attached=true");
    }

    @Test
    void aRoomThatOutpacesAResumeClosesTheClientAsASlowConsumer() {
        RoomSubscription sub = joined("j1", 0L, 1);
        for (long seq = 2; seq < 2 + RoomSubscription.MAX_HELD; seq++) {
            sub.deliver(live(seq));
        }
        assertThat(port.overflows).isZero();
        sub.deliver(live(2 + RoomSubscription.MAX_HELD));
        assertThat(port.overflows).isEqualTo(1);
    }

    // ------------------------------------------------------------------ implicit join by send

    @Test
    void sendsToARoomNotJoinedWaitForTheImplicitJoinThenPostInOrderWithoutJoinedFrame() {
        RoomSubscription sub = RoomSubscription.forSend(send("s1"), port);
        sub.send(send("s2"));
        assertThat(port.posts).isEmpty();
        sub.attached(hub);
        sub.send(send("s3"));
        sub.joinAnswered(new RoomEntity.Joined(0, List.of()));

        assertThat(port.posts).containsExactly("s1", "s2", "s3");
        assertThat(port.sent).isEmpty();
        sub.send(send("s4"));
        assertThat(port.posts).containsExactly("s1", "s2", "s3", "s4");
    }

    @Test
    void sendsWaitingForAJoinThatFailsAreAnsweredUnavailable() {
        RoomSubscription sub = RoomSubscription.forSend(send("s1"), port);
        sub.attached(null);
        assertThat(port.sent).containsExactly(ServerFrame.Error.of("s1", ErrorCode.UNAVAILABLE, "the node could not subscribe to general"));
        assertThat(port.posts).isEmpty();
    }

    @Test
    void anExplicitJoinDuringAnImplicitOneGetsItsJoinedFrame() {
        RoomSubscription sub = RoomSubscription.forSend(send("s1"), port);
        sub.rejoin(join("j1", null)); // still attaching: waits for the hub
        sub.attached(hub);
        sub.joinAnswered(new RoomEntity.Joined(3, List.of()));
        assertThat(port.sent).containsExactly(new ServerFrame.Joined("j1", ROOM, 3, List.of()));
        assertThat(port.posts).containsExactly("s1");
    }

    @Test
    void typingGoesOutAtMostOnceASecond() {
        RoomSubscription sub = liveAt(0);
        long now = System.nanoTime();
        assertThat(sub.typingDue(now)).isTrue();
        assertThat(sub.typingDue(now + 500_000_000L)).isFalse();
        assertThat(sub.typingDue(now + 1_000_000_000L)).isTrue();
    }

    // ------------------------------------------------------------------ helpers

    /** A join (resuming from {@code since} when not null) that the hub and the room answered: lastSeq {@code lastSeq}. */
    private RoomSubscription joined(String ref, Long since, long lastSeq) {
        RoomSubscription sub = RoomSubscription.forJoin(join(ref, since), port);
        sub.attached(hub);
        sub.joinAnswered(new RoomEntity.Joined(lastSeq, List.of()));
        return sub;
    }

    private RoomSubscription liveAt(long lastSeq) {
        RoomSubscription sub = joined("j0", null, lastSeq);
        port.sent.clear();
        return sub;
    }

    private void answerFetches(RoomSubscription sub) {
        while (port.pendingFetch != null) {
            answerFetch(sub);
        }
    }

    private void answerFetch(RoomSubscription sub) {
        long[] range = port.pendingFetch;
        port.pendingFetch = null;
        sub.fetched((int) range[2], page(range[0], range[1]));
    }

    private static RoomEntity.Messages page(long from, long to) {
        List<StoredEvent> messages = new ArrayList<>();
        for (long seq = from; seq <= to; seq++) {
            messages.add(new StoredMessage(seq, "m" + seq, "alice", "text " + seq, 1_700_000_000_000L + seq));
        }
        return new RoomEntity.Messages(messages, from > 1, to);
    }

    private static ClientFrame.Join join(String ref, Long since) {
        return new ClientFrame.Join(ref, ROOM, since);
    }

    private static ClientFrame.Send send(String ref) {
        return new ClientFrame.Send(ref, ROOM, "id-" + ref, "hello");
    }

    /** A live frame from the hub; its text is its seq, so the fake socket can tell what it got. */
    private static Delivery.RoomEvent live(long seq) {
        return new Delivery.RoomEvent(ROOM, seq, 1_700_000_000_000L + seq, new EncodedFrame("message", "live:" + seq));
    }

    /** Records what the subscription asks for; its outbound queue is bounded like a socket's. */
    private static final class FakePort implements RoomSubscription.Port {
        final List<String> calls = new ArrayList<>();
        final List<String> fetches = new ArrayList<>();
        final List<String> posts = new ArrayList<>();
        final List<ServerFrame> sent = new ArrayList<>();
        /** Everything the client got, in order: a seq for messages, -1 for synced, 0 for other frames. */
        final List<Long> client = new ArrayList<>();
        final Deque<Object> queue = new ArrayDeque<>();
        int capacity = 1_000_000;
        int maxQueued;
        int continueLater;
        int overflows;
        int lastGeneration;
        long[] pendingFetch;

        @Override
        public void attach(String room) {
            calls.add("attach " + room);
        }

        @Override
        public void join(String room, Long since, ActorRef<RoomFeed> subscriber) {
            assertThat(subscriber).isNotNull();
            calls.add("join " + room + " since=" + since);
        }

        @Override
        public void fetch(String room, long from, long to, int generation) {
            assertThat(pendingFetch).as("one fetch at a time").isNull();
            fetches.add(from + "-" + to);
            lastGeneration = generation;
            pendingFetch = new long[] {from, to, generation};
        }

        @Override
        public void post(ClientFrame.Send send) {
            posts.add(send.ref());
        }

        @Override
        public void send(ServerFrame frame) {
            sent.add(frame);
            client.add(frame instanceof ServerFrame.Message m ? m.seq() : frame instanceof ServerFrame.Synced ? -1L : 0L);
            enqueue(frame);
        }

        @Override
        public void offer(Delivery.RoomEvent event) {
            client.add(Long.parseLong(event.frame().text().substring("live:".length())));
            enqueue(event.frame());
        }

        @Override
        public void rejectSend(ClientFrame.Send send, ErrorCode code, String message) {
            send(ServerFrame.Error.of(send.ref(), code, message));
        }

        private void enqueue(Object frame) {
            queue.add(frame);
            maxQueued = Math.max(maxQueued, queue.size());
        }

        void drain() {
            queue.clear();
        }

        @Override
        public boolean hasRoomToSend() {
            return queue.size() < Math.max(1, capacity * 3 / 4);
        }

        @Override
        public void continueLater(String room) {
            continueLater++;
        }

        @Override
        public void joined(String room) {
            calls.add("joined " + room);
        }

        @Override
        public void ended(String room, boolean attached) {
            calls.add("ended " + room + " attached=" + attached);
        }

        @Override
        public void overflow() {
            overflows++;
        }

        List<Long> clientSeqs() {
            return client.stream().filter(seq -> seq > 0).toList();
        }

        /** How many messages the client had when synced came. */
        int syncedAt() {
            return (int) client.subList(0, client.indexOf(-1L)).stream().filter(seq -> seq > 0).count();
        }
    }
}
