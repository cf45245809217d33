package dev.pulse.node.deploy;

import static net.logstash.logback.argument.StructuredArguments.keyValue;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.core.joran.spi.JoranException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pulse.node.testkit.ChatPeer;
import dev.pulse.node.testkit.NodeProcess;
import dev.pulse.node.testkit.Wire;
import dev.pulse.protocol.client.PulseClient;
import dev.pulse.protocol.client.PulseConnection;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.MDC;

/**
 * The node's logback.xml as a deployment runs it: PULSE_LOG_FORMAT=json gives one JSON object a line
 * with the node's address and the MDC (a session's actor path among it); the default stays text; and
 * a token never reaches the output in either format. And a real node, logging JSON, says why it closed
 * a session with the session's id and user beside its node, and never the token the client came with.
 */
class LogFormatTest {

    private static final String TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl";

    /** What was printed, and what logback reported about its configuration (warnings and errors). */
    private record Output(List<String> lines, List<String> problems) {}

    private static List<String> logWith(Map<String, String> env) throws JoranException {
        return output(env).lines();
    }

    /** Logs a few lines through a logger context configured from the node's logback.xml with {@code env}. */
    private static Output output(Map<String, String> env) throws JoranException {
        LoggerContext context = new LoggerContext();
        context.setMDCAdapter(MDC.getMDCAdapter()); // the one slf4j's MDC writes to
        env.forEach(context::putProperty); // looked up before the process's environment
        JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(context);
        PrintStream stdout = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            configurator.doConfigure(LogFormatTest.class.getClassLoader().getResource("logback.xml"));
            Logger log = context.getLogger("dev.pulse.node.http.WebSocketRoute");
            MDC.put("pekkoSource", "pekko://pulse/system/sessions/session-42");
            try {
                log.info("session opened for alice");
            } finally {
                MDC.remove("pekkoSource");
            }
            log.warn("rejected GET /ws?token={}&since=3", TOKEN);
            log.info("login", keyValue("token", TOKEN));
            log.error("failed", new IllegalStateException("boom"));
            log.warn("rejected GET /ws?ticket={}", TOKEN);
        } finally {
            context.stop();
            System.setOut(stdout);
        }
        List<String> problems = context.getStatusManager().getCopyOfStatusList().stream()
            .filter(status -> status.getLevel() >= ch.qos.logback.core.status.Status.WARN).map(Object::toString).toList();
        return new Output(captured.toString(StandardCharsets.UTF_8).lines().toList(), problems);
    }

    @Test
    void jsonLinesCarryTheNodeAndTheSessionAndNoToken() throws Exception {
        List<String> lines = logWith(Map.of("PULSE_LOG_FORMAT", "json", "PULSE_CLUSTER_HOST", "10.1.2.3", "PULSE_CLUSTER_PORT", "7355"));

        assertThat(lines).hasSize(5);
        List<JsonNode> events = new ArrayList<>();
        for (String line : lines) {
            events.add(new ObjectMapper().readTree(line)); // fails on anything but one JSON object a line
        }
        assertThat(events).allSatisfy(event -> {
            assertThat(event.path("node").asText()).isEqualTo("10.1.2.3:7355");
            assertThat(event.path("service").asText()).isEqualTo("pulse");
            assertThat(event.has("@timestamp") && event.has("level") && event.has("logger_name")).isTrue();
        });
        assertThat(events.get(0).path("message").asText()).isEqualTo("session opened for alice");
        assertThat(events.get(0).path("pekkoSource").asText()).endsWith("/sessions/session-42");
        assertThat(events.get(1).path("level").asText()).isEqualTo("WARN");
        assertThat(events.get(1).path("message").asText()).isEqualTo("rejected GET /ws?token=****&since=3");
        assertThat(events.get(2).path("token").asText()).isEqualTo("****");
        assertThat(events.get(3).path("stack_trace").asText()).contains("IllegalStateException: boom");
        assertThat(events.get(4).path("message").asText()).isEqualTo("rejected GET /ws?ticket=****");
        assertThat(String.join("\n", lines)).doesNotContain(TOKEN).doesNotContain("c2lnbmF0dXJl");
    }

    @Test
    void textIsTheDefaultAndMasksTokensToo() throws Exception {
        List<String> lines = logWith(Map.of());

        assertThat(lines).isNotEmpty().noneMatch(line -> line.startsWith("{"));
        assertThat(lines).anyMatch(line -> line.contains("WARN") && line.endsWith("rejected GET /ws?token=****&since=3"));
        assertThat(lines).anyMatch(line -> line.contains("WARN") && line.endsWith("rejected GET /ws?ticket=****"));
        assertThat(String.join("\n", lines)).doesNotContain(TOKEN);
    }

    @Test
    void theShippedFormatsConfigureWithoutAWarning() throws Exception {
        // a warning would make logback print its whole status, non-JSON lines, when the node starts
        assertThat(output(Map.of("PULSE_LOG_FORMAT", "json")).problems()).isEmpty();
        assertThat(output(Map.of()).problems()).isEmpty();
    }

    @Test
    void anUnknownFormatIsReportedNotSilentlyDropped() throws Exception {
        // logback prints such problems on stdout when the node starts
        assertThat(output(Map.of("PULSE_LOG_FORMAT", "yaml")).problems()).anyMatch(problem -> problem.contains("logback-yaml.xml"));
    }

    @Test
    void aNodeLogsWhyItClosedASessionWithTheSessionUserAndNodeButNoToken(@TempDir Path dir) throws IOException {
        // the node's own logback.xml, not the test classpath's logback-test.xml
        try (NodeProcess node = NodeProcess.start("json-node", Map.of("PULSE_LOG_FORMAT", "json",
                "PULSE_DATA_DIR", dir.resolve("data").toString(), "PULSE_TOKEN_SECRET", "test-secret-of-at-least-32-bytes!!",
                // a client that says nothing is closed as idle after 2.5 heartbeats: 1 s
                "PULSE_HEARTBEAT_MS", "400"),
            List.of("logback.configurationFile=logback.xml"), dir)) {
            node.awaitHealthy(Duration.ofSeconds(60));
            PulseClient client = new PulseClient(node.base());
            String token = client.login("alice").token();
            String session;
            try (ChatPeer alice = ChatPeer.open(client, token)) {
                session = alice.expectNext().path("session").asText();
                assertThat(alice.expectClosed(Duration.ofSeconds(10)).code()).isEqualTo(1001);
            }

            List<JsonNode> closed = new ArrayList<>();
            Wire.awaitUntil("the node logs the idle close", Duration.ofSeconds(10), () -> {
                closed.clear();
                closed.addAll(jsonLines(node.log()).stream()
                    .filter(line -> line.path("message").asText().startsWith("session closed")).toList());
                return !closed.isEmpty();
            });
            JsonNode line = closed.get(0);
            assertThat(line.path("message").asText()).startsWith("session closed with 1001: idle");
            assertThat(line.path("level").asText()).isEqualTo("INFO");
            assertThat(line.path("session").asText()).isEqualTo(session);
            assertThat(line.path("user").asText()).isEqualTo("alice");
            assertThat(line.path("node").asText()).isEqualTo(node.clusterAddress());
            assertThat(line.path("pekkoSource").asText()).contains("/sessions/session-");
            assertThat(Files.readString(node.log())).doesNotContain(token).doesNotContain(token.substring(token.lastIndexOf('.') + 1));
        }
    }

    /** The JSON lines of a node's log (the test harness adds a plain line of its own at the top). */
    private static List<JsonNode> jsonLines(Path log) {
        try {
            List<JsonNode> lines = new ArrayList<>();
            for (String line : Files.readAllLines(log)) {
                if (line.startsWith("{")) {
                    lines.add(new ObjectMapper().readTree(line));
                }
            }
            return lines;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
