package dev.pulse.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.pulse.node.cluster.ClusterFormation;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.pekko.actor.AddressFromURIString;
import org.junit.jupiter.api.Test;

class NodeSettingsTest {

    private static final String SLICK = "pekko-persistence-jdbc.shared-databases.slick.";

    private static NodeSettings settings(Map<String, String> env) {
        return NodeSettings.fromEnvironment(env, ConfigFactory.empty());
    }

    private static String h2Url(Path dataDir) {
        return "jdbc:h2:file:" + dataDir.toAbsolutePath().normalize().resolve("pulse") + ";WRITE_DELAY=0;LOB_TIMEOUT=1000";
    }

    @Test
    void defaults() {
        NodeSettings settings = settings(Map.of());
        Config config = settings.config();

        assertThat(settings.httpHost()).isEqualTo("127.0.0.1");
        assertThat(settings.httpPort()).isEqualTo(8080);
        assertThat(config.getString("pekko.remote.artery.canonical.hostname")).isEqualTo("127.0.0.1");
        assertThat(config.getInt("pekko.remote.artery.canonical.port")).isEqualTo(7355);
        assertThat(settings.heartbeat()).isEqualTo(Duration.ofMillis(15000));
        assertThat(settings.seedNodes()).isEmpty();
        assertThat(config.getStringList("pekko.cluster.seed-nodes")).isEmpty();

        assertThat(settings.dataDir()).isEqualTo(Path.of("./data"));
        assertThat(settings.database()).isEqualTo(new NodeSettings.Database(h2Url(Path.of("./data")), "sa", "", true));
        assertThat(config.getString(SLICK + "db.url")).isEqualTo(h2Url(Path.of("data")));
        assertThat(config.getString(SLICK + "profile")).isEqualTo("slick.jdbc.H2Profile$");
        assertThat(config.getString(SLICK + "db.driver")).isEqualTo("org.h2.Driver");

        assertThat(settings.tokenSecret()).isEmpty();
        assertThat(settings.tokenTtl()).isEqualTo(Duration.ofHours(24));
        assertThat(settings.loginPassword()).isEmpty();
        assertThat(settings.limits().sendBurst()).isEqualTo(20);
        assertThat(settings.limits().sendWindow()).isEqualTo(Duration.ofSeconds(10));
        assertThat(settings.limits().maxFrameBytes()).isEqualTo(65536);
        assertThat(settings.limits().maxTextChars()).isEqualTo(4000);
        assertThat(config.getString("pekko.actor.provider")).isEqualTo("cluster");
        assertThat(config.getString("pekko.actor.serialization-bindings.\"dev.pulse.node.CborSerializable\""))
            .isEqualTo("jackson-cbor");
        assertThat(config.getString("pekko.persistence.journal.plugin")).isEqualTo("jdbc-journal");
    }

    @Test
    void httpAndClusterAddressesComeFromTheEnvironment() {
        NodeSettings settings = settings(Map.of(
            "PULSE_HTTP_HOST", "0.0.0.0",
            "PULSE_HTTP_PORT", "9090",
            "PULSE_CLUSTER_HOST", "10.0.0.7",
            "PULSE_CLUSTER_PORT", "25520"));

        assertThat(settings.httpHost()).isEqualTo("0.0.0.0");
        assertThat(settings.httpPort()).isEqualTo(9090);
        assertThat(settings.config().getString("pekko.remote.artery.canonical.hostname")).isEqualTo("10.0.0.7");
        assertThat(settings.config().getInt("pekko.remote.artery.canonical.port")).isEqualTo(25520);
    }

    @Test
    void seedNodesBecomePekkoAddresses() {
        NodeSettings settings = settings(Map.of("PULSE_SEED_NODES", "a:1,b:2"));

        assertThat(settings.seedNodes()).containsExactly("a:1", "b:2");
        assertThat(ClusterFormation.seedAddresses(Main.SYSTEM_NAME, settings.seedNodes()))
            .containsExactly(AddressFromURIString.parse("pekko://pulse@a:1"), AddressFromURIString.parse("pekko://pulse@b:2"));
        assertThat(settings.config().getStringList("pekko.cluster.seed-nodes"))
            .as("joined once the shard regions run, not by Pekko at start-up").isEmpty();
    }

