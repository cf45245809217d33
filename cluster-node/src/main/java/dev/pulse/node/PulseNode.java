package dev.pulse.node;

import dev.pulse.node.auth.Accounts;
import dev.pulse.node.auth.OidcTokens;
import dev.pulse.node.auth.PasswordHasher;
import dev.pulse.node.auth.TokenService;
import dev.pulse.node.cluster.ClusterFormation;
import dev.pulse.node.cluster.ShardWarmup;
import dev.pulse.node.cluster.SplitDatabaseGuard;
import dev.pulse.node.http.AllowedOrigins;
import dev.pulse.node.http.ClientAddress;
import dev.pulse.node.http.HttpServer;
import dev.pulse.node.http.ManagementServer;
import dev.pulse.node.http.WebSocketBridge;
import dev.pulse.node.delivery.LocalRooms;
import dev.pulse.node.metrics.ClusterMetrics;
import dev.pulse.node.metrics.PulseMetrics;
import dev.pulse.node.metrics.ShardRegionMetrics;
import dev.pulse.node.persistence.JournalSchema;
import dev.pulse.node.persistence.JournalWarmup;
import dev.pulse.node.persistence.JournalDatabase;
import dev.pulse.node.persistence.MessageSearchTable;
import dev.pulse.node.persistence.RoomMembersTable;
import dev.pulse.node.user.RoomMembership;
import dev.pulse.node.user.RosterPresence;
import dev.pulse.protocol.ServerFrame;
import dev.pulse.protocol.Timestamps;
import dev.pulse.node.room.HistoryReader;
import dev.pulse.node.room.RoomPorts;
import dev.pulse.node.room.RoomEntity;
import dev.pulse.node.room.RoomSettings;
import dev.pulse.node.session.UserRateLimiter;
import dev.pulse.node.session.SessionDeps;
import dev.pulse.node.session.Sessions;
import dev.pulse.node.session.WireFrames;
import dev.pulse.node.user.UserEntity;
import dev.pulse.protocol.FrameCodec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.Done;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.slf4j.LoggerFactory;

/** A running Pulse node: cluster member, entities, local hubs and sessions, and the HTTP server. */
public final class PulseNode {

    private final ActorSystem<Void> system;
    private final HttpServer http;
    private final String node;

    private PulseNode(ActorSystem<Void> system, HttpServer http, String node) {
        this.system = system;
        this.http = http;
        this.node = node;
    }

