package dev.pulse.node.user;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.pulse.node.room.RoomEntity;
import dev.pulse.node.room.PresenceStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * UserEntity spawned directly (not sharded). It resolves {@link ClusterSharding} in its constructor and
 * tells rooms about presence changes through it, so the test system is a real one-node cluster
 * (provider = cluster, joined to itself). The room entity type is registered with a stub that hands
 * every command to a probe, which lets the tests assert what the user announces to its rooms.
 */
class UserEntityTest {

    private static final Config CONFIG = ConfigFactory.parseString("""
        pekko.loglevel = WARNING
        pekko.actor.provider = cluster
        pekko.remote.artery.canonical.hostname = "127.0.0.1"
        pekko.remote.artery.canonical.port = 0
        pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
        pekko.actor.serialization-bindings {
          "dev.pulse.node.CborSerializable" = jackson-cbor
        }
        """).withFallback(EventSourcedBehaviorTestKit.config());

    private static final Duration LONG_HEARTBEAT = Duration.ofSeconds(30);
    private static final Duration NONE = Duration.ofMillis(300);

    /** A command the stub room entity received, with the room's id. */
    record RoomCall(String room, RoomEntity.Command command) {}

    private static ActorTestKit testKit;
    private static TestProbe<RoomCall> rooms;
    private static final AtomicInteger USERS = new AtomicInteger();
    /** The sessions the stand-in directory of this node reports, by user. */
    private static final Map<String, List<SessionDirectory.FoundSession>> LIVE_ELSEWHERE = new ConcurrentHashMap<>();
    private static ActorRef<SessionDirectory.Request> directory;
    /** The sign-outs this node's stand-in directory was told of. */
    private static TestProbe<SessionDirectory.SignOut> signOuts;
    /** The rooms changes and read moves this node's stand-in directory was told of. */
    private static TestProbe<SessionDirectory.Request> notices;

    @BeforeAll
    static void start() {
        testKit = ActorTestKit.create("UserEntityTest", CONFIG);
        Cluster cluster = Cluster.get(testKit.system());
        cluster.manager().tell(Join.create(cluster.selfMember().address()));
        TestProbe<Object> probe = testKit.createTestProbe();
        probe.awaitAssert(Duration.ofSeconds(10), () -> {
            assertThat(cluster.selfMember().status()).isEqualTo(MemberStatus.up());
            return null;
        });
        rooms = testKit.createTestProbe(RoomCall.class);
        ActorRef<RoomCall> roomsRef = rooms.ref();
        ClusterSharding.get(testKit.system()).init(Entity.of(RoomEntity.ENTITY_KEY, entity ->
            Behaviors.receiveMessage(command -> {
                // Like a room: confirm presence notices (a "deaf-" room never does), and record them
                // without their reply address, so tests compare what was said.
                if (command instanceof RoomEntity.PresenceChanged change && change.replyTo() != null) {
                    if (!entity.getEntityId().startsWith("deaf-")) {
                        change.replyTo().tell(new RoomEntity.PresenceNoted(entity.getEntityId(), change.status(), change.lastSeen()));
                    }
                    command = new RoomEntity.PresenceChanged(change.user(), change.status(), change.lastSeen(), null);
                }
                // "quiet-" rooms are for tests of the user's list: what they hear is not the point there.
                if (!entity.getEntityId().startsWith("quiet-")) {
                    roomsRef.tell(new RoomCall(entity.getEntityId(), command));
                }
                return Behaviors.same();
            })));
        // This node's session directory, as a user entity that restarts asks it: it knows the
        // sessions listed in LIVE_ELSEWHERE.
        signOuts = testKit.createTestProbe(SessionDirectory.SignOut.class);
        ActorRef<SessionDirectory.SignOut> signOutsRef = signOuts.ref();
        notices = testKit.createTestProbe(SessionDirectory.Request.class);
        ActorRef<SessionDirectory.Request> noticesRef = notices.ref();
        directory = testKit.spawn(Behaviors.setup(context -> {
            ActorRef<SessionDirectory.Request> self = context.getSelf();
            context.getSystem().receptionist().tell(Receptionist.register(SessionDirectory.KEY, self));
            return Behaviors.receiveMessage(request -> {
                if (request instanceof SessionDirectory.FindSessions find) {
                    find.replyTo().tell(new UserEntity.SessionsFound(self, LIVE_ELSEWHERE.getOrDefault(find.user(), List.of())));
                } else if (request instanceof SessionDirectory.SignOut signOut) {
                    signOutsRef.tell(signOut);
                } else {
                    noticesRef.tell(request);
                }
                return Behaviors.same();
            });
        }));
        TestProbe<Receptionist.Listing> listing = testKit.createTestProbe();
        listing.awaitAssert(Duration.ofSeconds(10), () -> {
            testKit.system().receptionist().tell(Receptionist.find(SessionDirectory.KEY, listing.ref()));
            assertThat(listing.receiveMessage().getServiceInstances(SessionDirectory.KEY)).contains(directory);
            return null;
        });
    }

