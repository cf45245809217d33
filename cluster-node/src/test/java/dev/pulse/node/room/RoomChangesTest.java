package dev.pulse.node.room;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import dev.pulse.node.metrics.JournalMetrics;
import dev.pulse.protocol.ErrorCode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.query.javadsl.PersistenceTestKitReadJournal;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Version 1.1's edits, deletions and reactions in the room entity (PROTOCOL.md "Edit, delete, react"):
 * each is a room event with the next seq, the rules, idempotence, and history served folded. The
 * testkit checks that every command, event and state (snapshots included) serializes.
 */
class RoomChangesTest {

    private static ActorTestKit testKit;
    private static HistoryReader reader;
    private static final AtomicInteger ROOMS = new AtomicInteger();
    private static final JournalMetrics JOURNAL = new JournalMetrics(new SimpleMeterRegistry());

    private record Room(EventSourcedBehaviorTestKit<RoomEntity.Command, RoomEvent, RoomState> kit) {}

    @BeforeAll
    static void start() {
        testKit = ActorTestKit.create("RoomChangesTest", ConfigFactory.parseString("""
                pekko.loglevel = WARNING
                pekko.actor.serialization-bindings {
                  "dev.pulse.node.CborSerializable" = jackson-cbor
                }
                """).withFallback(EventSourcedBehaviorTestKit.config()));
        reader = new HistoryReader(testKit.system(), PersistenceQuery.get(testKit.system())
            .getReadJournalFor(PersistenceTestKitReadJournal.class, PersistenceTestKitReadJournal.Identifier()));
    }

    @AfterAll
    static void stop() {
        testKit.shutdownTestKit();
    }

    @Test
    void anEditTakesTheNextSeqAndHistoryShowsTheMessageAsEdited() {
        Room room = room(100);
        post(room, "alice", "m1", "helo");
        post(room, "bob", "m2", "hi");

        RoomEntity.Posted edit = accepted(room, new Edit("alice", 1, "e1", "hello @bob"));
        assertThat(edit.seq()).isEqualTo(3);
        assertThat(edit.id()).isEqualTo("e1");

        List<StoredEvent> page = history(room);
        assertThat(page).extracting(StoredEvent::seq).containsExactly(1L, 2L, 3L);
        StoredMessage first = (StoredMessage) page.get(0);
        assertThat(first.currentText()).isEqualTo("hello @bob");
        assertThat(first.now().editedAt()).isEqualTo(edit.ts());
        assertThat(((StoredMessage) page.get(1)).now()).as("an untouched message").isNull();
        assertThat(page.get(2)).isEqualTo(new StoredEdit(3, "e1", "alice", 1, "hello @bob", edit.ts()));
        // the edited text is what mentions are counted in
        assertThat(summary(room, "bob", 0).mentions()).isEqualTo(1);
    }

    @Test
    void onlyTheAuthorEditsOrDeletesAndAnyoneReacts() {
        Room room = room(100);
        post(room, "alice", "m1", "mine");
        assertThat(rejected(room, new Edit("bob", 1, "e1", "yours"))).isEqualTo(ErrorCode.FORBIDDEN);
        assertThat(rejected(room, new Delete("bob", 1, "d1"))).isEqualTo(ErrorCode.FORBIDDEN);
        assertThat(accepted(room, new React("bob", 1, "r1", "👍", true)).seq()).isEqualTo(2);
        assertThat(room.kit().getState().lastSeq()).as("refusals make no event").isEqualTo(2);
    }

    @Test
    void aDeletedMessageLosesItsTextEverywhereAndTakesNoMoreChanges() {
        Room room = room(100);
        post(room, "alice", "m1", "secret");
        accepted(room, new Edit("alice", 1, "e1", "still secret"));
        accepted(room, new React("bob", 1, "r1", "👀", true));
        RoomEntity.Posted deleted = accepted(room, new Delete("alice", 1, "d1"));
        assertThat(deleted.seq()).isEqualTo(4);

        List<StoredEvent> page = history(room);
        StoredMessage message = (StoredMessage) page.get(0);
        assertThat(message.now().deleted()).isTrue();
        assertThat(message.currentText()).isNull();
        assertThat(message.now().currentReactions()).as("a deleted message keeps no reactions").isEmpty();
        assertThat(((StoredEdit) page.get(1)).text()).as("the edit's text goes with the message").isNull();
        assertThat(page.get(3)).isEqualTo(new StoredDelete(4, "d1", "alice", 1, deleted.ts()));

        assertThat(rejected(room, new Edit("alice", 1, "e2", "back"))).isEqualTo(ErrorCode.NOT_FOUND);
        assertThat(rejected(room, new React("bob", 1, "r2", "👍", true))).isEqualTo(ErrorCode.NOT_FOUND);
        assertThat(rejected(room, new Delete("alice", 1, "d2"))).isEqualTo(ErrorCode.NOT_FOUND);
        assertThat(summary(room, "alice", 0).unread()).as("a deleted message is not unread").isZero();
    }

