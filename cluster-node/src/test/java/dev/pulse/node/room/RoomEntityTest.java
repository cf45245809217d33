package dev.pulse.node.room;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.pulse.node.metrics.JournalMetrics;
import dev.pulse.protocol.ErrorCode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.persistence.testkit.JournalOperation;
import org.apache.pekko.persistence.testkit.ProcessingPolicy;
import org.apache.pekko.persistence.testkit.ProcessingResult;
import org.apache.pekko.persistence.testkit.ProcessingSuccess;
import org.apache.pekko.persistence.testkit.WriteEvents;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.PersistenceTestKit;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.testkit.javadsl.SnapshotTestKit;
import org.apache.pekko.persistence.testkit.query.javadsl.PersistenceTestKitReadJournal;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * RoomEntity against the persistence testkit journal. Serialization of commands, events, replies and
 * state is verified by {@link EventSourcedBehaviorTestKit} on every command (its default).
 * <p>
 * Reads older than the window go through a {@link HistoryReader} on the testkit's read journal.
 */
class RoomEntityTest {

    private static final Config CONFIG = ConfigFactory.parseString("""
            pekko.loglevel = WARNING
            pekko.actor.serialization-bindings {
              "dev.pulse.node.CborSerializable" = jackson-cbor
            }
            """)
        .withFallback(EventSourcedBehaviorTestKit.config());

    private static final Duration NONE = Duration.ofMillis(300);

    private static ActorTestKit testKit;
    private static HistoryReader reader;
    private static final AtomicInteger ROOMS = new AtomicInteger();
    private static final JournalMetrics JOURNAL = new JournalMetrics(new SimpleMeterRegistry());

    @BeforeAll
    static void start() {
        testKit = ActorTestKit.create("RoomEntityTest", CONFIG);
        reader = new HistoryReader(testKit.system(), PersistenceQuery.get(testKit.system())
            .getReadJournalFor(PersistenceTestKitReadJournal.class, PersistenceTestKitReadJournal.Identifier()));
    }

    @AfterAll
    static void stop() {
        testKit.shutdownTestKit();
    }

    @AfterEach
    void resetJournalPolicy() {
        PersistenceTestKit.create(testKit.system()).resetPolicy();
    }

    // ------------------------------------------------------------------ helpers

    private record Room(String id, PersistenceId persistenceId,
                        EventSourcedBehaviorTestKit<RoomEntity.Command, RoomEvent, RoomState> kit) {}

    private static Room room(int window) {
        return room(new RoomSettings(window, 100, Duration.ofSeconds(3)));
    }

    private static Room room(RoomSettings settings) {
        String id = "room-" + ROOMS.incrementAndGet();
        PersistenceId pid = PersistenceId.of("Room", id);
        return new Room(id, pid, EventSourcedBehaviorTestKit.create(testKit.system(),
            RoomEntity.create(id, pid, settings, reader, JOURNAL)));
    }

    private static EventSourcedBehaviorTestKit.CommandResultWithReply<RoomEntity.Command, RoomEvent, RoomState, RoomEntity.PostResult>
    post(Room room, String user, String id, String text) {
        return room.kit().<RoomEntity.PostResult>runCommand(replyTo -> new RoomEntity.Post(user, id, text, 0, replyTo));
    }

    private static RoomEntity.Posted posted(Room room, String user, String id, String text) {
        return post(room, user, id, text).replyOfType(RoomEntity.Posted.class);
    }

    private static RoomEntity.Messages range(Room room, long from, long to) {
        return room.kit().<RoomEntity.ReadResult>runCommand(replyTo -> new RoomEntity.GetRange(from, to, replyTo))
            .replyOfType(RoomEntity.Messages.class);
    }

    private static RoomEntity.Messages history(Room room, Long before, int limit) {
        return room.kit().<RoomEntity.ReadResult>runCommand(replyTo -> new RoomEntity.GetHistory(before, limit, replyTo))
            .replyOfType(RoomEntity.Messages.class);
    }

    private static RoomEntity.JoinResult join(Room room, String user, Long since, ActorRef<RoomFeed> hub) {
        return room.kit().<RoomEntity.JoinResult>runCommand(replyTo -> new RoomEntity.Join(user, since, hub, replyTo)).reply();
    }

    private static List<Long> seqs(List<StoredEvent> messages) {
        return messages.stream().map(StoredEvent::seq).toList();
    }