    @AfterAll
    static void stop() {
        testKit.shutdownTestKit();
    }

    // ------------------------------------------------------------------ helpers

    private static String newUser() {
        return "user" + USERS.incrementAndGet();
    }

    private static ActorRef<UserEntity.Command> spawn(String user, Duration heartbeat) {
        return testKit.spawn(UserEntity.create(user, heartbeat, null));
    }

    private static UserEntity.Presence presence(ActorRef<UserEntity.Command> entity) {
        TestProbe<UserEntity.Presence> probe = testKit.createTestProbe();
        entity.tell(new UserEntity.GetPresence(probe.ref()));
        return probe.receiveMessage();
    }

    /** Stands in for a session actor: the entity only watches it. */
    private static TestProbe<Object> session() {
        return testKit.createTestProbe(Object.class);
    }

    private static UserEntity.Presence awaitPresence(ActorRef<UserEntity.Command> entity, PresenceStatus status, Duration max) {
        TestProbe<UserEntity.Presence> probe = testKit.createTestProbe();
        return probe.awaitAssert(max, Duration.ofMillis(20), () -> {
            UserEntity.Presence now = presence(entity);
            assertThat(now.status()).isEqualTo(status);
            return now;
        });
    }

    // ------------------------------------------------------------------ tests

    @Test
    void aUserNeverSeenIsOfflineWithoutLastSeen() {
        String user = newUser();
        assertThat(presence(spawn(user, LONG_HEARTBEAT)))
            .isEqualTo(new UserEntity.Presence(user, PresenceStatus.OFFLINE, null));
    }

    @Test
    void onlineWhileASessionIsOpenThenOfflineWithLastSeenAfterItCloses() {
        String user = newUser();
        ActorRef<UserEntity.Command> entity = spawn(user, LONG_HEARTBEAT);

        entity.tell(new UserEntity.SessionOpened("s1", session().ref(), directory, "token"));
        assertThat(presence(entity)).isEqualTo(new UserEntity.Presence(user, PresenceStatus.ONLINE, null));

        long before = System.currentTimeMillis();
        entity.tell(new UserEntity.SessionClosed("s1"));
        UserEntity.Presence offline = presence(entity);
        long after = System.currentTimeMillis();

        assertThat(offline.user()).isEqualTo(user);
        assertThat(offline.status()).isEqualTo(PresenceStatus.OFFLINE);
        assertThat(offline.lastSeen()).isNotNull().isBetween(before, after);
    }

    @Test
    void aSessionActorThatStopsCountsAsGone() {
        String user = newUser();
        ActorRef<UserEntity.Command> entity = spawn(user, LONG_HEARTBEAT);
        TestProbe<Object> session = session();
        entity.tell(new UserEntity.SessionOpened("s1", session.ref(), directory, "token"));
        assertThat(presence(entity).status()).isEqualTo(PresenceStatus.ONLINE);

        long before = System.currentTimeMillis();
        session.stop();

        UserEntity.Presence offline = awaitPresence(entity, PresenceStatus.OFFLINE, Duration.ofSeconds(5));
        assertThat(offline.lastSeen()).isNotNull().isGreaterThanOrEqualTo(before);
    }

    @Test
    void aSessionSilentBeyondTheHeartbeatBoundCountsAsGone() {
        String user = newUser();
        Duration heartbeat = Duration.ofMillis(100); // bound: 2.5 x 100 ms
        ActorRef<UserEntity.Command> entity = spawn(user, heartbeat);
        long opened = System.nanoTime();
        entity.tell(new UserEntity.SessionOpened("s1", session().ref(), directory, "token"));

        awaitPresence(entity, PresenceStatus.OFFLINE, Duration.ofSeconds(5));
        assertThat(Duration.ofNanos(System.nanoTime() - opened)).isGreaterThanOrEqualTo(Duration.ofMillis(250));
    }