    @Test
    void aTargetMustBeAMessageOfTheRoom() {
        Room room = room(100);
        post(room, "alice", "m1", "one");
        accepted(room, new Edit("alice", 1, "e1", "uno"));
        assertThat(rejected(room, new Edit("alice", 2, "e2", "an edit of an edit"))).isEqualTo(ErrorCode.NOT_FOUND);
        assertThat(rejected(room, new React("bob", 3, "r1", "👍", true))).isEqualTo(ErrorCode.NOT_FOUND);
        assertThat(summary(room, "bob", 0).unread()).as("an edit is no unread message").isEqualTo(1);
    }

    @Test
    void reactionsAreIdempotentAndARepeatAcksTheSeqThatSetIt() {
        Room room = room(100);
        post(room, "alice", "m1", "ship it");
        assertThat(accepted(room, new React("bob", 1, "r1", "👎", false)).seq()).as("never set: seq 0").isZero();
        long on = accepted(room, new React("bob", 1, "r2", "👍", true)).seq();
        assertThat(on).isEqualTo(2);
        assertThat(accepted(room, new React("bob", 1, "r3", "👍", true)).seq()).isEqualTo(on);
        accepted(room, new React("carol", 1, "r4", "👍", true));
        accepted(room, new React("carol", 1, "r5", "🎉", true));
        long off = accepted(room, new React("bob", 1, "r6", "👍", false)).seq();
        assertThat(off).isEqualTo(5);
        assertThat(accepted(room, new React("bob", 1, "r7", "👍", false)).seq()).isEqualTo(off);
        assertThat(room.kit().getState().lastSeq()).isEqualTo(5);

        StoredMessage message = (StoredMessage) history(room).get(0);
        assertThat(message.now().currentReactions()).isEqualTo(Map.of("👍", List.of("carol"), "🎉", List.of("carol")));
    }

    @Test
    void aRetryWithTheSameIdGetsTheSameAckAndMakesNoSecondEvent() {
        Room room = room(100);
        post(room, "alice", "m1", "typo");
        RoomEntity.Posted first = accepted(room, new Edit("alice", 1, "e1", "fixed"));
        RoomEntity.Posted again = accepted(room, new Edit("alice", 1, "e1", "fixed"));
        assertThat(again).isEqualTo(first);
        assertThat(room.kit().getState().lastSeq()).isEqualTo(2);
    }

    @Test
    void aMessageOlderThanTheWindowIsChangedByTheRulesAndServedFoldedFromTheJournal() {
        Room room = room(2);
        post(room, "alice", "m1", "old news");
        for (int i = 2; i <= 5; i++) {
            post(room, "bob", "m" + i, "filler " + i);
        }
        assertThat(room.kit().getState().windowStart()).isGreaterThan(1);
        assertThat(rejected(room, new Edit("bob", 1, "e1", "not mine"))).isEqualTo(ErrorCode.FORBIDDEN);
        assertThat(accepted(room, new Edit("alice", 1, "e2", "new news")).seq()).isEqualTo(6);
        assertThat(accepted(room, new React("bob", 1, "r1", "🔥", true)).seq()).isEqualTo(7);

        List<StoredEvent> page = room.kit().<RoomEntity.ReadResult>runCommand(
            replyTo -> new RoomEntity.GetHistory(3L, 50, replyTo)).replyOfType(RoomEntity.Messages.class).messages();
        StoredMessage old = (StoredMessage) page.get(0);
        assertThat(old.currentText()).isEqualTo("new news");
        assertThat(old.now().currentReactions()).isEqualTo(Map.of("🔥", List.of("bob")));
    }