    @Test
    void seedNodesAreTrimmedAndBlanksSkipped() {
        NodeSettings settings = settings(Map.of("PULSE_SEED_NODES", " a:1 , ,b:2,"));

        assertThat(settings.seedNodes()).containsExactly("a:1", "b:2");
    }

    @Test
    void emptySeedNodesMeanNoSeeds() {
        for (String empty : new String[] {"", "  ", ","}) {
            NodeSettings settings = settings(Map.of("PULSE_SEED_NODES", empty));
            assertThat(settings.seedNodes()).as("PULSE_SEED_NODES=[%s]", empty).isEmpty();
            assertThat(settings.config().getStringList("pekko.cluster.seed-nodes")).isEmpty();
        }
    }

    @Test
    void aDatabaseUrlSelectsPostgres() {
        NodeSettings settings = settings(Map.of(
            "PULSE_DB_URL", "jdbc:postgresql://db:5432/pulse",
            "PULSE_DB_USER", "pulse",
            "PULSE_DB_PASSWORD", "s3cret"));
        Config config = settings.config();

        assertThat(settings.database())
            .isEqualTo(new NodeSettings.Database("jdbc:postgresql://db:5432/pulse", "pulse", "s3cret", false));
        assertThat(config.getString(SLICK + "profile")).isEqualTo("slick.jdbc.PostgresProfile$");
        assertThat(config.getString(SLICK + "db.driver")).isEqualTo("org.postgresql.Driver");
        assertThat(config.getString(SLICK + "db.url")).isEqualTo("jdbc:postgresql://db:5432/pulse");
        assertThat(config.getString(SLICK + "db.user")).isEqualTo("pulse");
        assertThat(config.getString(SLICK + "db.password")).isEqualTo("s3cret");
        // Journal, snapshots and the read journal all use that shared database.
        assertThat(config.getString("jdbc-journal.use-shared-db")).isEqualTo("slick");
        assertThat(config.getString("jdbc-snapshot-store.use-shared-db")).isEqualTo("slick");
        assertThat(config.getString("jdbc-read-journal.use-shared-db")).isEqualTo("slick");
    }

    @Test
    void aBlankDatabaseUrlKeepsTheEmbeddedDatabase() {
        NodeSettings settings = settings(Map.of("PULSE_DB_URL", "  ", "PULSE_DATA_DIR", "/var/lib/pulse"));

        assertThat(settings.database().embedded()).isTrue();
        assertThat(settings.dataDir()).isEqualTo(Path.of("/var/lib/pulse"));
        assertThat(settings.database().url()).isEqualTo(h2Url(Path.of("/var/lib/pulse")));
        assertThat(settings.config().getString(SLICK + "db.url")).isEqualTo(h2Url(Path.of("/var/lib/pulse")));
        assertThat(settings.config().getString(SLICK + "profile")).isEqualTo("slick.jdbc.H2Profile$");
    }

    @Test
    void heartbeatSecretAndPasswordComeFromTheEnvironment() {
        NodeSettings settings = settings(Map.of(
            "PULSE_HEARTBEAT_MS", "5000",
            "PULSE_TOKEN_SECRET", "shared-secret-of-at-least-32-bytes!",
            "PULSE_LOGIN_PASSWORD", "letmein"));

        assertThat(settings.heartbeat()).isEqualTo(Duration.ofSeconds(5));
        assertThat(settings.tokenSecret()).isEqualTo("shared-secret-of-at-least-32-bytes!");
        assertThat(settings.loginPassword()).isEqualTo("letmein");
    }

    @Test
    void theTransportIdleTimeoutOutlastsThreeHeartbeats() {
        String idleTimeout = "pekko.http.server.idle-timeout";
        assertThat(settings(Map.of()).config().getDuration(idleTimeout)).isEqualTo(Duration.ofSeconds(120));
        assertThat(settings(Map.of("PULSE_HEARTBEAT_MS", "60000")).config().getDuration(idleTimeout))
            .isEqualTo(Duration.ofSeconds(180));
        // no WebSocket pings from the server: the clients' heartbeats keep sockets open
        assertThat(settings(Map.of()).config().getString("pekko.http.server.websocket.periodic-keep-alive-max-idle"))
            .isEqualTo("infinite");
    }

    @Test
    void blankVariablesAreIgnoredAndValuesTrimmed() {
        NodeSettings settings = settings(Map.of("PULSE_HTTP_PORT", " ", "PULSE_HTTP_HOST", " 0.0.0.0 "));

        assertThat(settings.httpPort()).isEqualTo(8080);
        assertThat(settings.httpHost()).isEqualTo("0.0.0.0");
    }