    @Test
    void heartbeatsKeepASessionOnline() throws InterruptedException {
        String user = newUser();
        Duration heartbeat = Duration.ofMillis(300); // bound: 750 ms
        ActorRef<UserEntity.Command> entity = spawn(user, heartbeat);
        ActorRef<Object> session = session().ref();
        entity.tell(new UserEntity.SessionOpened("s1", session, directory, "token"));

        // 1.5 s of heartbeats every 100 ms: twice the silence bound, never silent for long.
        long end = System.nanoTime() + Duration.ofMillis(1500).toNanos();
        while (System.nanoTime() < end) {
            entity.tell(new UserEntity.Heartbeat("s1", session, directory, List.of()));
            assertThat(presence(entity).status()).isEqualTo(PresenceStatus.ONLINE);
            Thread.sleep(100); // the client's heartbeat interval: the passage of time is what is tested
        }

        // Silence: the bound catches it.
        awaitPresence(entity, PresenceStatus.OFFLINE, Duration.ofSeconds(5));
    }

    @Test
    void onlineUntilEverySessionIsGone() {
        String user = newUser();
        ActorRef<UserEntity.Command> entity = spawn(user, LONG_HEARTBEAT);
        TestProbe<Object> second = session();
        entity.tell(new UserEntity.SessionOpened("s1", session().ref(), directory, "token"));
        entity.tell(new UserEntity.SessionOpened("s2", second.ref(), directory, "token"));

        entity.tell(new UserEntity.SessionClosed("s1"));
        assertThat(presence(entity).status()).isEqualTo(PresenceStatus.ONLINE);
        // A second close of the same session changes nothing.
        entity.tell(new UserEntity.SessionClosed("s1"));
        assertThat(presence(entity).status()).isEqualTo(PresenceStatus.ONLINE);

        second.stop();
        awaitPresence(entity, PresenceStatus.OFFLINE, Duration.ofSeconds(5));
    }

    @Test
    void aClosedSessionsLaterDeathDoesNotAffectANewSession() {
        String user = newUser();
        ActorRef<UserEntity.Command> entity = spawn(user, LONG_HEARTBEAT);
        TestProbe<Object> old = session();
        entity.tell(new UserEntity.SessionOpened("s1", old.ref(), directory, "token"));
        entity.tell(new UserEntity.SessionClosed("s1"));
        entity.tell(new UserEntity.SessionOpened("s2", session().ref(), directory, "token"));

        old.stop();
        TestProbe<Object> watcher = testKit.createTestProbe();
        watcher.expectTerminated(old.ref(), Duration.ofSeconds(3));
        assertThat(presence(entity).status()).isEqualTo(PresenceStatus.ONLINE);
    }

    @Test
    void presenceChangesGoToTheTrackedRoomsOnly() {
        String user = newUser();
        ActorRef<UserEntity.Command> entity = spawn(user, LONG_HEARTBEAT);
        entity.tell(new UserEntity.TrackRoom("lobby"));
        entity.tell(new UserEntity.TrackRoom("dev"));
        entity.tell(new UserEntity.TrackRoom("old"));
        entity.tell(new UserEntity.UntrackRoom("old", "s1"));

        entity.tell(new UserEntity.SessionOpened("s1", session().ref(), directory, "token"));
        var online = rooms.receiveSeveralMessages(2, Duration.ofSeconds(10));
        assertThat(online).extracting(RoomCall::room).containsExactlyInAnyOrder("lobby", "dev");
        assertThat(online).extracting(RoomCall::command)
            .containsOnly(new RoomEntity.PresenceChanged(user, PresenceStatus.ONLINE, null, null));

        // A second session is no change of presence.
        entity.tell(new UserEntity.SessionOpened("s2", session().ref(), directory, "token"));
        entity.tell(new UserEntity.SessionClosed("s2"));
        rooms.expectNoMessage(NONE);

        entity.tell(new UserEntity.SessionClosed("s1"));
        var offline = rooms.receiveSeveralMessages(2, Duration.ofSeconds(5));
        Long lastSeen = presence(entity).lastSeen();
        assertThat(offline).extracting(RoomCall::room).containsExactlyInAnyOrder("lobby", "dev");
        assertThat(offline).extracting(RoomCall::command)
            .containsOnly(new RoomEntity.PresenceChanged(user, PresenceStatus.OFFLINE, lastSeen, null));
        rooms.expectNoMessage(NONE);
    }

