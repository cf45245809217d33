package dev.pulse.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import dev.pulse.node.auth.Accounts;
import dev.pulse.node.auth.AddressThrottle;
import dev.pulse.node.auth.OidcTokens;
import dev.pulse.node.auth.PasswordHasher;
import dev.pulse.node.cluster.ClusterTls;
import dev.pulse.node.session.UserRateLimiter;
import dev.pulse.node.user.UserEntity;
import dev.pulse.protocol.Limits;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A node's configuration: the defaults in {@code application.conf}, overridden by {@code PULSE_*}
 * environment variables (12-factor). Tests pass their own environment map instead of the process's.
 */
public final class NodeSettings {

    /** Environment variable → configuration path. */
    private static final Map<String, String> ENV_PATHS = Map.ofEntries(
        Map.entry("PULSE_HTTP_HOST", "pulse.http.host"),
        Map.entry("PULSE_HTTP_PORT", "pulse.http.port"),
        Map.entry("PULSE_CLUSTER_HOST", "pulse.cluster.host"),
        Map.entry("PULSE_CLUSTER_PORT", "pulse.cluster.port"),
        Map.entry("PULSE_DATA_DIR", "pulse.data-dir"),
        Map.entry("PULSE_TOKEN_SECRET", "pulse.token.secret"),
        Map.entry("PULSE_LOGIN_PASSWORD", "pulse.login-password"),
        Map.entry("PULSE_AUTH", "pulse.auth.mode"),
        Map.entry("PULSE_OIDC_ISSUER", "pulse.auth.oidc.issuer"),
        Map.entry("PULSE_OIDC_JWKS_URL", "pulse.auth.oidc.jwks-url"),
        Map.entry("PULSE_OIDC_AUDIENCE", "pulse.auth.oidc.audience"),
        Map.entry("PULSE_OIDC_USER_CLAIM", "pulse.auth.oidc.user-claim"),
        Map.entry("PULSE_ALLOWED_ORIGINS", "pulse.http.allowed-origins"),
        Map.entry("PULSE_TRUSTED_PROXIES", "pulse.http.trusted-proxies"),
        Map.entry("PULSE_HEARTBEAT_MS", "pulse.heartbeat-ms"),
        Map.entry("PULSE_DB_POOL_SIZE", "pulse.db.pool-size"),
        Map.entry("PULSE_MANAGEMENT_PORT", "pulse.management.port"),
        Map.entry("PULSE_DISCOVERY", "pulse.cluster.discovery"),
        Map.entry("PULSE_K8S_POD_LABEL_SELECTOR", "pulse.kubernetes.pod-label-selector"),
        Map.entry("PULSE_MIN_MEMBERS", "pekko.cluster.min-nr-of-members"),
        Map.entry("PULSE_SPLIT_BRAIN_STRATEGY", "pekko.cluster.split-brain-resolver.active-strategy"),
        Map.entry("PULSE_APP_VERSION", "pekko.cluster.app-version"));

    private final Config config;
    private final List<String> seedNodes;
    private final Database database;

    /** Where history lives: embedded H2 unless a PostgreSQL URL is given. */
    public record Database(String url, String user, String password, boolean embedded) {}

    private NodeSettings(Config config, List<String> seedNodes, Database database) {
        this.config = config;
        this.seedNodes = seedNodes;
        this.database = database;
    }

    public static NodeSettings fromEnvironment() {
        return fromEnvironment(System.getenv(), ConfigFactory.empty());
    }