    public static PulseNode start(NodeSettings settings) {
        if (settings.database().embedded()) {
            SplitDatabaseGuard.refuseDiscovery(settings.discovery(), settings.dataDir());
            SplitDatabaseGuard.refuseSeeds(settings.seedNodes(),
                settings.config().getString("pulse.cluster.host") + ":" + settings.config().getInt("pulse.cluster.port"),
                settings.dataDir());
            try {
                Files.createDirectories(settings.dataDir());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create data directory " + settings.dataDir(), e);
            }
        }
        JournalSchema.ensure(settings.database());

        ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), Main.SYSTEM_NAME, settings.config());
        try {
            return wire(system, settings);
        } catch (RuntimeException e) {
            system.terminate();
            throw e;
        }
    }

    /** How often the shard regions are asked how many rooms and users this node hosts, for metrics. */
    private static final Duration SHARD_METRICS_INTERVAL = Duration.ofSeconds(5);
    /**
     * A room that starts asks its members' user entities for their presence, so the asks are bounded
     * in time and in number (offline, last seen unknown, beyond them, until the user entity says).
     */
    private static final Duration ROSTER_PRESENCE_TIMEOUT = Duration.ofSeconds(2);
    private static final int ROSTER_PRESENCE_ASKS = 1_000;

    private static PulseNode wire(ActorSystem<Void> system, NodeSettings settings) {
        Cluster cluster = Cluster.get(system);
        Address self = cluster.selfMember().address();
        PulseMetrics metrics = new PulseMetrics();
        system.getWhenTerminated().thenRun(metrics::close);
        ClusterMetrics.bind(cluster, metrics.registry());
        ManagementServer management = ManagementServer.start(system, metrics);
        String node = self.host().get() + ":" + self.port().get();
        if (settings.database().embedded()) {
            system.systemActorOf(SplitDatabaseGuard.create(settings.dataDir()), "split-database-guard", Props.empty());
        }

        RoomSettings roomSettings = RoomSettings.from(settings.config());
        ClusterSharding sharding = ClusterSharding.get(system);
        JournalDatabase journalDatabase = JournalDatabase.of(system);
        RoomMembersTable roomMembers = new RoomMembersTable(journalDatabase);
        HistoryReader history = HistoryReader.jdbc(system);
        MessageSearchTable searchTable = new MessageSearchTable(journalDatabase);
        system.log().info("Search: {}", journalDatabase.postgres()
            ? "PostgreSQL full-text search (tsvector, GIN index)" : "embedded H2 (substring match per word)");
        RoomEntity.init(system, roomSettings, history, metrics.journal(), new RoomPorts(
            (room, user) -> sharding.entityRefFor(UserEntity.ENTITY_KEY, user).tell(new UserEntity.TrackRoom(room)),
            new RosterPresence(roomMembers::members, system, ROSTER_PRESENCE_TIMEOUT, ROSTER_PRESENCE_ASKS),
            new MessageIndexer(searchTable, history, searchWriter(system))));
        UserEntity.init(system, settings.heartbeat(), settings.loginLimitPerUser(), new RoomMembership() {
            @Override
            public void joined(String room, String user) {
                roomMembers.joined(room, user);
            }

            @Override
            public void left(String room, String user) {
                roomMembers.left(room, user);
            }
        });
        // Join only now that the shard regions (and their distributed-data replicator) run: the shard
        // coordinators write their state to every node of a small cluster, and a node that is Up
        // without a replicator holds every such write for its 5 s timeout (a rolling restart's stall).
        ClusterFormation.start(system, settings.seedNodes(), settings.discovery());
        JournalWarmup.get(system).start(system, settings.config().getInt("pulse.db.pool-size"));
        // Only where the cluster's size is known when it forms: a cluster of one, or PULSE_MIN_MEMBERS.
        // A node that warmed up alone would home every shard, and hand them all off when it leaves.
        boolean aloneByDesign = settings.seedNodes().isEmpty() && settings.discovery().isBlank();
        if (aloneByDesign || settings.config().getInt("pekko.cluster.min-nr-of-members") > 1) {
            ShardWarmup.get(system).start(system, List.of(RoomEntity.ENTITY_KEY, UserEntity.ENTITY_KEY),
                settings.config().getInt("pekko.cluster.sharding.number-of-shards"));
        } else {
            ShardWarmup.get(system).skip();
        }
        ShardRegionMetrics.bind(system, Map.of("room", RoomEntity.ENTITY_KEY, "user", UserEntity.ENTITY_KEY),
            SHARD_METRICS_INTERVAL, metrics.registry());

        ActorRef<LocalRooms.Command> localRooms =
            system.systemActorOf(LocalRooms.create(roomSettings, WireFrames.INSTANCE), "local-rooms", Props.empty());
        FrameCodec codec = new FrameCodec(settings.limits());
        SessionDeps deps = new SessionDeps(ClusterSharding.get(system), localRooms, new UserRateLimiter(settings.limits()),
            settings.requestLimiter(), settings.typingLimiter(),
            codec, settings.heartbeat(), settings.entityTimeout(), node, metrics.clients(),
            settings.historyPageBytes(), settings.maxRoomsPerSession(), settings.maxSocketsPerUser(),
            settings.authMode() == Accounts.Mode.ACCOUNTS,
            (query, limit) -> roomMembers.find(query, limit).thenApply(rooms -> rooms.stream()
                .map(room -> new ServerFrame.DirectoryEntry(room.room(), room.members(), room.lastSeq())).toList()),
            (rooms, query, limit) -> searchTable.search(rooms, query, limit).thenApply(hits -> hits.stream()
                .map(hit -> new ServerFrame.SearchResult(hit.room(), hit.seq(), hit.author(), hit.text(), Timestamps.format(hit.ts())))
                .toList()));
        ActorRef<Sessions.Command> sessions = Sessions.asCommands(
            system.systemActorOf(Sessions.create(deps), "sessions", Props.empty()));

        OidcTokens oidc = settings.oidc().enabled() ? new OidcTokens(settings.oidc(), Clock.systemUTC()) : null;
        TokenService tokens = new TokenService(settings.tokenSecret(), settings.tokenTtl(), settings.ticketTtl(), Clock.systemUTC(),
            oidc);
        Accounts accounts = new Accounts(system, settings.authMode(), tokens, new PasswordHasher(settings.passwordCost()),
            settings.loginPassword(), settings.loginThrottlePerAddress(), settings.entityTimeout());
        system.log().info("Sign-in: {}", settings.authMode() == Accounts.Mode.OPEN
            ? "open (PULSE_AUTH=open): anyone may log in with any name" : "accounts (register, then log in with a password)");
        WebSocketBridge bridge = new WebSocketBridge(system, sessions, settings.limits().maxFrameBytes(),
            settings.outboundBuffer(), settings.outboundBufferBytes(), settings.closeGrace());
        metrics.watchSockets(bridge.sockets());
        HttpServer http = HttpServer.start(system, settings.httpHost(), settings.httpPort(), tokens,
            accounts, new ClientAddress(settings.trustedProxies()), settings.maxSocketsPerAddress(), bridge, new AllowedOrigins(settings.allowedOrigins()), node);

        CoordinatedShutdown shutdown = CoordinatedShutdown.get(system);
        shutdown.addTask(CoordinatedShutdown.PhaseServiceUnbind(), "unbind-http", http::unbind);
        shutdown.addTask(CoordinatedShutdown.PhaseServiceRequestsDone(), "close-sessions", () -> {
            sessions.tell(new Sessions.CloseAll());
            return CompletableFuture.completedFuture(Done.getInstance());
        });
        shutdown.addTask(CoordinatedShutdown.PhaseServiceStop(), "stop-http", () -> http.terminate(Duration.ofSeconds(3)));
        shutdown.addTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate(), "stop-management", management::stop);
        return new PulseNode(system, http, node);
    }

    public ActorSystem<Void> system() {
        return system;
    }

    /** The port HTTP is bound to (useful when configured as 0). */
    public int httpPort() {
        return http.port();
    }

    public String httpHost() {
        return http.host();
    }

    /** This node's cluster address as {@code host:port}, as shown in {@code welcome}. */
    public String node() {
        return node;
    }

    /**
     * Runs coordinated shutdown: closes sessions (1001), leaves the cluster, stops the system. Fails
     * when a shutdown phase before the last does not end. The actor system then gets
     * {@link #TERMINATE_LIMIT}: Artery's own shutdown waits for its remoting streams without a bound
     * (Pekko issue 3247, bounded only from Pekko 2.0), and a stream to a peer that is gone or refused
     * our TLS can keep it waiting for good. {@code Main} halts such a process; here the system is
     * left as it is, with a warning, since everything of Pulse's is stopped by then.
     */
    public void stop() {
        CoordinatedShutdown shutdown = CoordinatedShutdown.get(system);
        try {
            // Every phase has its timeout (the longest ten seconds); all of them take far less.
            shutdown.runAll(CoordinatedShutdown.unknownReason()).toCompletableFuture().get(120, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("node did not stop in time", e);
        }
        try {
            system.getWhenTerminated().toCompletableFuture().get(TERMINATE_LIMIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException hung) {
            LoggerFactory.getLogger(PulseNode.class).warn(
                "Pulse node {}: every shutdown phase ended, but its actor system did not terminate within {} "
                    + "(Artery's unbounded wait for its streams, Pekko issue 3247); left as it is", node, TERMINATE_LIMIT);
        } catch (Exception e) {
            throw new IllegalStateException("node did not stop in time", e);
        }
    }

    /** How long {@link #stop} waits for the actor system once its last shutdown phase has run. */
    public static final Duration TERMINATE_LIMIT = Duration.ofSeconds(10);

    /** One thread writes the search index (all rooms' changes in each write): one journal connection at most. */
    private static java.util.concurrent.ExecutorService searchWriter(ActorSystem<?> system) {
        java.util.concurrent.ExecutorService writer = java.util.concurrent.Executors.newSingleThreadExecutor(task -> {
            Thread thread = new Thread(task, "search-index");
            thread.setDaemon(true);
            return thread;
        });
        system.getWhenTerminated().thenRun(writer::shutdown);
        return writer;
    }
}