    /**
     * A session sends TrackRoom through the shard region when its join is answered; if the client
     * closes at once, the death watch notification of the session reaches the entity directly and can
     * overtake it. The room counted the user online at the join, so it must still hear "offline".
     */
    /**
     * A notice sent to a room whose node just died is lost with it: the entity sends it again every
     * second until the room (started elsewhere) confirms it, and not after that.
     */
    @Test
    void aPresenceNoticeIsSentAgainUntilTheRoomConfirmsIt() {
        String user = newUser();
        ActorRef<UserEntity.Command> entity = spawn(user, LONG_HEARTBEAT);
        entity.tell(new UserEntity.TrackRoom("deaf-lobby"));
        entity.tell(new UserEntity.TrackRoom("dev"));
        entity.tell(new UserEntity.SessionOpened("s1", session().ref(), directory, "token"));
        RoomEntity.PresenceChanged online = new RoomEntity.PresenceChanged(user, PresenceStatus.ONLINE, null, null);

        var first = rooms.receiveSeveralMessages(2, Duration.ofSeconds(5));
        assertThat(first).containsExactlyInAnyOrder(new RoomCall("deaf-lobby", online), new RoomCall("dev", online));
        // "dev" confirmed; "deaf-lobby" never does, so it hears the same notice again, and again.
        assertThat(rooms.receiveMessage(Duration.ofSeconds(3))).isEqualTo(new RoomCall("deaf-lobby", online));
        assertThat(rooms.receiveMessage(Duration.ofSeconds(3))).isEqualTo(new RoomCall("deaf-lobby", online));

        // Leaving the room ends the notices to it: one sent just before may still arrive, no more.
        entity.tell(new UserEntity.UntrackRoom("deaf-lobby", "s1"));
        presence(entity);
        List<RoomCall> after = new ArrayList<>();
        long until = System.nanoTime() + UserEntity.PRESENCE_RESEND.multipliedBy(5).dividedBy(2).toNanos();
        for (long left; (left = until - System.nanoTime()) > 0; ) {
            try {
                after.add(rooms.receiveMessage(Duration.ofNanos(left)));
            } catch (AssertionError timedOut) {
                break;
            }
        }
        assertThat(after).hasSizeLessThanOrEqualTo(1);
    }

    @Test
    void aRoomTrackedAfterTheLastSessionDiedIsToldTheUserIsOffline() {
        String user = newUser();
        ActorRef<UserEntity.Command> entity = spawn(user, LONG_HEARTBEAT);
        TestProbe<Object> session = session();
        entity.tell(new UserEntity.SessionOpened("s1", session.ref(), directory, "token"));
        session.stop();
        Long lastSeen = awaitPresence(entity, PresenceStatus.OFFLINE, Duration.ofSeconds(5)).lastSeen();
        assertThat(lastSeen).isNotNull();

        entity.tell(new UserEntity.TrackRoom("late"));
        assertThat(rooms.receiveMessage(Duration.ofSeconds(5)))
            .isEqualTo(new RoomCall("late", new RoomEntity.PresenceChanged(user, PresenceStatus.OFFLINE, lastSeen, null)));
        entity.tell(new UserEntity.TrackRoom("late"));
        rooms.expectNoMessage(NONE);
    }

    /**
     * A sharded user entity is re-created empty when its shard moves (rebalance when a node joins, or
     * its node leaves) while the user's sessions on other nodes live on. Those sessions only send
     * heartbeats from then on (SessionOpened is sent once, at connect), so a heartbeat from a session
     * the entity does not know must count it as live again; otherwise the user shows offline although
     * a session is alive (PROTOCOL.md: online while at least one session, on any node, is alive).
     */
    @Test
    void aHeartbeatOfASessionUnknownAfterARestartCountsAsOnline() {
        String user = newUser();
        ActorRef<UserEntity.Command> fresh = spawn(user, LONG_HEARTBEAT);

        TestProbe<Object> session = session();
        fresh.tell(new UserEntity.Heartbeat("s1", session.ref(), directory, List.of()));

        assertThat(presence(fresh).status()).isEqualTo(PresenceStatus.ONLINE);
        // and the session is watched again: when it stops, the user goes offline
        session.stop();
        awaitPresence(fresh, PresenceStatus.OFFLINE, Duration.ofSeconds(5));
    }

    // ------------------------------------------------------------------ moves and membership

    /** The user's entity with session s1 open and room "lobby" tracked, once it told the room it is online. */
    private static ActorRef<UserEntity.Command> onlineInLobby(String user) {
        ActorRef<UserEntity.Command> entity = spawn(user, LONG_HEARTBEAT);
        entity.tell(new UserEntity.TrackRoom("lobby"));
        entity.tell(new UserEntity.SessionOpened("s1", session().ref(), directory, "token"));
        assertThat(rooms.receiveMessage(Duration.ofSeconds(5)))
            .isEqualTo(new RoomCall("lobby", new RoomEntity.PresenceChanged(user, PresenceStatus.ONLINE, null, null)));
        return entity;
    }