    @Test
    void changesOfAMessageOlderThanTheWindowTakeTurnsSoAResendAppliesOnce() {
        String id = "changes-" + ROOMS.incrementAndGet();
        var room = testKit.spawn(RoomEntity.create(id, PersistenceId.of("Room", id), new RoomSettings(2, 100, Duration.ofSeconds(3)),
            reader, JOURNAL));
        TestProbe<RoomEntity.PostResult> answers = testKit.createTestProbe(RoomEntity.PostResult.class);
        for (int i = 1; i <= 5; i++) {
            room.tell(new RoomEntity.Post("alice", "m" + i, "message " + i, i, answers.ref()));
            answers.expectMessageClass(RoomEntity.Posted.class);
        }
        // message 1 is out of the window: its author is read from the journal while these arrive
        room.tell(new RoomEntity.Edit("alice", 1, "e1", "first", 10, answers.ref()));
        room.tell(new RoomEntity.Edit("alice", 1, "e1", "first", 11, answers.ref())); // the session's resend
        room.tell(new RoomEntity.Edit("alice", 1, "e2", "second", 12, answers.ref()));
        RoomEntity.Posted first = answers.expectMessageClass(RoomEntity.Posted.class);
        RoomEntity.Posted resent = answers.expectMessageClass(RoomEntity.Posted.class);
        RoomEntity.Posted second = answers.expectMessageClass(RoomEntity.Posted.class);
        assertThat(List.of(first.tag(), resent.tag(), second.tag())).containsExactly(10L, 11L, 12L);
        assertThat(resent.seq()).isEqualTo(first.seq()).isEqualTo(6);
        assertThat(second.seq()).isEqualTo(7);
        TestProbe<RoomEntity.ReadResult> pages = testKit.createTestProbe(RoomEntity.ReadResult.class);
        room.tell(new RoomEntity.GetHistory(null, 50, pages.ref()));
        List<StoredEvent> page = pages.expectMessageClass(RoomEntity.Messages.class).messages();
        assertThat(((StoredMessage) page.get(0)).currentText()).as("the later edit wins").isEqualTo("second");
        assertThat(page).extracting(StoredEvent::seq).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L);
        testKit.stop(room);
    }

    @Test
    void changesSurviveARestartOfTheRoom() {
        Room room = room(100);
        post(room, "alice", "m1", "first");
        post(room, "alice", "m2", "second");
        accepted(room, new Edit("alice", 1, "e1", "first!"));
        accepted(room, new Delete("alice", 2, "d1"));
        accepted(room, new React("bob", 1, "r1", "👍", true));

        room.kit().restart();
        List<StoredEvent> page = history(room);
        assertThat(((StoredMessage) page.get(0)).currentText()).isEqualTo("first!");
        assertThat(((StoredMessage) page.get(1)).now().deleted()).isTrue();
        assertThat(accepted(room, new React("bob", 1, "r1", "👍", true)).seq()).as("the id is remembered").isEqualTo(5);
        assertThat(accepted(room, new React("bob", 1, "r2", "👍", true)).seq()).as("and the reaction").isEqualTo(5);
    }

    @Test
    void aChangeIsPublishedToTheSubscribersOnce() {
        Room room = room(100);
        TestProbe<RoomFeed> hub = testKit.createTestProbe(RoomFeed.class);
        room.kit().<RoomEntity.JoinResult>runCommand(replyTo -> new RoomEntity.Join("bob", null, hub.ref(), replyTo));
        post(room, "alice", "m1", "hello");
        RoomEntity.Posted react = accepted(room, new React("bob", 1, "r1", "👋", true));
        List<StoredEvent> published = hub.fishForMessage(Duration.ofSeconds(3), feed ->
            feed instanceof RoomFeed.Published p && p.messages().get(0) instanceof StoredReaction
                ? org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.complete()
                : org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.continueAndIgnore())
            .stream().map(feed -> ((RoomFeed.Published) feed).messages()).findFirst().orElseThrow();
        assertThat(published).containsExactly(new StoredReaction(2, "r1", "bob", 1, "👋", true, react.ts()));
    }

    // ------------------------------------------------------------------ helpers

    /** A change as a session sends it, before the reply ref. */
    private sealed interface Change {}

    private record Edit(String user, long target, String id, String text) implements Change {}

    private record Delete(String user, long target, String id) implements Change {}

    private record React(String user, long target, String id, String emoji, boolean on) implements Change {}

    private static Room room(int window) {
        String id = "changes-" + ROOMS.incrementAndGet();
        return new Room(EventSourcedBehaviorTestKit.create(testKit.system(),
            RoomEntity.create(id, PersistenceId.of("Room", id), new RoomSettings(window, 100, Duration.ofSeconds(3)), reader,
                JOURNAL)));
    }

    private static void post(Room room, String user, String id, String text) {
        room.kit().<RoomEntity.PostResult>runCommand(replyTo -> new RoomEntity.Post(user, id, text, 0, replyTo))
            .replyOfType(RoomEntity.Posted.class);
    }

    private static RoomEntity.PostResult run(Room room, Change change) {
        return room.kit().<RoomEntity.PostResult>runCommand(replyTo -> {
            if (change instanceof Edit e) {
                return new RoomEntity.Edit(e.user(), e.target(), e.id(), e.text(), 7, replyTo);
            } else if (change instanceof Delete d) {
                return new RoomEntity.Delete(d.user(), d.target(), d.id(), 7, replyTo);
            }
            React r = (React) change;
            return new RoomEntity.React(r.user(), r.target(), r.id(), r.emoji(), r.on(), 7, replyTo);
        }).reply();
    }

    private static RoomEntity.Posted accepted(Room room, Change change) {
        RoomEntity.PostResult result = run(room, change);
        assertThat(result).as("%s", change).isInstanceOf(RoomEntity.Posted.class);
        assertThat(result.tag()).isEqualTo(7);
        return (RoomEntity.Posted) result;
    }

    private static ErrorCode rejected(Room room, Change change) {
        RoomEntity.PostResult result = run(room, change);
        assertThat(result).as("%s", change).isInstanceOf(RoomEntity.PostRejected.class);
        return ((RoomEntity.PostRejected) result).code();
    }

    private static List<StoredEvent> history(Room room) {
        return room.kit().<RoomEntity.ReadResult>runCommand(replyTo -> new RoomEntity.GetHistory(null, 50, replyTo))
            .replyOfType(RoomEntity.Messages.class).messages();
    }

    private static RoomEntity.Summary summary(Room room, String user, long lastRead) {
        return room.kit().<RoomEntity.Summary>runCommand(replyTo -> new RoomEntity.GetSummary(user, lastRead, replyTo)).reply();
    }
}