    @Test
    void overridesWinOverTheEnvironment() {
        Map<String, String> env = new HashMap<>();
        env.put("PULSE_HTTP_PORT", "9090");
        env.put("PULSE_CLUSTER_PORT", "25520");
        NodeSettings settings = NodeSettings.fromEnvironment(env,
            ConfigFactory.parseString("pulse.http.port = 1234\npulse.cluster.port = 0\npulse.limits.send-burst = 5"));

        assertThat(settings.httpPort()).isEqualTo(1234);
        assertThat(settings.config().getInt("pekko.remote.artery.canonical.port")).isZero();
        assertThat(settings.limits().sendBurst()).isEqualTo(5);
    }

    private static final String K8S = "pekko.discovery.kubernetes-api.";
    private static final String PORT_NAME = "pekko.management.cluster.bootstrap.contact-point-discovery.port-name";

    @Test
    void kubernetesApiDiscoveryFindsPodsByLabelInTheirOwnNamespaceOnTheirManagementPort() {
        Config config = settings(Map.of("PULSE_DISCOVERY", "kubernetes-api")).config();

        assertThat(config.getString("pekko.management.cluster.bootstrap.contact-point-discovery.discovery-method"))
            .isEqualTo("kubernetes-api");
        assertThat(config.getString(K8S + "pod-label-selector")).isEqualTo("app=%s");
        assertThat(config.getString(K8S + "pod-namespace")).isEqualTo("<pod-namespace>"); // the service account's file
        assertThat(config.getBoolean(K8S + "use-raw-ip")).isTrue();
        assertThat(config.getString(PORT_NAME)).isEqualTo("management");
    }

    @Test
    void kubernetesLabelSelectorAndNamespaceComeFromTheEnvironment() {
        Config config = settings(Map.of("PULSE_DISCOVERY", "kubernetes-api",
            "PULSE_K8S_POD_LABEL_SELECTOR", "app.kubernetes.io/name=pulse,app.kubernetes.io/instance=eu",
            "PULSE_K8S_NAMESPACE", "chat")).config();

        assertThat(config.getString(K8S + "pod-label-selector")).isEqualTo("app.kubernetes.io/name=pulse,app.kubernetes.io/instance=eu");
        assertThat(config.getString(K8S + "pod-namespace")).isEqualTo("chat");
        assertThat(config.getString("pekko.coordination.lease.kubernetes.namespace")).isEqualTo("chat");
    }

    @Test
    void otherDiscoveryMethodsKeepLookingUpWithoutAPortName() {
        // pekko-dns with a port name would ask for SRV records instead of the A records it finds today
        assertThat(settings(Map.of("PULSE_DISCOVERY", "pekko-dns")).config().getString(PORT_NAME)).isEmpty();
        assertThat(settings(Map.of("PULSE_DISCOVERY", "config", "PULSE_DISCOVERY_ENDPOINTS", "a:1,b:2")).config()
            .getString(PORT_NAME)).isEmpty();
    }

    @Test
    void splitBrainResolverIsKeepMajorityUnlessTheLeaseIsChosen() {
        String sbr = "pekko.cluster.split-brain-resolver.";
        assertThat(settings(Map.of()).config().getString(sbr + "active-strategy")).isEqualTo("keep-majority");

        Config lease = settings(Map.of("PULSE_SPLIT_BRAIN_STRATEGY", "lease-majority")).config();
        assertThat(lease.getString(sbr + "active-strategy")).isEqualTo("lease-majority");
        assertThat(lease.getString(sbr + "lease-majority.lease-implementation")).isEqualTo("pekko.coordination.lease.kubernetes");
        assertThat(lease.getString("pekko.coordination.lease.kubernetes.lease-class"))
            .isEqualTo("org.apache.pekko.coordination.lease.kubernetes.NativeKubernetesLease");
    }

    @Test
    void appVersionComesFromTheEnvironment() {
        // k8s overlays set it from the image tag: sharding then prefers the newest version's nodes in a rolling update
        assertThat(settings(Map.of()).config().getString("pekko.cluster.app-version")).isEqualTo("0.0.0");
        assertThat(settings(Map.of("PULSE_APP_VERSION", "1.4.2")).config().getString("pekko.cluster.app-version"))
            .isEqualTo("1.4.2");
    }
}
