package dev.pulse.node.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pulse.node.TestNode;
import dev.pulse.node.testkit.Wire;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pekko Management on the management port: what probes and load balancers ask. */
class HealthEndpointsE2ETest {

    @TempDir
    static Path data;
    private static TestNode node;
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() {
        node = TestNode.start(data);
    }

    @AfterAll
    static void stop() {
        node.close();
    }

    private static HttpResponse<String> get(String path) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.managementPort() + path))
                .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new AssertionError("GET " + path + " on the management port failed", e);
        }
    }

    @Test
    void aliveAnswers200OnTheManagementPort() {
        assertThat(get("/alive").statusCode()).isEqualTo(200);
    }

    @Test
    void readyAnswers200OnceTheNodeIsAnUpClusterMember() {
        Wire.awaitUntil("/ready answers 200", Duration.ofSeconds(10), () -> get("/ready").statusCode() == 200);
    }

    @Test
    void theManagementPortServesNoChatAndTheChatPortNoManagement() {
        assertThat(get("/api/login").statusCode()).isEqualTo(404);
        assertThat(node.client().get("/ready").statusCode()).isNotEqualTo(200);
    }
}