    /** Everything the probe receives within {@code window} (possibly nothing). */
    private static <T> List<T> receivedWithin(TestProbe<T> probe, Duration window) {
        List<T> received = new ArrayList<>();
        long deadline = System.nanoTime() + window.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return received;
            }
            try {
                received.add(probe.receiveMessage(Duration.ofNanos(left)));
            } catch (AssertionError timeout) {
                return received;
            }
        }
    }

    private static TestProbe<RoomFeed> hub() {
        return testKit.createTestProbe(RoomFeed.class);
    }

    // ------------------------------------------------------------------ posting

    @Test
    void theSummaryCountsTheMentionsOfAUserAfterTheirReadMarker() {
        Room room = room(10);
        posted(room, "bob", "m1", "@alice hello");
        posted(room, "bob", "m2", "hello all");
        posted(room, "bob", "m3", "@alice @carol again, @alice");
        posted(room, "carol", "m4", "mail alice@example.com");
        RoomEntity.Summary all = room.kit().<RoomEntity.Summary>runCommand(
            replyTo -> new RoomEntity.GetSummary("alice", 0, replyTo)).reply();
        assertThat(all).isEqualTo(new RoomEntity.Summary(4, 2, 4));
        RoomEntity.Summary afterOne = room.kit().<RoomEntity.Summary>runCommand(
            replyTo -> new RoomEntity.GetSummary("alice", 1, replyTo)).reply();
        assertThat(afterOne).isEqualTo(new RoomEntity.Summary(4, 1, 3));
        assertThat(room.kit().<RoomEntity.Summary>runCommand(replyTo -> new RoomEntity.GetSummary("dave", 0, replyTo)).reply())
            .isEqualTo(new RoomEntity.Summary(4, 0, 4));
    }

    @Test
    void aDmRoomSaysItHoldsAMessageForBothItsUsersOnEveryWrite() {
        List<String> told = new java.util.concurrent.CopyOnWriteArrayList<>();
        String id = "dm:alice:bob";
        PersistenceId pid = PersistenceId.of("Room", id + "-" + ROOMS.incrementAndGet());
        DirectMessages record = (roomId, user) -> told.add(roomId + " for " + user);
        Room dm = new Room(id, pid, EventSourcedBehaviorTestKit.create(testKit.system(),
            RoomEntity.create(id, pid, new RoomSettings(10, 100, Duration.ofSeconds(3)), reader, JOURNAL, record)));
        posted(dm, "alice", "m1", "hi");
        assertThat(told).containsExactlyInAnyOrder("dm:alice:bob for alice", "dm:alice:bob for bob");

        String publicId = "room-" + ROOMS.incrementAndGet();
        PersistenceId publicPid = PersistenceId.of("Room", publicId);
        Room open = new Room(publicId, publicPid, EventSourcedBehaviorTestKit.create(testKit.system(),
            RoomEntity.create(publicId, publicPid, new RoomSettings(10, 100, Duration.ofSeconds(3)), reader, JOURNAL, record)));
        posted(open, "alice", "m1", "hi");
        assertThat(told).as("a public room tells nobody").hasSize(2);
    }

    @Test
    void postsGetGapFreeSequenceNumbersAndAreJournaledInOrder() {
        Room room = room(100);
        long before = System.currentTimeMillis();
        List<RoomEntity.Posted> acks = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            var result = post(room, "alice", "m" + i, "text " + i);
            RoomEntity.Posted ack = result.replyOfType(RoomEntity.Posted.class);
            acks.add(ack);
            assertThat(ack.id()).isEqualTo("m" + i);
            assertThat(result.events()).containsExactly(new RoomEvent.MessagePosted("m" + i, "alice", "text " + i, ack.ts()));
            assertThat(result.state().lastSeq()).isEqualTo(i);
        }
        long after = System.currentTimeMillis();

        assertThat(acks).extracting(RoomEntity.Posted::seq).containsExactly(1L, 2L, 3L);
        assertThat(acks).extracting(RoomEntity.Posted::ts).isSorted().allSatisfy(ts -> assertThat(ts).isBetween(before, after));
        assertThat(room.kit().persistenceTestKit().persistedInStorage(room.persistenceId().id())).hasSize(3);
        assertThat(range(room, 1, 3).messages()).containsExactly(
            new StoredMessage(1, "m1", "alice", "text 1", acks.get(0).ts()),
            new StoredMessage(2, "m2", "alice", "text 2", acks.get(1).ts()),
            new StoredMessage(3, "m3", "alice", "text 3", acks.get(2).ts()));
    }

    @Test
    void retryWithTheSameUserAndIdGetsTheSameAckAndPersistsNothing() {
        Room room = room(100);
        RoomEntity.Posted first = posted(room, "alice", "uuid-1", "hello");
        posted(room, "bob", "uuid-2", "hi");

        var retry = post(room, "alice", "uuid-1", "hello (sent again)");

        assertThat(retry.reply()).isEqualTo(new RoomEntity.Posted(0, "uuid-1", first.seq(), first.ts()));
        assertThat(retry.hasNoEvents()).isTrue();
        assertThat(retry.state().lastSeq()).isEqualTo(2);
        assertThat(range(room, 1, 2).messages()).extracting(RoomEntityTest::text).containsExactly("hello", "hi");
    }

    @Test
    void theSameIdFromAnotherUserIsANewMessage() {
        Room room = room(100);
        RoomEntity.Posted alice = posted(room, "alice", "same-id", "from alice");

        var bob = post(room, "bob", "same-id", "from bob");

        assertThat(bob.replyOfType(RoomEntity.Posted.class).seq()).isEqualTo(alice.seq() + 1);
        assertThat(bob.events()).hasSize(1);
        assertThat(range(room, 1, 2).messages()).extracting(RoomEntityTest::from).containsExactly("alice", "bob");
    }

    // ------------------------------------------------------------------ reading

    @Test
    void theWindowHoldsOnlyTheNewestMessages() {
        Room room = room(3);
        for (int i = 1; i <= 5; i++) {
            posted(room, "alice", "m" + i, "text " + i);
        }

        RoomEntity.Messages messages = range(room, 3, 5);
        assertThat(seqs(messages.messages())).containsExactly(3L, 4L, 5L);
        assertThat(messages.messages()).extracting(RoomEntityTest::text).containsExactly("text 3", "text 4", "text 5");
        assertThat(messages.lastSeq()).isEqualTo(5);
        assertThat(messages.hasMore()).isTrue();

        RoomState state = room.kit().getState();
        assertThat(state.windowStart()).isEqualTo(3);
        assertThat(state.windowList()).hasSize(3);
        // "to" beyond lastSeq is clamped.
        assertThat(seqs(range(room, 4, 99).messages())).containsExactly(4L, 5L);
        // The newest page is served from the window.
        RoomEntity.Messages newest = history(room, null, 3);
        assertThat(seqs(newest.messages())).containsExactly(3L, 4L, 5L);
        assertThat(newest.hasMore()).isTrue();
    }

    @Test
    void historyPagesBackwardsWithHasMore() {
        Room room = room(100);
        for (int i = 1; i <= 7; i++) {
            posted(room, "alice", "m" + i, "text " + i);
        }

        RoomEntity.Messages newest = history(room, null, 3);
        assertThat(seqs(newest.messages())).containsExactly(5L, 6L, 7L);
        assertThat(newest.hasMore()).isTrue();
        assertThat(newest.lastSeq()).isEqualTo(7);

        RoomEntity.Messages older = history(room, 5L, 3);
        assertThat(seqs(older.messages())).containsExactly(2L, 3L, 4L);
        assertThat(older.hasMore()).isTrue();

        RoomEntity.Messages oldest = history(room, 2L, 3);
        assertThat(seqs(oldest.messages())).containsExactly(1L);
        assertThat(oldest.hasMore()).isFalse();

        RoomEntity.Messages all = history(room, null, 50);
        assertThat(seqs(all.messages())).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L);
        assertThat(all.hasMore()).isFalse();

        RoomEntity.Messages nothingBeforeFirst = history(room, 1L, 10);
        assertThat(nothingBeforeFirst.messages()).isEmpty();
        assertThat(nothingBeforeFirst.hasMore()).isFalse();

        RoomEntity.Messages beyondLast = history(room, 100L, 2);
        assertThat(seqs(beyondLast.messages())).containsExactly(6L, 7L);
        assertThat(beyondLast.hasMore()).isTrue();
    }

    @Test
    void historyOfAnEmptyRoomIsEmpty() {
        Room room = room(100);
        RoomEntity.Messages page = history(room, null, 50);
        assertThat(page.messages()).isEmpty();
        assertThat(page.hasMore()).isFalse();
        assertThat(page.lastSeq()).isZero();
    }

    // ------------------------------------------------------------------ joining

    @Test
    void joinWithSinceBeyondLastSeqIsRejectedAsInvalid() {
        Room room = room(100);
        posted(room, "alice", "m1", "one");
        posted(room, "alice", "m2", "two");
        TestProbe<RoomFeed> hub = hub();

        RoomEntity.JoinResult rejected = join(room, "carol", 3L, hub.ref());
        assertThat(rejected).isInstanceOf(RoomEntity.JoinRejected.class);
        assertThat(((RoomEntity.JoinRejected) rejected).code()).isEqualTo(ErrorCode.INVALID);

        assertThat(join(room, "bob", 2L, hub.ref())).isEqualTo(new RoomEntity.Joined(2,
            List.of(new Member("bob", PresenceStatus.ONLINE, null))));
        // The rejected user did not become a member.
        assertThat(((RoomEntity.Joined) join(room, "dave", 0L, hub.ref())).members())
            .extracting(Member::user).containsExactly("bob", "dave");
    }

    @Test
    void joinAnswersLastSeqAndTheMembers() {
        Room room = room(100);
        TestProbe<RoomFeed> hub = hub();
        posted(room, "alice", "m1", "one");

        assertThat(join(room, "alice", null, hub.ref())).isEqualTo(new RoomEntity.Joined(1,
            List.of(new Member("alice", PresenceStatus.ONLINE, null))));
        assertThat(join(room, "bob", null, hub.ref())).isEqualTo(new RoomEntity.Joined(1, List.of(
            new Member("alice", PresenceStatus.ONLINE, null),
            new Member("bob", PresenceStatus.ONLINE, null))));

        room.kit().runCommand(new RoomEntity.Leave("alice"));
        assertThat(((RoomEntity.Joined) join(room, "carol", null, hub.ref())).members())
            .extracting(Member::user).containsExactly("bob", "carol");
    }

    /** Issue 12: a lobby listed everyone who ever joined it (500 offline ghosts). */
    @Test
    void membersLastSeenLongAgoAreNoLongerListedUntilTheyComeBack() {
        Room room = room(new RoomSettings(100, 100, Duration.ofSeconds(3), 1000, 192 * 1024, Duration.ofDays(30), Duration.ofMillis(250)));
        TestProbe<RoomFeed> hub = hub();
        long now = System.currentTimeMillis();
        join(room, "ghost", null, hub.ref());
        join(room, "recent", null, hub.ref());
        room.kit().runCommand(new RoomEntity.PresenceChanged("ghost", PresenceStatus.OFFLINE, now - Duration.ofDays(31).toMillis(), null));
        room.kit().runCommand(new RoomEntity.PresenceChanged("recent", PresenceStatus.OFFLINE, now - Duration.ofDays(29).toMillis(), null));

        assertThat(((RoomEntity.Joined) join(room, "carol", null, hub.ref())).members())
            .extracting(Member::user).containsExactly("carol", "recent");
        room.kit().runCommand(new RoomEntity.PresenceChanged("ghost", PresenceStatus.ONLINE, null, null));
        assertThat(((RoomEntity.Joined) join(room, "dave", null, hub.ref())).members())
            .extracting(Member::user).containsExactly("carol", "dave", "ghost", "recent");
    }

    // ------------------------------------------------------------------ recovery

    @Test
    void recoveryStartsFromTheLatestSnapshotAndKeepsEverything() {
        Room room = room(new RoomSettings(4, 100, Duration.ofSeconds(3), 3));
        List<RoomEntity.Posted> acks = new java.util.ArrayList<>();
        for (int i = 1; i <= 7; i++) {
            acks.add(posted(room, "alice", "m" + i, "text " + i));
        }
        SnapshotTestKit snapshots = SnapshotTestKit.create(testKit.system());
        // snapshots at seq 3 and 6; recovery reads the one at 6 and replays only event 7
        var latest = snapshots.persistedInStorage(room.persistenceId().id());
        assertThat(latest).extracting(pair -> pair.first().sequenceNr()).contains(6L);
        RoomState atSix = (RoomState) latest.stream().filter(p -> p.first().sequenceNr() == 6L).findFirst().orElseThrow().second();
        assertThat(atSix.lastSeq()).as("the snapshot is a copy, not the live state").isEqualTo(6);

        RoomState recovered = room.kit().restart().state();
        assertThat(recovered.lastSeq()).isEqualTo(7);
        assertThat(seqs(range(room, 4, 7).messages())).containsExactly(4L, 5L, 6L, 7L);
        assertThat(post(room, "alice", "m2", "text 2").reply()).isEqualTo(acks.get(1));
        assertThat(posted(room, "bob", "b1", "next").seq()).isEqualTo(8);
    }

    @Test
    void stateAndIdempotencySurviveARestart() {
        Room room = room(100);
        RoomEntity.Posted a1 = posted(room, "alice", "a1", "one");
        RoomEntity.Posted b1 = posted(room, "bob", "b1", "two");
        RoomEntity.Posted a2 = posted(room, "alice", "a2", "three");
        List<StoredEvent> beforeRestart = range(room, 1, 3).messages();

        RoomState recovered = room.kit().restart().state();

        assertThat(recovered.lastSeq()).isEqualTo(3);
        assertThat(recovered.lastTs()).isEqualTo(a2.ts());
        assertThat(recovered.committed("alice", "a1")).isEqualTo(new RoomState.Committed(a1.seq(), a1.ts()));
        assertThat(recovered.committed("bob", "b1")).isEqualTo(new RoomState.Committed(b1.seq(), b1.ts()));
        assertThat(recovered.committed("alice", "a2")).isEqualTo(new RoomState.Committed(a2.seq(), a2.ts()));
        assertThat(recovered.committed("bob", "a1")).isNull();
        assertThat(range(room, 1, 3).messages()).isEqualTo(beforeRestart);

        var retry = post(room, "bob", "b1", "two");
        assertThat(retry.reply()).isEqualTo(b1);
        assertThat(retry.hasNoEvents()).isTrue();

        RoomEntity.Posted next = posted(room, "carol", "c1", "four");
        assertThat(next.seq()).isEqualTo(4);
        assertThat(next.ts()).isGreaterThanOrEqualTo(a2.ts());
    }

    // ------------------------------------------------------------------ hubs

    @Test
    void aSubscribingHubIsCaughtUpWithWhatItMissedThenGetsLiveMessages() {
        Room room = room(100);
        for (int i = 1; i <= 3; i++) {
            posted(room, "alice", "m" + i, "text " + i);
        }
        TestProbe<RoomFeed> hub = hub();

        room.kit().runCommand(new RoomEntity.Subscribe(hub.ref(), 1));
        RoomFeed.Published catchUp = hub.expectMessageClass(RoomFeed.Published.class);
        assertThat(seqs(catchUp.messages())).containsExactly(2L, 3L);
        assertThat(catchUp.messages()).extracting(RoomEntityTest::text).containsExactly("text 2", "text 3");

        RoomEntity.Posted live = posted(room, "bob", "b1", "live");
        assertThat(hub.expectMessageClass(RoomFeed.Published.class).messages())
            .containsExactly(new StoredMessage(4, "b1", "bob", "live", live.ts()));

        // A refresh of a hub the room already knows repeats nothing.
        room.kit().runCommand(new RoomEntity.Subscribe(hub.ref(), 1));
        hub.expectNoMessage(NONE);
    }

    @Test
    void aHubThatHasSeenEverythingOrNothingGetsNoCatchUp() {
        Room room = room(100);
        posted(room, "alice", "m1", "one");
        posted(room, "alice", "m2", "two");
        TestProbe<RoomFeed> upToDate = hub();
        TestProbe<RoomFeed> fresh = hub();

        room.kit().runCommand(new RoomEntity.Subscribe(upToDate.ref(), 2));
        room.kit().runCommand(new RoomEntity.Subscribe(fresh.ref(), -1));
        upToDate.expectNoMessage(NONE);
        fresh.expectNoMessage(Duration.ZERO);

        posted(room, "alice", "m3", "three");
        assertThat(seqs(upToDate.expectMessageClass(RoomFeed.Published.class).messages())).containsExactly(3L);
        assertThat(seqs(fresh.expectMessageClass(RoomFeed.Published.class).messages())).containsExactly(3L);
    }

    /**
     * A hub's knownSeq may be older than the window (the room restarted and more than {@code window}
     * messages were posted before the hub's next refresh). The hub must never be handed a batch that
     * skips messages: hubs and sessions deliver any seq above the last one and would silently lose
     * the gap, although PROTOCOL.md promises every message exactly once.
     */
    @Test
    void aCatchUpNeverSkipsMessagesOlderThanTheWindow() {
        Room room = room(3);
        for (int i = 1; i <= 5; i++) {
            posted(room, "alice", "m" + i, "text " + i);
        }
        TestProbe<RoomFeed> hub = hub();

        room.kit().runCommand(new RoomEntity.Subscribe(hub.ref(), 1));

        // 2 is older than the window (3..5): it comes from the journal, in the same catch-up batch.
        RoomFeed.Published catchUp = hub.expectMessageClass(RoomFeed.Published.class, Duration.ofSeconds(5));
        assertThat(seqs(catchUp.messages())).containsExactly(2L, 3L, 4L, 5L);
        // and the hub is registered only now: the next post reaches it live
        posted(room, "alice", "m6", "text 6");
        assertThat(seqs(hub.expectMessageClass(RoomFeed.Published.class).messages())).containsExactly(6L);
    }

    @Test
    void postsAreFannedOutToEveryHubUntilItUnsubscribes() {
        Room room = room(100);
        TestProbe<RoomFeed> first = hub();
        TestProbe<RoomFeed> second = hub();
        room.kit().runCommand(new RoomEntity.Subscribe(first.ref(), -1));
        room.kit().runCommand(new RoomEntity.Subscribe(second.ref(), -1));

        RoomEntity.Posted ack = posted(room, "alice", "m1", "hello");
        StoredMessage message = new StoredMessage(1, "m1", "alice", "hello", ack.ts());
        assertThat(first.expectMessageClass(RoomFeed.Published.class).messages()).containsExactly(message);
        assertThat(second.expectMessageClass(RoomFeed.Published.class).messages()).containsExactly(message);

        room.kit().runCommand(new RoomEntity.Unsubscribe(second.ref()));
        posted(room, "alice", "m2", "again");
        assertThat(seqs(first.expectMessageClass(RoomFeed.Published.class).messages())).containsExactly(2L);
        second.expectNoMessage(NONE);
    }

    @Test
    void typingIsForwardedToSubscribedHubs() {
        Room room = room(100);
        TestProbe<RoomFeed> first = hub();
        TestProbe<RoomFeed> second = hub();
        room.kit().runCommand(new RoomEntity.Subscribe(first.ref(), -1));
        room.kit().runCommand(new RoomEntity.Subscribe(second.ref(), -1));

        var result = room.kit().runCommand(new RoomEntity.Typing("alice"));

        assertThat(result.hasNoEvents()).isTrue();
        first.expectMessage(new RoomFeed.Typing("alice"));
        second.expectMessage(new RoomFeed.Typing("alice"));
    }

    @Test
    void presenceChangesOfMembersAreForwardedAndShownInMembers() {
        Room room = room(100);
        TestProbe<RoomFeed> hub = hub();
        join(room, "alice", null, hub.ref());
        hub.expectMessage(new RoomFeed.MemberChanged("alice", true));
        long lastSeen = System.currentTimeMillis() - 60_000; // recent: long-gone members are not listed

        room.kit().runCommand(new RoomEntity.PresenceChanged("alice", PresenceStatus.OFFLINE, lastSeen, null));
        hub.expectMessage(new RoomFeed.PresenceChanged("alice", PresenceStatus.OFFLINE, lastSeen));

        assertThat(((RoomEntity.Joined) join(room, "bob", null, hub.ref())).members()).containsExactly(
            new Member("alice", PresenceStatus.OFFLINE, lastSeen),
            new Member("bob", PresenceStatus.ONLINE, null));
        hub.expectMessage(new RoomFeed.MemberChanged("bob", true));

        room.kit().runCommand(new RoomEntity.PresenceChanged("alice", PresenceStatus.ONLINE, null, null));
        hub.expectMessage(new RoomFeed.PresenceChanged("alice", PresenceStatus.ONLINE, null));
    }

    @Test
    void presenceOfMembersWhoLeftIsNotForwarded() {
        Room room = room(100);
        TestProbe<RoomFeed> hub = hub();
        join(room, "alice", null, hub.ref());
        hub.expectMessage(new RoomFeed.MemberChanged("alice", true));

        room.kit().runCommand(new RoomEntity.Leave("alice"));
        hub.expectMessage(new RoomFeed.MemberChanged("alice", false));
        room.kit().runCommand(new RoomEntity.PresenceChanged("alice", PresenceStatus.OFFLINE, 2L, null));
        hub.expectNoMessage(NONE);
    }

    /** Version 1.1's member frames: a user's first join and a leave are told to every hub, once each. */
    @Test
    void aMembersFirstJoinAndTheirLeaveAreToldToTheHubsOnce() {
        Room room = room(100);
        TestProbe<RoomFeed> first = hub();
        TestProbe<RoomFeed> second = hub();
        join(room, "alice", null, first.ref());
        first.expectMessage(new RoomFeed.MemberChanged("alice", true));
        join(room, "bob", null, second.ref());
        first.expectMessage(new RoomFeed.MemberChanged("bob", true));
        second.expectMessage(new RoomFeed.MemberChanged("bob", true));

        join(room, "bob", null, second.ref()); // bob's second session: a member already
        room.kit().runCommand(new RoomEntity.Leave("bob"));
        first.expectMessage(new RoomFeed.MemberChanged("bob", false));
        second.expectMessage(new RoomFeed.MemberChanged("bob", false));
        room.kit().runCommand(new RoomEntity.Leave("bob")); // not a member any more
        first.expectNoMessage(NONE);
        second.expectNoMessage(NONE);
        assertThat(room.kit().runCommand(new RoomEntity.Leave("bob")).hasNoEvents()).as("not journaled").isTrue();
    }

    /** The user entity sends a notice again until its room confirms it; a room confirms even one it ignores. */
    @Test
    void presenceNoticesAreConfirmedToTheirSender() {
        Room room = room(100);
        TestProbe<RoomEntity.PresenceNoted> sender = testKit.createTestProbe(RoomEntity.PresenceNoted.class);
        join(room, "alice", null, hub().ref());

        room.kit().runCommand(new RoomEntity.PresenceChanged("alice", PresenceStatus.OFFLINE, 5L, sender.ref()));
        sender.expectMessage(new RoomEntity.PresenceNoted(room.id(), PresenceStatus.OFFLINE, 5L));

        room.kit().runCommand(new RoomEntity.Leave("alice"));
        room.kit().runCommand(new RoomEntity.PresenceChanged("alice", PresenceStatus.ONLINE, null, sender.ref()));
        sender.expectMessage(new RoomEntity.PresenceNoted(room.id(), PresenceStatus.ONLINE, null));
    }

    /**
     * Only the rooms a user joined hear of the user's presence. A room that restarted lost its
     * members; when one of them goes offline meanwhile (the node of their session died), the room
     * must still pass it on, or everyone in it would see that member online for ever.
     */
    @Test
    void presenceOfAMemberTheRoomForgotInARestartIsForwarded() {
        Room room = room(100);
        TestProbe<RoomFeed> hub = hub();
        long lastSeen = System.currentTimeMillis() - 60_000;
        room.kit().runCommand(new RoomEntity.Subscribe(hub.ref(), -1));

        room.kit().runCommand(new RoomEntity.PresenceChanged("ghost", PresenceStatus.OFFLINE, lastSeen, null));
        hub.expectMessage(new RoomFeed.PresenceChanged("ghost", PresenceStatus.OFFLINE, lastSeen));

        // A hub that knew the room before it restarted, and comes back later, hears it too.
        TestProbe<RoomFeed> late = hub();
        room.kit().runCommand(new RoomEntity.Subscribe(late.ref(), 0));
        late.expectMessage(new RoomFeed.PresenceChanged("ghost", PresenceStatus.OFFLINE, lastSeen));
        // So does one whose sessions joined but saw no message yet (NodeLossPresenceTest: a quiet lobby).
        TestProbe<RoomFeed> quiet = hub();
        room.kit().runCommand(new RoomEntity.Subscribe(quiet.ref(), -1));
        quiet.expectMessage(new RoomFeed.PresenceChanged("ghost", PresenceStatus.OFFLINE, lastSeen));
    }

    // ------------------------------------------------------------------ batching (spawned directly)

    /** Blocks the first write of one persistence id until released, and records every write's size. */
    private static final class GateFirstWrite implements ProcessingPolicy<JournalOperation> {
        final String persistenceId;
        final CountDownLatch firstWriteStarted = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final List<Integer> batchSizes = Collections.synchronizedList(new ArrayList<>());

        GateFirstWrite(String persistenceId) {
            this.persistenceId = persistenceId;
        }

        @Override
        public ProcessingResult tryProcess(String pid, JournalOperation operation) {
            if (pid.equals(persistenceId) && operation instanceof WriteEvents write) {
                batchSizes.add(write.getBatch().size());
                if (batchSizes.size() == 1) {
                    firstWriteStarted.countDown();
                    try {
                        release.await(10, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
            return ProcessingSuccess.getInstance();
        }
    }

    @Test
    void postsArrivingWhileAWriteIsInFlightAreWrittenAsOneBatch() throws InterruptedException {
        String id = "room-batch-" + ROOMS.incrementAndGet();
        PersistenceId pid = PersistenceId.of("Room", id);
        PersistenceTestKit journal = PersistenceTestKit.create(testKit.system());
        GateFirstWrite gate = new GateFirstWrite(pid.id());
        journal.withPolicy(gate);
        SimpleMeterRegistry metrics = new SimpleMeterRegistry();
        ActorRef<RoomEntity.Command> room = testKit.spawn(RoomEntity.create(id, pid,
            new RoomSettings(100, 100, Duration.ofSeconds(3)), reader, new JournalMetrics(metrics)));
        TestProbe<RoomFeed> hub = hub();
        room.tell(new RoomEntity.Subscribe(hub.ref(), -1));

        TestProbe<RoomEntity.PostResult> a1 = testKit.createTestProbe();
        room.tell(new RoomEntity.Post("alice", "a1", "first", 11, a1.ref()));
        assertThat(gate.firstWriteStarted.await(5, TimeUnit.SECONDS)).isTrue();

        // All of these reach the room while the first write is in flight.
        TestProbe<RoomEntity.PostResult> a2 = testKit.createTestProbe();
        TestProbe<RoomEntity.PostResult> b1 = testKit.createTestProbe();
        TestProbe<RoomEntity.PostResult> a2again = testKit.createTestProbe();
        TestProbe<RoomEntity.PostResult> a1again = testKit.createTestProbe();
        TestProbe<RoomEntity.PostResult> c1 = testKit.createTestProbe();
        room.tell(new RoomEntity.Post("alice", "a2", "second", 21, a2.ref()));
        room.tell(new RoomEntity.Post("bob", "b1", "third", 31, b1.ref()));
        room.tell(new RoomEntity.Post("alice", "a2", "second", 22, a2again.ref()));
        room.tell(new RoomEntity.Post("alice", "a1", "first", 12, a1again.ref()));
        room.tell(new RoomEntity.Post("carol", "c1", "fourth", 41, c1.ref()));
        a1.expectNoMessage(Duration.ofMillis(100)); // no ack before the write commits
        gate.release.countDown();

        RoomEntity.Posted first = (RoomEntity.Posted) a1.receiveMessage();
        assertThat(first).isEqualTo(new RoomEntity.Posted(11, "a1", 1, first.ts()));
        // A retry waiting on the same write gets the same ack, under its own tag.
        assertThat(a1again.receiveMessage()).isEqualTo(new RoomEntity.Posted(12, "a1", 1, first.ts()));
        RoomEntity.Posted second = (RoomEntity.Posted) a2.receiveMessage();
        assertThat(second).isEqualTo(new RoomEntity.Posted(21, "a2", 2, second.ts()));
        assertThat(a2again.receiveMessage()).isEqualTo(new RoomEntity.Posted(22, "a2", 2, second.ts()));
        assertThat(b1.receiveMessage()).isEqualTo(new RoomEntity.Posted(31, "b1", 3, second.ts()));
        assertThat(c1.receiveMessage()).isEqualTo(new RoomEntity.Posted(41, "c1", 4, second.ts()));

        assertThat(gate.batchSizes).containsExactly(1, 3);
        // timed from persist to commit, before the acks go out: two writes of 1 and 3 messages
        assertThat(metrics.get("pulse.journal.write").timer().count()).isEqualTo(2);
        assertThat(metrics.get("pulse.journal.batch.size").summary().count()).isEqualTo(2);
        assertThat(metrics.get("pulse.journal.batch.size").summary().totalAmount()).isEqualTo(4);
        assertThat(journal.persistedInStorage(pid.id())).extracting(e -> ((RoomEvent.MessagePosted) e).id())
            .containsExactly("a1", "a2", "b1", "c1");
        assertThat(seqs(hub.expectMessageClass(RoomFeed.Published.class).messages())).containsExactly(1L);
        assertThat(seqs(hub.expectMessageClass(RoomFeed.Published.class).messages())).containsExactly(2L, 3L, 4L);
        testKit.stop(room);
    }

    /** A roster of alice and bob whose presence answers are completed by the test. */
    private static final class SlowRoster implements MemberRoster {
        final java.util.concurrent.CompletableFuture<Member> alice = new java.util.concurrent.CompletableFuture<>();
        final java.util.concurrent.CompletableFuture<Member> bob = new java.util.concurrent.CompletableFuture<>();

        @Override
        public java.util.concurrent.CompletionStage<List<String>> members(String room) {
            return java.util.concurrent.CompletableFuture.completedFuture(List.of("alice", "bob"));
        }

        @Override
        public List<java.util.concurrent.CompletionStage<Member>> presence(List<String> users) {
            return users.stream().map(user -> (java.util.concurrent.CompletionStage<Member>) (user.equals("alice") ? alice : bob)).toList();
        }
    }

    private static ActorRef<RoomEntity.Command> roomWith(MemberRoster roster, Duration patience) {
        String id = "room-roster-" + ROOMS.incrementAndGet();
        return testKit.spawn(RoomEntity.create(id, PersistenceId.of("Room", id),
            new RoomSettings(10, 100, Duration.ofSeconds(3)).withRosterPresencePatience(patience), reader, JOURNAL,
            new RoomPorts(DirectMessages.NONE, roster, SearchIndex.NONE)));
    }

    /**
     * While a node leaves, the members' user entities move too and answer late: a join of a room that
     * just started lists the members at once, waits only briefly for their presence, and a late answer
     * reaches the subscribers as a presence change.
     */
    @Test
    void aJoinWaitsOnlyBrieflyForTheMembersPresenceAndALateAnswerIsPushed() {
        SlowRoster roster = new SlowRoster();
        roster.alice.complete(Member.online("alice"));
        ActorRef<RoomEntity.Command> room = roomWith(roster, Duration.ofMillis(250));
        TestProbe<RoomFeed> hub = hub();
        TestProbe<RoomEntity.JoinResult> joined = testKit.createTestProbe();

        room.tell(new RoomEntity.Join("carol", null, hub.ref(), joined.ref()));
        joined.expectNoMessage(Duration.ofMillis(150)); // bob may still answer: joins wait up to 250 ms
        RoomEntity.Joined first = joined.expectMessageClass(RoomEntity.Joined.class, Duration.ofSeconds(5));
        assertThat(first.members()).containsExactlyInAnyOrder(Member.online("alice"),
            new Member("bob", PresenceStatus.OFFLINE, null), Member.online("carol"));

        long bobLastSeen = System.currentTimeMillis() - 60_000; // recent: long-gone members are forgotten
        // A hub that (re)subscribes meanwhile hears nothing of bob until his presence is known.
        TestProbe<RoomFeed> otherNode = hub();
        room.tell(new RoomEntity.Subscribe(otherNode.ref(), -1));
        roster.bob.complete(Member.of("bob", PresenceStatus.OFFLINE, bobLastSeen));
        otherNode.expectMessage(new RoomFeed.PresenceChanged("bob", PresenceStatus.OFFLINE, bobLastSeen, true));
        assertThat(hub.fishForMessage(Duration.ofSeconds(5), feed -> feed instanceof RoomFeed.PresenceChanged
                ? org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.complete()
                : org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.continueAndIgnore()))
            .last().isEqualTo(new RoomFeed.PresenceChanged("bob", PresenceStatus.OFFLINE, bobLastSeen, true));
        TestProbe<RoomEntity.JoinResult> again = testKit.createTestProbe();
        room.tell(new RoomEntity.Join("dave", null, hub.ref(), again.ref()));
        assertThat(again.expectMessageClass(RoomEntity.Joined.class).members())
            .contains(new Member("bob", PresenceStatus.OFFLINE, bobLastSeen));
        testKit.stop(room);
    }

    /** A member who joins is online: a late answer from before the join does not say otherwise. */
    @Test
    void aLateAnswerDoesNotOverrideAJoin() {
        SlowRoster roster = new SlowRoster();
        roster.alice.complete(Member.online("alice"));
        ActorRef<RoomEntity.Command> room = roomWith(roster, Duration.ofMillis(50));
        TestProbe<RoomFeed> hub = hub();
        TestProbe<RoomEntity.JoinResult> joined = testKit.createTestProbe();
        room.tell(new RoomEntity.Join("carol", null, hub.ref(), joined.ref()));
        assertThat(joined.expectMessageClass(RoomEntity.Joined.class, Duration.ofSeconds(5)).members())
            .contains(new Member("bob", PresenceStatus.OFFLINE, null));

        room.tell(new RoomEntity.Join("bob", null, hub.ref(), joined.ref()));
        assertThat(joined.expectMessageClass(RoomEntity.Joined.class).members()).contains(Member.online("bob"));
        roster.bob.complete(Member.of("bob", PresenceStatus.OFFLINE, System.currentTimeMillis() - 60_000));

        room.tell(new RoomEntity.Join("dave", null, hub.ref(), joined.ref()));
        assertThat(joined.expectMessageClass(RoomEntity.Joined.class).members()).contains(Member.online("bob"));
        // bob was listed already: his join is no member change
        assertThat(hub.receiveSeveralMessages(2)).as("carol's and dave's member frames, no presence")
            .allMatch(feed -> feed instanceof RoomFeed.MemberChanged);
        hub.expectNoMessage(Duration.ofMillis(100));
        testKit.stop(room);
    }

    /** Answers that come in time are in the first join's member list. */
    @Test
    void aJoinGoesOnAsSoonAsEveryMembersPresenceIsKnown() {
        SlowRoster roster = new SlowRoster();
        ActorRef<RoomEntity.Command> room = roomWith(roster, Duration.ofSeconds(30));
        TestProbe<RoomEntity.JoinResult> joined = testKit.createTestProbe();
        room.tell(new RoomEntity.Join("carol", null, hub().ref(), joined.ref()));
        joined.expectNoMessage(Duration.ofMillis(50));
        roster.alice.complete(Member.online("alice"));
        roster.bob.complete(Member.online("bob"));
        RoomEntity.Joined first = joined.expectMessageClass(RoomEntity.Joined.class, Duration.ofSeconds(5));
        assertThat(first.members()).containsExactlyInAnyOrder(Member.online("alice"), Member.online("bob"), Member.online("carol"));
        testKit.stop(room);
    }

    private static RoomEntity.Posted postAndAwaitAck(ActorRef<RoomEntity.Command> room, String user, String id, String text) {
        TestProbe<RoomEntity.PostResult> probe = testKit.createTestProbe();
        room.tell(new RoomEntity.Post(user, id, text, 0, probe.ref()));
        return probe.expectMessageClass(RoomEntity.Posted.class);
    }

    /**
     * A journal write fails: the room restarts with back-off (onPersistFailure) and recovers from the
     * journal. The unacknowledged post is retried with the same id, as a client does after a lost ack.
     * It must then really be written, at the next gap-free seq, and the room's seqs must keep matching
     * the journal's sequence numbers.
     */
    @Test
    void afterAFailedWriteTheRoomRecoversExactlyWhatTheJournalHolds() {
        String id = "room-fail-" + ROOMS.incrementAndGet();
        PersistenceId pid = PersistenceId.of("Room", id);
        PersistenceTestKit journal = PersistenceTestKit.create(testKit.system());
        SimpleMeterRegistry metrics = new SimpleMeterRegistry();
        ActorRef<RoomEntity.Command> room = testKit.spawn(RoomEntity.create(id, pid,
            new RoomSettings(100, 100, Duration.ofSeconds(3)), reader, new JournalMetrics(metrics)));
        assertThat(postAndAwaitAck(room, "alice", "a1", "one").seq()).isEqualTo(1);
        assertThat(postAndAwaitAck(room, "alice", "a2", "two").seq()).isEqualTo(2);

        journal.failNextPersisted(pid.id());
        TestProbe<RoomEntity.PostResult> lost = testKit.createTestProbe();
        room.tell(new RoomEntity.Post("alice", "x", "three", 7, lost.ref()));

        // The client retries with the same id until it is acked.
        RoomEntity.Posted ack = lost.awaitAssert(Duration.ofSeconds(10), Duration.ofMillis(100), () -> {
            TestProbe<RoomEntity.PostResult> retry = testKit.createTestProbe();
            room.tell(new RoomEntity.Post("alice", "x", "three", 0, retry.ref()));
            return (RoomEntity.Posted) retry.receiveMessage(Duration.ofMillis(500));
        });
        // The post whose write failed was never acknowledged as committed: it was answered "unavailable".
        RoomEntity.PostRejected rejected = lost.expectMessageClass(RoomEntity.PostRejected.class);
        assertThat(rejected.code()).isEqualTo(ErrorCode.UNAVAILABLE);
        assertThat(rejected.tag()).as("the rejection answers the lost post's tag").isEqualTo(7);
        assertThat(metrics.get("pulse.journal.failures").tag("operation", "write").counter().count()).isEqualTo(1);

        assertThat(journal.persistedInStorage(pid.id()))
            .as("an acked message is in the journal")
            .extracting(e -> ((RoomEvent.MessagePosted) e).id()).containsExactly("a1", "a2", "x");
        assertThat(ack.seq()).isEqualTo(3);

        RoomEntity.Posted next = postAndAwaitAck(room, "bob", "b1", "four");
        assertThat(next.seq()).as("seq of the 4th journaled message").isEqualTo(4);
        TestProbe<RoomEntity.ReadResult> read = testKit.createTestProbe();
        room.tell(new RoomEntity.GetRange(1, 10, read.ref()));
        RoomEntity.Messages messages = read.expectMessageClass(RoomEntity.Messages.class);
        assertThat(messages.lastSeq()).isEqualTo(4);
        assertThat(messages.messages()).extracting(StoredEvent::id).containsExactly("a1", "a2", "x", "b1");
        testKit.stop(room);
    }

    private static String text(StoredEvent event) {
        return ((StoredMessage) event).text();
    }

    private static String from(StoredEvent event) {
        return event.from();
    }
}