    /** @param overrides extra configuration (tests), applied over the environment */
    public static NodeSettings fromEnvironment(Map<String, String> env, Config overrides) {
        Map<String, Object> values = new HashMap<>();
        ENV_PATHS.forEach((variable, path) -> {
            String value = env.get(variable);
            if (value != null && !value.isBlank()) {
                values.put(path, value.trim());
            }
        });
        String namespace = env.getOrDefault("PULSE_K8S_NAMESPACE", "").trim();
        if (!namespace.isBlank()) {
            // kubernetes-api discovery and the Kubernetes lease: this namespace instead of the pod's own
            values.put("pekko.discovery.kubernetes-api.pod-namespace", namespace);
            values.put("pekko.coordination.lease.kubernetes.namespace", namespace);
        }
        String tlsDir = env.getOrDefault("PULSE_CLUSTER_TLS_DIR", "").trim();
        if (!tlsDir.isBlank()) {
            values.putAll(ClusterTls.settings(Path.of(tlsDir)));
        }
        // Unresolved until the end, so ${pulse.…} references in the .conf files see the overrides.
        Config unresolved = overrides
            .withFallback(ConfigFactory.parseMap(values, "PULSE_* environment"))
            .withFallback(ConfigFactory.defaultApplication());
        Config pulse = ConfigFactory.load(unresolved);

        List<String> seeds = new ArrayList<>();
        String seedList = env.getOrDefault("PULSE_SEED_NODES", "");
        for (String seed : seedList.split(",")) {
            if (!seed.isBlank()) {
                seeds.add(seed.trim());
            }
        }

        String dbUrl = env.get("PULSE_DB_URL");
        Database database = dbUrl == null || dbUrl.isBlank()
            ? new Database(h2Url(Path.of(pulse.getString("pulse.data-dir"))), "sa", "", true)
            : new Database(dbUrl.trim(), env.getOrDefault("PULSE_DB_USER", ""), env.getOrDefault("PULSE_DB_PASSWORD", ""), false);
        Config withEndpoints = unresolved;
        String endpoints = env.getOrDefault("PULSE_DISCOVERY_ENDPOINTS", "");
        if (!endpoints.isBlank()) {
            // "config" discovery: the management endpoints (host:port) of every node of the cluster
            List<Map<String, Object>> list = new ArrayList<>();
            for (String endpoint : endpoints.split(",")) {
                String[] hostPort = endpoint.trim().split(":");
                list.add(Map.of("host", hostPort[0], "port", Integer.parseInt(hostPort[1])));
            }
            withEndpoints = ConfigFactory.parseMap(Map.of("pekko.discovery.config.services.pulse.endpoints", list),
                "PULSE_DISCOVERY_ENDPOINTS").withFallback(unresolved);
        }
        String discovery = pulse.getString("pulse.cluster.discovery");
        if (discovery.equals("kubernetes-api")) {
            // Each pod's contact point is its IP and the port of this name in its spec (the pod list says it).
            withEndpoints = withEndpoints.withFallback(ConfigFactory.parseMap(Map.of(
                "pekko.management.cluster.bootstrap.contact-point-discovery.port-name",
                pulse.getString("pulse.kubernetes.management-port-name")), "pulse.kubernetes"));
        }
        return new NodeSettings(pekkoConfig(withEndpoints, pulse, seeds, database, discovery), List.copyOf(seeds), database);
    }

    /**
     * The embedded database: one H2 file under the data directory. WRITE_DELAY=0 hands every commit to
     * the operating system before the commit returns, so an ack survives the process being killed.
     * LOB_TIMEOUT=1000: H2 keeps every BLOB a query returned (each journal payload) referenced for
     * LOB_TIMEOUT ms after the read, 5 minutes by default; resumes that read history from the journal
     * then grew the heap by hundreds of MB (SlowConsumerBenchmark). The reader copies payloads at once.
     */
    static String h2Url(Path dataDir) {
        return "jdbc:h2:file:" + dataDir.toAbsolutePath().normalize().resolve("pulse") + ";WRITE_DELAY=0;LOB_TIMEOUT=1000";
    }

    private static Config pekkoConfig(Config unresolved, Config resolved, List<String> seeds, Database database, String discovery) {
        Map<String, Object> computed = new HashMap<>();
        // Clients ping every heartbeat and a session silent for 2.5 heartbeats is closed with 1001; the
        // server sends no pings of its own. So the transport's idle timeout must outlast 3 heartbeats,
        // or a long heartbeat would see sockets cut without a close frame first.
        String idleTimeout = "pekko.http.server.idle-timeout";
        long minIdleMillis = 3 * resolved.getLong("pulse.heartbeat-ms");
        if (!"infinite".equals(resolved.getString(idleTimeout))
            && resolved.getDuration(idleTimeout).toMillis() < minIdleMillis) {
            computed.put(idleTimeout, minIdleMillis + "ms");
        }
        if (!discovery.isBlank()) {
            computed.put("pekko.management.cluster.bootstrap.contact-point-discovery.discovery-method", discovery);
        }
        // Seeds are joined by ClusterFormation once the shard regions run, not by Pekko at start-up.
        computed.put("pekko.cluster.seed-nodes", ConfigValueFactory.fromIterable(List.of()));
        String db = "pekko-persistence-jdbc.shared-databases.slick.";
        computed.put(db + "db.url", database.url());
        computed.put(db + "db.user", database.user());
        computed.put(db + "db.password", database.password());
        if (!database.embedded()) {
            computed.put(db + "profile", "slick.jdbc.PostgresProfile$");
            computed.put(db + "db.driver", "org.postgresql.Driver");
        }
        return ConfigFactory.load(ConfigFactory.parseMap(computed, "computed by NodeSettings").withFallback(unresolved));
    }

    /** The full configuration for the ActorSystem. */
    public Config config() {
        return config;
    }

    /** Seeds as {@code host:port}; empty means "form a cluster with myself". */
    public List<String> seedNodes() {
        return seedNodes;
    }

