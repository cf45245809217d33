package dev.pulse.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pulse.node.deploy.StubKubernetesApi;
import dev.pulse.node.testkit.Wire;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cluster bootstrap as on Kubernetes (k8s/base): three node processes configured like the pods of the
 * Deployment (PULSE_DISCOVERY=kubernetes-api, the API server from KUBERNETES_SERVICE_HOST/PORT, the
 * service account's CA, token and namespace files) find each other through a stub Kubernetes API that
 * lists them as Running pods on 127.0.0.1, each with its own management port, and form one cluster.
 * Processes, not ActorSystems in this JVM: the API server's address is read from environment variables.
 */
class KubernetesBootstrapTest {

    private static final String NAMESPACE = "pulse-test";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private final List<Process> processes = new ArrayList<>();

    @Test
    void threeNodesFormOneClusterFromThePodsTheKubernetesApiLists() throws Exception {
        try (StubKubernetesApi api = StubKubernetesApi.start(dir, NAMESPACE)) {
            int[] management = {TestNode.freePort(), TestNode.freePort(), TestNode.freePort()};
            int[] remoting = {TestNode.freePort(), TestNode.freePort(), TestNode.freePort()};
            for (int i = 0; i < 3; i++) {
                api.addPod("pulse-" + i, NAMESPACE, Map.of("app", "pulse"), management[i]);
            }
            // Listed only for a wrong selector or namespace; nothing answers on their management ports,
            // so bootstrap, which must reach every contact point, would never finish with them.
            api.addPod("other-app", NAMESPACE, Map.of("app", "other"), TestNode.freePort());
            api.addPod("pulse-elsewhere", "default", Map.of("app", "pulse"), TestNode.freePort());

            Map<String, String> database = TestDatabase.postgresEnvironment(dir);
            long started = System.nanoTime();
            for (int i = 0; i < 3; i++) {
                processes.add(startNode(i, api, database, remoting[i], management[i]));
            }

            Set<String> expected = new TreeSet<>();
            for (int port : remoting) {
                expected.add("pekko://" + Main.SYSTEM_NAME + "@127.0.0.1:" + port);
            }
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
            List<String> leaders = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                int node = i;
                try {
                    // seconds on an idle machine; the ceiling is for a loaded one
                    Wire.awaitUntil("node " + i + " sees three Up members " + expected, Duration.ofMinutes(3), () -> {
                        assertAlive(node);
                        JsonNode members = members(http, management[node]);
                        return members != null && upMembers(members).equals(expected);
                    });
                } catch (AssertionError notFormed) {
                    throw new AssertionError(notFormed.getMessage() + "; the stub answered " + api.requests().size()
                        + " requests; node " + node + "'s log:\n" + log(node), notFormed);
                }
                leaders.add(members(http, management[i]).path("leader").asText());
            }
            assertThat(leaders).as("one cluster, one leader").containsOnly(leaders.get(0));
            System.out.printf("three node processes formed one cluster %d ms after they were started%n",
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));

            for (int i = 0; i < 3; i++) {
                // as the Deployment logs (PULSE_LOG_FORMAT=json): one JSON object a line, naming the node
                List<String> lines = Files.readAllLines(dir.resolve("node-" + i + ".log"), StandardCharsets.UTF_8);
                assertThat(lines).isNotEmpty();
                for (String line : lines) {
                    JsonNode event = JSON.readTree(line);
                    assertThat(event.path("node").asText()).as(line).isEqualTo("127.0.0.1:" + remoting[i]);
                }
            }

            assertThat(api.requests()).as("pod lists asked for").isNotEmpty().allSatisfy(request -> {
                assertThat(request.authorized()).as("with the service account's token").isTrue();
                assertThat(request.path()).isEqualTo("/api/v1/namespaces/" + NAMESPACE + "/pods");
                assertThat(request.query()).containsEntry("labelSelector", "app=pulse");
            });
        }
    }

    /** A node as the Deployment runs it: its settings from the environment, Kubernetes' files at test paths. */
    private Process startNode(int index, StubKubernetesApi api, Map<String, String> database, int remoting, int management)
        throws IOException {
        Path serviceAccount = api.serviceAccountDir();
        List<String> command = new ArrayList<>(List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx256m",
            "-Djava.util.concurrent.ForkJoinPool.common.parallelism=2",
            // where Kubernetes mounts them in a pod: /var/run/secrets/kubernetes.io/serviceaccount/...
            "-Dpekko.discovery.kubernetes-api.api-ca-path=" + serviceAccount.resolve("ca.crt"),
            "-Dpekko.discovery.kubernetes-api.api-token-path=" + serviceAccount.resolve("token"),
            "-Dpekko.discovery.kubernetes-api.pod-namespace-path=" + serviceAccount.resolve("namespace"),
            // quicker than a deployment's defaults (5 s stable margin, 1 s lookups)
            "-Dpekko.management.cluster.bootstrap.contact-point-discovery.stable-margin=1s",
            "-Dpekko.management.cluster.bootstrap.contact-point-discovery.interval=500ms",
            // the node's own logging configuration, not the test classpath's logback-test.xml
            "-Dlogback.configurationFile=logback.xml",
            "-cp", System.getProperty("java.class.path"),
            Main.class.getName()));
        ProcessBuilder builder = new ProcessBuilder(command)
            .redirectOutput(dir.resolve("node-" + index + ".log").toFile())
            .redirectError(dir.resolve("node-" + index + ".err").toFile());
        Map<String, String> env = builder.environment();
        env.keySet().removeIf(key -> key.startsWith("PULSE_") || key.startsWith("KUBERNETES_"));
        env.putAll(database);
        env.putAll(new HashMap<>(Map.of(
            "PULSE_DISCOVERY", "kubernetes-api",
            "PULSE_LOG_FORMAT", "json",
            "KUBERNETES_SERVICE_HOST", "127.0.0.1",
            "KUBERNETES_SERVICE_PORT", Integer.toString(api.port()),
            "PULSE_HTTP_HOST", "127.0.0.1",
            "PULSE_HTTP_PORT", Integer.toString(TestNode.freePort()),
            "PULSE_CLUSTER_HOST", "127.0.0.1",
            "PULSE_CLUSTER_PORT", Integer.toString(remoting),
            "PULSE_MANAGEMENT_PORT", Integer.toString(management),
            "PULSE_TOKEN_SECRET", "test-secret-of-at-least-32-bytes!!")));
        return builder.start();
    }

    /** Pekko Management's {@code GET /cluster/members}, or null while the node does not answer. */
    private static JsonNode members(HttpClient http, int managementPort) {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + managementPort + "/cluster/members"))
            .timeout(Duration.ofSeconds(2)).GET().build();
        try {
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            return response.statusCode() == 200 ? JSON.readTree(response.body()) : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static Set<String> upMembers(JsonNode members) {
        Set<String> up = new TreeSet<>();
        for (JsonNode member : members.path("members")) {
            if (member.path("status").asText().equals("Up")) {
                up.add(member.path("node").asText());
            }
        }
        return members.path("unreachable").isEmpty() ? up : Set.of();
    }

    private void assertAlive(int index) {
        Process process = processes.get(index);
        if (!process.isAlive()) {
            throw new AssertionError("node " + index + " exited with " + process.exitValue() + "; log:\n" + log(index));
        }
    }

    private String log(int index) {
        try {
            List<String> lines = new ArrayList<>(Files.readAllLines(dir.resolve("node-" + index + ".log"), StandardCharsets.UTF_8));
            lines.addAll(Files.readAllLines(dir.resolve("node-" + index + ".err"), StandardCharsets.UTF_8));
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    /** SIGTERM (a graceful leave, as Kubernetes stops a pod), then SIGKILL for what is left. */
    @AfterEach
    void stopNodes() throws InterruptedException {
        long started = System.nanoTime();
        processes.forEach(Process::destroy);
        for (Process process : processes) {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
        System.out.printf("nodes stopped in %d ms%n", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
    }
}