    /**
     * When a node dies, the user entities that lived there start again elsewhere (the entity type
     * remembers its entities). One that was online asks every node's session directory for sessions
     * left; here none are, so it goes offline and tells the user's rooms, which would otherwise show
     * the user online for ever.
     */
    @Test
    void anOnlineUserWhoseEntityDiedWithTheSessionsNodeIsOfflineWhenTheEntityStartsAgain() {
        String user = newUser();
        ActorRef<UserEntity.Command> entity = onlineInLobby(user);
        testKit.stop(entity); // the node died: no SessionClosed, no offline

        long before = System.currentTimeMillis();
        ActorRef<UserEntity.Command> again = spawn(user, LONG_HEARTBEAT);
        RoomCall told = rooms.receiveMessage(Duration.ofSeconds(5));
        UserEntity.Presence offline = presence(again);
        assertThat(offline.status()).isEqualTo(PresenceStatus.OFFLINE);
        assertThat(offline.lastSeen()).isNotNull().isGreaterThanOrEqualTo(before);
        assertThat(told).isEqualTo(new RoomCall("lobby", new RoomEntity.PresenceChanged(user, PresenceStatus.OFFLINE, offline.lastSeen(), null)));
    }

    /**
     * A room that confirmed a change and died with its node right after may have lost its pushes to
     * the other nodes' hubs, and starts again knowing nothing of the change (NodeLossPresenceTest once
     * never showed a user offline whose entity said offline): the removal of a node makes the entity
     * tell its recent change again.
     */
    @Test
    void aPresenceChangeConfirmedLatelyIsToldAgainWhenANodeIsRemoved() {
        String user = newUser();
        ActorRef<UserEntity.Command> entity = onlineInLobby(user);
        entity.tell(new UserEntity.SessionClosed("s1"));
        UserEntity.Presence offline = presence(entity);
        RoomEntity.PresenceChanged told = new RoomEntity.PresenceChanged(user, PresenceStatus.OFFLINE, offline.lastSeen(), null);
        assertThat(rooms.receiveMessage(Duration.ofSeconds(5))).isEqualTo(new RoomCall("lobby", told));
        assertThat(presence(entity).status()).as("confirmed by the stand-in room meanwhile").isEqualTo(PresenceStatus.OFFLINE);

        Member other = Cluster.get(testKit.system()).selfMember().copy(MemberStatus.removed());
        entity.tell(new UserEntity.MembershipChanged(new ClusterEvent.MemberRemoved(other, MemberStatus.down())));
        assertThat(rooms.receiveMessage(Duration.ofSeconds(5))).as("told again").isEqualTo(new RoomCall("lobby", told));
        rooms.expectNoMessage(Duration.ofMillis(300));
    }

    @Test
    void anOnlineUserWhoseEntityMovedKeepsTheSessionsItFindsAndStaysOnline() {
        String user = newUser();
        ActorRef<UserEntity.Command> entity = spawn(user, LONG_HEARTBEAT);
        entity.tell(new UserEntity.TrackRoom("dev"));
        TestProbe<Object> session = session();
        entity.tell(new UserEntity.SessionOpened("s1", session.ref(), directory, "token"));
        rooms.receiveMessage(Duration.ofSeconds(5));
        testKit.stop(entity); // a rebalance: the session lives on
        LIVE_ELSEWHERE.put(user, List.of(new SessionDirectory.FoundSession("s1", session.ref())));

        ActorRef<UserEntity.Command> moved = spawn(user, LONG_HEARTBEAT);
        assertThat(presence(moved).status()).isEqualTo(PresenceStatus.ONLINE);
        rooms.expectNoMessage(NONE);

        // The session found is watched: when it goes, so does the user.
        LIVE_ELSEWHERE.remove(user);
        session.stop();
        awaitPresence(moved, PresenceStatus.OFFLINE, Duration.ofSeconds(5));
        assertThat(rooms.receiveMessage(Duration.ofSeconds(5)).command())
            .isEqualTo(new RoomEntity.PresenceChanged(user, PresenceStatus.OFFLINE, presence(moved).lastSeen(), null));
    }

    @Test
    void theLastSeenOfAnOfflineUserSurvivesTheEntity() {
        String user = newUser();
        ActorRef<UserEntity.Command> entity = spawn(user, LONG_HEARTBEAT);
        entity.tell(new UserEntity.SessionOpened("s1", session().ref(), directory, "token"));
        entity.tell(new UserEntity.SessionClosed("s1"));
        Long lastSeen = awaitPresence(entity, PresenceStatus.OFFLINE, Duration.ofSeconds(5)).lastSeen();
        testKit.stop(entity);

        assertThat(presence(spawn(user, LONG_HEARTBEAT)))
            .isEqualTo(new UserEntity.Presence(user, PresenceStatus.OFFLINE, lastSeen));
    }

