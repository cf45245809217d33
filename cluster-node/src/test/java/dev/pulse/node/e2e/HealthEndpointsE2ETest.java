package dev.pulse.node.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pulse.node.TestNode;
import dev.pulse.node.testkit.Wire;
import dev.pulse.protocol.client.PulseClient;
import java.net.URI;
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

    @BeforeAll
    static void start() {
        node = TestNode.start(data);
    }

    @AfterAll
    static void stop() {
        node.close();
    }

    private static HttpResponse<String> get(String path) {
        return new PulseClient(URI.create("http://127.0.0.1:" + node.managementPort())).get(path);
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
