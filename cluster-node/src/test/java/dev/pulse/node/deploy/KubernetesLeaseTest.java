package dev.pulse.node.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.pulse.node.Main;
import dev.pulse.node.NodeSettings;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.coordination.lease.javadsl.Lease;
import org.apache.pekko.coordination.lease.javadsl.LeaseProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The split brain resolver's lease as the k8s lease component configures it
 * (PULSE_SPLIT_BRAIN_STRATEGY=lease-majority): the lease the resolver would take, from the node's own
 * configuration, is a coordination.k8s.io Lease in the pod's namespace, held by one owner at a time,
 * against a stub Kubernetes API over HTTPS with the service account's token.
 */
class KubernetesLeaseTest {

    private static final String NAMESPACE = "pulse-test";

    @TempDir
    Path dir;

    @Test
    void oneNodeAtATimeHoldsTheSplitBrainResolversKubernetesLease() throws Exception {
        try (StubKubernetesApi api = StubKubernetesApi.start(dir, NAMESPACE)) {
            Path serviceAccount = api.serviceAccountDir();
            // On Kubernetes the host and port come from KUBERNETES_SERVICE_HOST/PORT, the rest is mounted.
            Config kubernetes = ConfigFactory.parseMap(Map.of(
                "pekko.coordination.lease.kubernetes.api-service-host", "127.0.0.1",
                "pekko.coordination.lease.kubernetes.api-service-port", api.port(),
                "pekko.coordination.lease.kubernetes.api-ca-path", serviceAccount.resolve("ca.crt").toString(),
                "pekko.coordination.lease.kubernetes.api-token-path", serviceAccount.resolve("token").toString(),
                "pekko.coordination.lease.kubernetes.namespace-path", serviceAccount.resolve("namespace").toString(),
                // 5 s by default, 2 s per request: a loaded test machine's first TLS handshake can take longer
                "pekko.coordination.lease.kubernetes.lease-operation-timeout", "30s",
                "pekko.loglevel", "WARNING"));
            NodeSettings settings = NodeSettings.fromEnvironment(Map.of(
                "PULSE_SPLIT_BRAIN_STRATEGY", "lease-majority",
                "PULSE_CLUSTER_PORT", "0",
                "PULSE_DATA_DIR", dir.toString()), kubernetes);
            Config sbr = settings.config().getConfig("pekko.cluster.split-brain-resolver");
            assertThat(sbr.getString("active-strategy")).isEqualTo("lease-majority");
            String implementation = sbr.getString("lease-majority.lease-implementation");
            String name = Main.SYSTEM_NAME + "-pekko-sbr"; // the resolver's name for it when lease-name is empty
            assertThat(sbr.getString("lease-majority.lease-name")).isEmpty();

            ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), Main.SYSTEM_NAME, settings.config());
            try {
                LeaseProvider leases = LeaseProvider.get(system.classicSystem());
                Lease first = leases.getLease(name, implementation, "10.0.0.1:7355");
                Lease second = leases.getLease(name, implementation, "10.0.0.2:7355");

                assertThat(acquire(first)).isTrue();
                assertThat(api.leaseHolder(NAMESPACE, name)).contains("10.0.0.1:7355");
                assertThat(acquire(second)).as("held by the first").isFalse();

                assertThat(first.release().toCompletableFuture().get(60, TimeUnit.SECONDS)).isTrue();
                assertThat(api.leaseHolder(NAMESPACE, name)).isEmpty();
                assertThat(acquire(second)).isTrue();
                assertThat(api.leaseHolder(NAMESPACE, name)).contains("10.0.0.2:7355");
            } finally {
                system.terminate();
                system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
            }
            assertThat(api.requests()).isNotEmpty().allSatisfy(request -> {
                assertThat(request.authorized()).isTrue();
                assertThat(request.path()).startsWith("/apis/coordination.k8s.io/v1/namespaces/" + NAMESPACE + "/leases/");
            });
        }
    }

    private static boolean acquire(Lease lease) throws Exception {
        return lease.acquire().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
}