    /**
     * Sessions count only while their node is reachable. The sessions here are actors of this test's
     * own node, so the membership events name that node; the entity cannot tell the difference.
     */
    @Test
    void sessionsOfAnUnreachableNodeCountOfflineAndOnlineAgainWhenItIsReachable() {
        String user = newUser();
        ActorRef<UserEntity.Command> entity = spawn(user, LONG_HEARTBEAT);
        entity.tell(new UserEntity.SessionOpened("s1", session().ref(), directory, "token"));
        assertThat(presence(entity).status()).isEqualTo(PresenceStatus.ONLINE);

        Member node = Cluster.get(testKit.system()).selfMember();
        entity.tell(new UserEntity.MembershipChanged(new ClusterEvent.UnreachableMember(node)));
        assertThat(presence(entity).status()).isEqualTo(PresenceStatus.OFFLINE);

        entity.tell(new UserEntity.MembershipChanged(new ClusterEvent.ReachableMember(node)));
        assertThat(presence(entity).status()).isEqualTo(PresenceStatus.ONLINE);
    }

    /**
     * When the unreachable node is removed, its sessions are gone: the user stays offline (it used to
     * count online again here until the other nodes' NodeLeft came, and for good when that was lost).
     */
    @Test
    void sessionsOfARemovedNodeDoNotCountOnlineAgain() {
        String user = newUser();
        ActorRef<UserEntity.Command> entity = spawn(user, LONG_HEARTBEAT);
        entity.tell(new UserEntity.SessionOpened("s1", session().ref(), directory, "token"));
        assertThat(presence(entity).status()).isEqualTo(PresenceStatus.ONLINE);

        Member node = Cluster.get(testKit.system()).selfMember();
        entity.tell(new UserEntity.MembershipChanged(new ClusterEvent.UnreachableMember(node)));
        assertThat(presence(entity).status()).isEqualTo(PresenceStatus.OFFLINE);
        Member removed = node.copy(MemberStatus.removed());
        entity.tell(new UserEntity.MembershipChanged(new ClusterEvent.MemberRemoved(removed, MemberStatus.down())));
        assertThat(presence(entity).status()).isEqualTo(PresenceStatus.OFFLINE);
    }

    /**
     * The other nodes wake a removed node's users with NodeLeft and send it again until it is answered:
     * the entity answers, and the node's sessions no longer count.
     */
    @Test
    void nodeLeftIsAnsweredAndDropsThatNodesSessions() {
        String user = newUser();
        ActorRef<UserEntity.Command> entity = spawn(user, LONG_HEARTBEAT);
        entity.tell(new UserEntity.SessionOpened("s1", session().ref(), directory, "token"));
        assertThat(presence(entity).status()).isEqualTo(PresenceStatus.ONLINE);

        org.apache.pekko.actor.Address node = Cluster.get(testKit.system()).selfMember().address();
        TestProbe<UserEntity.NodeLeftNoted> waker = testKit.createTestProbe(UserEntity.NodeLeftNoted.class);
        entity.tell(new UserEntity.NodeLeft(node, waker.ref()));
        waker.expectMessage(new UserEntity.NodeLeftNoted(user, node));
        assertThat(presence(entity).status()).isEqualTo(PresenceStatus.OFFLINE);

        entity.tell(new UserEntity.NodeLeft(node, waker.ref())); // the other survivor's, or a resend
        waker.expectMessage(new UserEntity.NodeLeftNoted(user, node));
        assertThat(presence(entity).status()).isEqualTo(PresenceStatus.OFFLINE);
    }

    // ------------------------------------------------------------------ the account

    // ------------------------------------------------------------------ the user's rooms (version 1.1)

    private static List<UserEntity.RoomMark> roomsOf(ActorRef<UserEntity.Command> entity) {
        TestProbe<UserEntity.RoomList> probe = testKit.createTestProbe();
        entity.tell(new UserEntity.GetRooms(probe.ref()));
        return probe.receiveMessage().rooms();
    }

    /** The next rooms change or read move for {@code user} (other tests' users are told the same probe). */
    private static SessionDirectory.Request noticeFor(String user) {
        while (true) {
            SessionDirectory.Request notice = notices.receiveMessage(Duration.ofSeconds(5));
            if (user.equals(about(notice))) {
                return notice;
            }
        }
    }

    private static String about(SessionDirectory.Request notice) {
        return notice instanceof SessionDirectory.RoomsChanged changed ? changed.user()
            : notice instanceof SessionDirectory.ReadMoved moved ? moved.user() : null;
    }

