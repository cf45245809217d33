package dev.pulse.node.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pulse.node.TestNode;
import dev.pulse.node.testkit.ChatPeer;
import dev.pulse.node.testkit.Wire;
import dev.pulse.protocol.ClientFrame;
import dev.pulse.protocol.Names;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The user's own state on every device (PROTOCOL.md 1.1, "The user's own state" and "Members and the
 * room directory"), over real sockets: the {@code rooms} frame on connect and on every change, read
 * markers, mention counts, and the room directory. Every test uses its own users and rooms.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class UserStateE2ETest {

    private static final Duration QUIET = Duration.ofMillis(700);
    private static final AtomicInteger TESTS = new AtomicInteger();

    @TempDir
    static Path data;

    private static TestNode node;

    private final List<ChatPeer> peers = new ArrayList<>();
    private String tag;

    @BeforeAll
    static void startNode() {
        node = TestNode.start(data);
    }

    @AfterAll
    static void stopNode() {
        if (node != null) {
            node.close();
        }
    }

    @BeforeEach
    void newTag() {
        tag = "u" + TESTS.incrementAndGet();
    }

    @AfterEach
    void closePeers() {
        peers.forEach(ChatPeer::close);
    }

    // ================================================================== the rooms frame

    @Test
    void aNewUserGetsAnEmptyRoomsFrameRightAfterWelcome() {
        ChatPeer alice = connect(user("alice"));
        assertThat(alice.rooms().path("rooms").isArray()).as("%s", alice.rooms()).isTrue();
        assertThat(alice.rooms().path("rooms").size()).isZero();
    }

    @Test
    void aDmReachesEverySessionOfItsRecipientWhoNeverOpenedIt() {
        String alice = user("alice");
        String bob = user("bob");
        String dm = Names.dmRoom(alice, bob);
        ChatPeer bobPhone = connect(bob);
        ChatPeer bobLaptop = connect(bob);
        ChatPeer a = connect(alice);

        a.send(new ClientFrame.Send("s1", dm, "m1", "hi bob"));
        a.expectReply("s1", "ack");

        for (ChatPeer session : List.of(bobPhone, bobLaptop)) {
            JsonNode rooms = session.expectPush("rooms", frame -> entries(frame).containsKey(dm));
            JsonNode entry = entries(rooms).get(dm);
            assertThat(entry.path("lastSeq").asLong()).as("%s", entry).isEqualTo(1);
            assertThat(entry.path("lastRead").asLong()).isZero();
            assertThat(entry.path("unread").asLong()).isEqualTo(1);
        }
        // A device that connects later lists it too, and so does the sender's.
        assertThat(entries(connect(bob).rooms())).containsKey(dm);
        assertThat(entries(connect(alice).rooms())).containsKey(dm);
    }

    @Test
    void aJoinOnOneDeviceShowsOnTheOthersAndALeaveRemovesTheRoomEverywhere() {
        String alice = user("alice");
        String room = room("join");
        ChatPeer phone = connect(alice);
        ChatPeer laptop = connect(alice);
        ChatPeer bob = connect(user("bob"));
        bob.join("bj", room);

        phone.join("pj", room);
        laptop.expectPush("rooms", frame -> entries(frame).containsKey(room));
        laptop.join("lj", room);

        phone.send(new ClientFrame.Leave("pl", room));
        phone.expectReply("pl", "left");
        laptop.expectPush("rooms", frame -> !entries(frame).containsKey(room));
        // The laptop no longer receives the room either.
        bob.send(new ClientFrame.Send("bs", room, "b1", "anyone?"));
        bob.expectReply("bs", "ack");
        laptop.expectNoPush("message", ChatPeer.message(room), QUIET);
        assertThat(entries(connect(alice).rooms())).doesNotContainKey(room);
    }

    @Test
    void aRoomJoinedOnAnotherDeviceCanBeLeftFromThisOneAndOnlyAListedRoom() {
        String alice = user("alice");
        String room = room("elsewhere");
        ChatPeer phone = connect(alice);
        ChatPeer laptop = connect(alice);
        ChatPeer bob = connect(user("bob"));
        bob.join("bj", room);
        phone.join("pj", room);
        laptop.expectPush("rooms", frame -> entries(frame).containsKey(room));

        // The laptop never joined the room, but it is in alice's list: leaving it there works.
        laptop.send(new ClientFrame.Leave("ll", room));
        laptop.expectReply("ll", "left");
        phone.expectPush("rooms", frame -> !entries(frame).containsKey(room));
        bob.expectPush("member", frame -> frame.path("user").asText().equals(alice) && frame.path("event").asText().equals("left"));
        assertThat(entries(connect(alice).rooms())).doesNotContainKey(room);

        laptop.send(new ClientFrame.Leave("again", room));
        assertError(laptop.expectReply("again", "error"), "not_found");
    }

    @Test
    void joiningTheSameRoomAgainChangesNothingAndPushesNothing() {
        String alice = user("alice");
        String room = room("again");
        ChatPeer phone = connect(alice);
        ChatPeer laptop = connect(alice);
        phone.join("j1", room);
        laptop.expectPush("rooms", frame -> entries(frame).containsKey(room));
        phone.join("j2", room);
        laptop.expectNoPush("rooms", frame -> true, QUIET);
    }

    @Test
    void theListAndItsMarkersSurviveANodeRestart(@TempDir Path own) {
        String alice = "alice-" + tag;
        String room = room("durable");
        JsonNode before;
        try (TestNode first = TestNode.start(own)) {
            ChatPeer a = ChatPeer.connect(first.client(), alice);
            a.join("j", room);
            post(a, room, 3);
            a.send(new ClientFrame.Send("dm", Names.dmRoom(alice, "zoe-" + tag), "d1", "hello zoe"));
            a.expectReply("dm", "ack");
            a.send(new ClientFrame.Read("r", room, 2));
            a.expectReply("r", "read");
            before = ChatPeer.connect(first.client(), alice).rooms();
            a.close();
        }
        try (TestNode second = TestNode.start(own)) {
            ChatPeer again = ChatPeer.connect(second.client(), alice);
            assertThat(again.rooms()).isEqualTo(before);
            assertThat(entries(again.rooms()).get(room).path("lastRead").asLong()).isEqualTo(2);
            assertThat(entries(ChatPeer.connect(second.client(), "zoe-" + tag).rooms())).containsKey(Names.dmRoom(alice, "zoe-" + tag));
            again.close();
        }
    }

    @Test
    void joinedListsWhoJoinedBeforeTheRoomRestartedWithTheirPresence(@TempDir Path own) {
        String alice = user("alice");
        String bob = user("bob");
        String carol = user("carol");
        String room = room("roster");
        try (TestNode first = TestNode.start(own)) {
            ChatPeer a = ChatPeer.connect(first.client(), alice);
            ChatPeer b = ChatPeer.connect(first.client(), bob);
            ChatPeer c = ChatPeer.connect(first.client(), carol);
            a.join("j", room);
            b.join("j", room);
            c.join("j", room);
            c.send(new ClientFrame.Leave("l", room));
            c.expectReply("l", "left");
            post(a, room, 1);
            // The list is written after the user entities journal the joins: wait until it holds them.
            awaitDirectory(a, room, found -> rooms(found).containsKey(room) && rooms(found).get(room).path("members").asLong() == 2);
            List.of(a, b, c).forEach(ChatPeer::close);
        }
        try (TestNode second = TestNode.start(own)) {
            ChatPeer b = ChatPeer.connect(second.client(), bob);
            JsonNode joined = b.join("j", room);
            Map<String, JsonNode> members = new LinkedHashMap<>();
            joined.path("members").forEach(member -> members.put(member.path("user").asText(), member));
            assertThat(members.keySet()).as("%s", joined).containsExactlyInAnyOrder(alice, bob);
            assertThat(members.get(bob).path("status").asText()).isEqualTo("online");
            assertThat(members.get(alice).path("status").asText()).isEqualTo("offline");
            assertThat(members.get(alice).path("lastSeen").asText()).as("%s", joined).isNotEmpty();
            b.close();
        }
    }

    // ================================================================== read markers

    @Test
    void readMarkersSyncToTheOtherSessionsAndNeverGoBackwards() {
        String alice = user("alice");
        String room = room("read");
        ChatPeer phone = connect(alice);
        ChatPeer laptop = connect(alice);
        phone.join("j", room);
        laptop.join("j", room);
        post(phone, room, 3);

        phone.send(new ClientFrame.Read("r1", room, 2));
        JsonNode answer = phone.expectReply("r1", "read");
        assertThat(answer.path("room").asText()).isEqualTo(room);
        assertThat(answer.path("seq").asLong()).isEqualTo(2);
        JsonNode moved = laptop.expectPush("read", frame -> frame.path("room").asText().equals(room));
        assertThat(moved.has("ref")).as("pushed to the other session without a ref: %s", moved).isFalse();
        assertThat(moved.path("seq").asLong()).isEqualTo(2);
        phone.expectNoPush("read", frame -> !frame.has("ref"), QUIET);

        // Backwards: the answer is the stored value, and nobody else hears of it.
        phone.send(new ClientFrame.Read("r2", room, 1));
        assertThat(phone.expectReply("r2", "read").path("seq").asLong()).isEqualTo(2);
        laptop.expectNoPush("read", frame -> true, QUIET);

        JsonNode entry = entries(connect(alice).rooms()).get(room);
        assertThat(entry.path("lastSeq").asLong()).isEqualTo(3);
        assertThat(entry.path("lastRead").asLong()).isEqualTo(2);
        assertThat(entry.path("unread").asLong()).isEqualTo(1);

        phone.send(new ClientFrame.Read("r3", room, 3));
        phone.expectReply("r3", "read");
        assertThat(entries(connect(alice).rooms()).get(room).has("unread")).as("unread is left out at 0").isFalse();
    }

    @Test
    void readBeyondLastSeqIsInvalidAndOfARoomNotInTheListNotFound() {
        String alice = user("alice");
        String room = room("bad");
        ChatPeer phone = connect(alice);
        phone.join("j", room);
        post(phone, room, 1);

        phone.send(new ClientFrame.Read("r1", room, 2));
        assertError(phone.expectReply("r1", "error"), "invalid");
        phone.sendRaw("{\"type\":\"read\",\"ref\":\"r2\",\"room\":\"" + room + "\",\"seq\":-1}");
        assertError(phone.expectReply("r2", "error"), "invalid");
        phone.send(new ClientFrame.Read("r3", room("never-joined"), 0));
        assertError(phone.expectReply("r3", "error"), "not_found");
        phone.send(new ClientFrame.Read("r4", Names.dmRoom(user("bob"), user("carol")), 0));
        assertError(phone.expectReply("r4", "error"), "forbidden");
        // the socket stays open and the marker is still usable
        phone.send(new ClientFrame.Read("r5", room, 1));
        assertThat(phone.expectReply("r5", "read").path("seq").asLong()).isEqualTo(1);
    }

    // ================================================================== mentions

    @Test
    void mentionsAreCountedAfterTheReadMarker() {
        String alice = user("alice");
        String room = room("mention");
        ChatPeer a = connect(alice);
        a.join("j", room);
        ChatPeer bob = connect(user("bob"));
        bob.join("j", room);
        sendText(bob, room, "@" + alice + " look");
        sendText(bob, room, "nothing here");
        sendText(bob, room, "again @" + alice + ", and @" + alice);

        JsonNode entry = entries(connect(alice).rooms()).get(room);
        assertThat(entry.path("unread").asLong()).isEqualTo(3);
        assertThat(entry.path("mentions").asLong()).as("%s", entry).isEqualTo(2);

        a.send(new ClientFrame.Read("r", room, 1));
        a.expectReply("r", "read");
        assertThat(entries(connect(alice).rooms()).get(room).path("mentions").asLong()).isEqualTo(1);
        assertThat(entries(connect(bob.user()).rooms()).get(room).has("mentions")).as("bob is mentioned nowhere").isFalse();
    }

    // ================================================================== the directory

    @Test
    void theDirectoryListsPublicRoomsOnlyMostMembersFirst() {
        String big = room("dir_big");
        String small = room("dir-small");
        ChatPeer alice = connect(user("alice"));
        ChatPeer bob = connect(user("bob"));
        ChatPeer carol = connect(user("carol"));
        for (ChatPeer peer : List.of(alice, bob, carol)) {
            peer.join("j", big);
        }
        alice.join("j", small);
        post(alice, small, 2);
        alice.send(new ClientFrame.Send("dm", Names.dmRoom(alice.user(), bob.user()), "d1", "psst"));
        alice.expectReply("dm", "ack");

        // The directory's read side is written just after each join: wait for it, not for a time.
        JsonNode listed = awaitDirectory(alice, tag, frame -> rooms(frame).size() == 2);
        assertThat(rooms(listed).keySet()).containsExactly(big, small);
        assertThat(rooms(listed).get(big).path("members").asLong()).isEqualTo(3);
        assertThat(rooms(listed).get(small).path("members").asLong()).isEqualTo(1);
        assertThat(rooms(listed).get(small).path("lastSeq").asLong()).isEqualTo(2);
        assertThat(rooms(listed).keySet()).noneMatch(Names::looksLikeDm);

        alice.send(new ClientFrame.Directory("d2", tag + "-dir_", 50));
        assertThat(rooms(alice.expectReply("d2", "directory")).keySet()).as("_ matches itself only").containsExactly(big);
        alice.send(new ClientFrame.Directory("d3", tag, 1));
        assertThat(rooms(alice.expectReply("d3", "directory")).keySet()).containsExactly(big);
        alice.sendRaw("{\"type\":\"directory\",\"ref\":\"d4\",\"limit\":101}");
        assertError(alice.expectReply("d4", "error"), "invalid");

        // Leaving takes a member away.
        bob.send(new ClientFrame.Leave("l", big));
        bob.expectReply("l", "left");
        awaitDirectory(alice, tag, frame -> rooms(frame).get(big) != null && rooms(frame).get(big).path("members").asLong() == 2);
    }

    // ================================================================== helpers

    private ChatPeer connect(String user) {
        ChatPeer peer = ChatPeer.connect(node.client(), user);
        peers.add(peer);
        return peer;
    }

    private String user(String name) {
        return name + "-" + tag;
    }

    private String room(String name) {
        return tag + "-" + name;
    }

    private static void post(ChatPeer peer, String room, int count) {
        for (int i = 0; i < count; i++) {
            sendText(peer, room, "message " + i);
        }
    }

    private static void sendText(ChatPeer peer, String room, String text) {
        String id = UUID.randomUUID().toString();
        peer.send(new ClientFrame.Send(id, room, id, text));
        peer.expectReply(id, "ack");
    }

    private static JsonNode awaitDirectory(ChatPeer peer, String query, Predicate<JsonNode> until) {
        JsonNode[] last = new JsonNode[1];
        AtomicInteger asked = new AtomicInteger();
        Wire.awaitUntil("the directory for '" + query + "' matches", Duration.ofSeconds(10), () -> {
            String ref = "dir-" + asked.incrementAndGet();
            peer.send(new ClientFrame.Directory(ref, query, 50));
            last[0] = peer.expectReply(ref, "directory");
            return until.test(last[0]);
        });
        return last[0];
    }

    /** The entries of a {@code rooms} frame by room, in order. */
    private static Map<String, JsonNode> entries(JsonNode rooms) {
        Map<String, JsonNode> byRoom = new LinkedHashMap<>();
        rooms.path("rooms").forEach(entry -> byRoom.put(entry.path("room").asText(), entry));
        return byRoom;
    }

    /** The rooms of a {@code directory} answer by room, in order. */
    private static Map<String, JsonNode> rooms(JsonNode directory) {
        return entries(directory);
    }

    private static void assertError(JsonNode error, String code) {
        assertThat(error.path("code").asText()).as("%s", error).isEqualTo(code);
    }
}