    public Database database() {
        return database;
    }

    /** A Pekko Discovery method for cluster bootstrap; empty when the node does not bootstrap. */
    public String discovery() {
        return config.getString("pulse.cluster.discovery");
    }

    public String httpHost() {
        return config.getString("pulse.http.host");
    }

    public int httpPort() {
        return config.getInt("pulse.http.port");
    }

    public Path dataDir() {
        return Path.of(config.getString("pulse.data-dir"));
    }

    public String tokenSecret() {
        return config.getString("pulse.token.secret");
    }

    public Duration tokenTtl() {
        return config.getDuration("pulse.token.ttl");
    }

    /** Origins besides the node's own whose pages may open sockets (comma-separated in the configuration). */
    public List<String> allowedOrigins() {
        return commaList("pulse.http.allowed-origins");
    }

    /** Proxies whose X-Forwarded-For names the client (comma-separated addresses or CIDR ranges). */
    public List<String> trustedProxies() {
        return commaList("pulse.http.trusted-proxies");
    }

    /** Open sockets per client address on a node; 0: no bound (the default). */
    public int maxSocketsPerAddress() {
        return config.getInt("pulse.limits.max-sockets-per-address");
    }

    /** A setting that holds a comma-separated list (one string, as an environment variable gives it). */
    private List<String> commaList(String path) {
        return java.util.Arrays.stream(config.getString(path).split(","))
            .map(String::trim).filter(item -> !item.isEmpty()).toList();
    }

    public String loginPassword() {
        return config.getString("pulse.login-password");
    }

    /** History, presence and join requests per user: see pulse.limits.request-burst. */
    public UserRateLimiter requestLimiter() {
        return new UserRateLimiter(config.getInt("pulse.limits.request-burst"), config.getDuration("pulse.limits.request-window"));
    }

    /** Typing notices per user, over all rooms: see pulse.limits.typing-burst. */
    public UserRateLimiter typingLimiter() {
        return new UserRateLimiter(config.getInt("pulse.limits.typing-burst"), config.getDuration("pulse.limits.request-window"));
    }

    public Accounts.Mode authMode() {
        return Accounts.Mode.parse(config.getString("pulse.auth.mode"));
    }

    public OidcTokens.Settings oidc() {
        Config oidc = config.getConfig("pulse.auth.oidc");
        return new OidcTokens.Settings(oidc.getString("issuer"), oidc.getString("jwks-url"), oidc.getString("audience"),
            oidc.getString("user-claim"));
    }

    public Duration ticketTtl() {
        return config.getDuration("pulse.auth.ticket-ttl");
    }

    public UserEntity.LoginLimit loginLimitPerUser() {
        return new UserEntity.LoginLimit(config.getInt("pulse.auth.max-failures-per-user"),
            config.getDuration("pulse.auth.failure-window"));
    }

    public AddressThrottle loginThrottlePerAddress() {
        return new AddressThrottle(config.getInt("pulse.auth.max-failures-per-address"),
            config.getDuration("pulse.auth.failure-window"));
    }

    public PasswordHasher.Cost passwordCost() {
        return new PasswordHasher.Cost(Math.toIntExact(config.getBytes("pulse.auth.argon2.memory") / 1024),
            config.getInt("pulse.auth.argon2.iterations"), config.getInt("pulse.auth.argon2.parallelism"));
    }

    public Duration heartbeat() {
        return Duration.ofMillis(config.getLong("pulse.heartbeat-ms"));
    }

    public Limits limits() {
        return new Limits(
            config.getInt("pulse.limits.max-frame-bytes"),
            config.getInt("pulse.limits.max-text-chars"),
            config.getInt("pulse.limits.send-burst"),
            config.getDuration("pulse.limits.send-window"));
    }

    public int outboundBuffer() {
        return config.getInt("pulse.session.outbound-buffer");
    }

    /** The most a history page may weigh (UTF-8 text, estimated): larger pages hold fewer messages. */
    public int historyPageBytes() {
        return Math.toIntExact(config.getBytes("pulse.session.history-page-bytes"));
    }

    /** Rooms one session may be in at once: each holds a subscription and a hub attachment. */
    public int maxRoomsPerSession() {
        return config.getInt("pulse.limits.max-rooms-per-session");
    }

    /** Sockets one user may have open on one node at once. */
    public int maxSocketsPerUser() {
        return config.getInt("pulse.limits.max-sockets-per-user");
    }

    public long outboundBufferBytes() {
        return config.getBytes("pulse.session.outbound-buffer-bytes");
    }

    public Duration entityTimeout() {
        return config.getDuration("pulse.session.entity-timeout");
    }

    public Duration closeGrace() {
        return config.getDuration("pulse.session.close-grace");
    }
}