    /** The notices for {@code user} that come within NONE. */
    private static List<SessionDirectory.Request> noticesFor(String user) {
        List<SessionDirectory.Request> got = new ArrayList<>();
        long deadline = System.nanoTime() + NONE.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return got;
            }
            SessionDirectory.Request notice;
            try {
                notice = notices.receiveMessage(Duration.ofNanos(left));
            } catch (AssertionError quiet) {
                return got;
            }
            if (user.equals(about(notice))) {
                got.add(notice);
            }
        }
    }

    private static UserEntity.ReadAnswer markRead(ActorRef<UserEntity.Command> entity, String room, long seq, long lastSeq) {
        TestProbe<UserEntity.ReadAnswer> probe = testKit.createTestProbe();
        entity.tell(new UserEntity.MarkRead(room, seq, lastSeq, "s1", probe.ref()));
        return probe.receiveMessage();
    }

    @Test
    void roomsAndReadMarkersOutliveTheEntityAndRepeatsChangeNothing() {
        String user = newUser();
        ActorRef<UserEntity.Command> entity = spawn(user, LONG_HEARTBEAT);
        entity.tell(new UserEntity.SessionOpened("s1", session().ref(), directory, "token"));
        entity.tell(new UserEntity.TrackRoom("quiet-general"));
        assertThat(((SessionDirectory.RoomsChanged) noticeFor(user)).rooms())
            .containsExactly(new UserEntity.RoomMark("quiet-general", 0));
        entity.tell(new UserEntity.TrackRoom("quiet-general")); // a second join: nothing to journal or push
        entity.tell(new UserEntity.TrackRoom("quiet-dm"));
        assertThat(((SessionDirectory.RoomsChanged) noticeFor(user)).rooms()).extracting(UserEntity.RoomMark::room)
            .containsExactly("quiet-dm", "quiet-general");

        assertThat(markRead(entity, "quiet-general", 5, 7)).isEqualTo(new UserEntity.ReadAnswer("quiet-general", 5, null, null));
        assertThat(noticeFor(user)).isEqualTo(new SessionDirectory.ReadMoved(user, "quiet-general", 5, "s1"));
        assertThat(markRead(entity, "quiet-general", 5, 7).seq()).as("the same marker again").isEqualTo(5);
        assertThat(markRead(entity, "quiet-general", 3, 7).seq()).as("never backwards").isEqualTo(5);
        assertThat(noticesFor(user)).as("no move to tell").isEmpty();
        assertThat(markRead(entity, "quiet-general", 8, 7).error()).isEqualTo(dev.pulse.protocol.ErrorCode.INVALID);
        assertThat(markRead(entity, "quiet-random", 1, 7).error()).isEqualTo(dev.pulse.protocol.ErrorCode.NOT_FOUND);

        testKit.stop(entity);
        ActorRef<UserEntity.Command> again = spawn(user, LONG_HEARTBEAT);
        assertThat(roomsOf(again)).containsExactly(new UserEntity.RoomMark("quiet-dm", 0),
            new UserEntity.RoomMark("quiet-general", 5));

        // Leaving forgets the room and its marker, and every session is told which room went.
        again.tell(new UserEntity.SessionOpened("s2", session().ref(), directory, "token"));
        again.tell(new UserEntity.UntrackRoom("quiet-general", "s2"));
        SessionDirectory.RoomsChanged left = (SessionDirectory.RoomsChanged) noticeFor(user);
        assertThat(left.left()).isEqualTo("quiet-general");
        assertThat(left.rooms()).extracting(UserEntity.RoomMark::room).containsExactly("quiet-dm");
        again.tell(new UserEntity.TrackRoom("quiet-general"));
        noticeFor(user);
        assertThat(roomsOf(again)).contains(new UserEntity.RoomMark("quiet-general", 0));
    }

    @Test
    void aHeartbeatSentBeforeALeaveDoesNotPutTheRoomBack() {
        String user = newUser();
        ActorRef<UserEntity.Command> entity = spawn(user, LONG_HEARTBEAT);
        TestProbe<Object> phone = session();
        entity.tell(new UserEntity.SessionOpened("s1", phone.ref(), directory, "token"));
        entity.tell(new UserEntity.TrackRoom("quiet-lobby"));
        noticeFor(user);
        entity.tell(new UserEntity.UntrackRoom("quiet-lobby", "s2"));
        noticeFor(user);
        // the phone's heartbeat still lists the room: it had not heard of the leave on the laptop
        entity.tell(new UserEntity.Heartbeat("s1", phone.ref(), directory, List.of("quiet-lobby")));
        assertThat(roomsOf(entity)).isEmpty();
        entity.tell(new UserEntity.TrackRoom("quiet-lobby")); // joined again, for real
        noticeFor(user);
        assertThat(roomsOf(entity)).extracting(UserEntity.RoomMark::room).containsExactly("quiet-lobby");
    }

    @Test
    void anAccountIsMadeOnceAndOutlivesItsEntity() {
        String user = newUser();
        ActorRef<UserEntity.Command> entity = spawn(user, LONG_HEARTBEAT);
        TestProbe<UserEntity.Registration> registered = testKit.createTestProbe();
        entity.tell(new UserEntity.Register("$argon2id$first", registered.ref()));
        registered.expectMessage(UserEntity.Registration.CREATED);
        entity.tell(new UserEntity.Register("$argon2id$second", registered.ref()));
        registered.expectMessage(UserEntity.Registration.TAKEN);

        testKit.stop(entity);
        ActorRef<UserEntity.Command> again = spawn(user, LONG_HEARTBEAT);
        TestProbe<UserEntity.LoginGate> gate = testKit.createTestProbe();
        again.tell(new UserEntity.BeginLogin(gate.ref()));
        assertThat(gate.receiveMessage().passwordHash()).isEqualTo("$argon2id$first");
    }

    @Test
    void tenLoginsThatNeverSucceedHoldTheNameBackAndASuccessDoesNotCount() {
        ActorRef<UserEntity.Command> entity = spawn(newUser(), LONG_HEARTBEAT);
        TestProbe<UserEntity.LoginGate> gate = testKit.createTestProbe();
        entity.tell(new UserEntity.BeginLogin(gate.ref()));
        UserEntity.LoginGate right = gate.receiveMessage();
        assertThat(right.retryAfterMs()).isZero();
        entity.tell(new UserEntity.LoginSucceeded(right.attempt()));
        for (int i = 0; i < UserEntity.LoginLimit.DEFAULT.maxFailures(); i++) {
            entity.tell(new UserEntity.BeginLogin(gate.ref()));
            assertThat(gate.receiveMessage().retryAfterMs()).as("attempt %d", i + 1).isZero();
        }
        entity.tell(new UserEntity.BeginLogin(gate.ref()));
        UserEntity.LoginGate refused = gate.receiveMessage();
        assertThat(refused.retryAfterMs()).isBetween(1L, UserEntity.LoginLimit.DEFAULT.window().toMillis());
        assertThat(refused.passwordHash()).isNull();
    }

    @Test
    void aTicketIsAdmittedOnceAndASignedOutTokenNever() {
        String user = newUser();
        ActorRef<UserEntity.Command> entity = spawn(user, LONG_HEARTBEAT);
        TestProbe<UserEntity.Admission> admission = testKit.createTestProbe();
        long later = System.currentTimeMillis() + 30_000;
        entity.tell(new UserEntity.Admit("t1", "ticket1", later, "ask1", admission.ref()));
        assertThat(admission.receiveMessage().admitted()).isTrue();
        entity.tell(new UserEntity.Admit("t1", "ticket1", later, "ask1", admission.ref()));
        assertThat(admission.receiveMessage().admitted()).as("the same admission asked again (its answer lost)").isTrue();
        entity.tell(new UserEntity.Admit("t1", "ticket1", later, "ask2", admission.ref()));
        assertThat(admission.receiveMessage().admitted()).as("the same ticket again").isFalse();
        entity.tell(new UserEntity.Admit("t1", null, 0, "ask3", admission.ref()));
        assertThat(admission.receiveMessage().admitted()).isTrue();

        TestProbe<UserEntity.Revoked> revoked = testKit.createTestProbe();
        entity.tell(new UserEntity.Revoke("t1", later, revoked.ref()));
        revoked.expectMessage(new UserEntity.Revoked("t1"));
        assertThat(signOuts.receiveMessage()).isEqualTo(new SessionDirectory.SignOut(user, "t1"));
        entity.tell(new UserEntity.Admit("t1", null, 0, "ask4", admission.ref()));
        assertThat(admission.receiveMessage().admitted()).isFalse();
        entity.tell(new UserEntity.Admit("t1", "ticket2", later, "ask5", admission.ref()));
        assertThat(admission.receiveMessage().admitted()).as("a new ticket of a signed-out token").isFalse();
        entity.tell(new UserEntity.Admit("t2", null, 0, "ask6", admission.ref()));
        assertThat(admission.receiveMessage().admitted()).as("another token of the user").isTrue();

        // A session admitted just before the sign-out that opens after it is closed at once.
        entity.tell(new UserEntity.SessionOpened("late", session().ref(), directory, "t1"));
        assertThat(signOuts.receiveMessage()).isEqualTo(new SessionDirectory.SignOut(user, "t1"));
        entity.tell(new UserEntity.SessionOpened("fine", session().ref(), directory, "t2"));
        signOuts.expectNoMessage(NONE);
    }
}
