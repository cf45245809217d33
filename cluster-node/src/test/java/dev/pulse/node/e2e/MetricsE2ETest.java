package dev.pulse.node.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pulse.node.TestNode;
import dev.pulse.node.testkit.ChatPeer;
import dev.pulse.node.testkit.PrometheusText;
import dev.pulse.node.testkit.Wire;
import dev.pulse.protocol.ClientFrame;
import dev.pulse.protocol.ServerFrame;
import dev.pulse.protocol.client.PulseClient;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code GET /metrics} on the management port after real traffic through real sockets: what
 * Prometheus scrapes matches what the clients did and saw, count for count.
 */
class MetricsE2ETest {

    private static final int SENDS = 5;
    private static final Duration SCRAPES = Duration.ofSeconds(20);

    @TempDir
    Path data;

    @Test
    void metricsCountWhatClientsDidAndSaw() {
        try (TestNode node = TestNode.start(data)) {
            HttpResponse<String> response = new PulseClient(URI.create("http://127.0.0.1:" + node.managementPort()))
                .get("/metrics");
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(type -> assertThat(type).startsWith("text/plain"));

            List<ChatPeer> peers = new ArrayList<>();
            try {
                for (String user : List.of("alice", "bob", "carol")) {
                    ChatPeer peer = ChatPeer.connect(node.client(), user);
                    peers.add(peer);
                    peer.join("j", "general");
                }
                ChatPeer alice = peers.get(0);
                for (int i = 1; i <= SENDS; i++) {
                    alice.send(new ClientFrame.Send("s" + i, "general", "m-" + i, "hello " + i));
                    alice.expectReply("s" + i, ServerFrame.Ack.class);
                }
                alice.send(new ClientFrame.Send("no", "dm:bob:carol", "m-x", "not mine"));
                assertThat(alice.expectReply("no", ServerFrame.Error.class).code()).isEqualTo("forbidden");
                alice.sendRaw("{not json");
                alice.expectPush("error");
                int messagesSeen = 0;
                for (ChatPeer peer : peers) {
                    peer.expectMessages("general", SENDS);
                    messagesSeen += (int) peer.sync().stream().filter(ChatPeer.message("general")).count() + SENDS;
                }
                int messagesDelivered = messagesSeen;

                PrometheusText m = await(node, "sockets, sessions and region counts settle", scrape ->
                    scrape.value("pulse_sockets_open") == 3 && scrape.value("pulse_sessions") == 3
                        && scrape.value("pulse_shard_region_entities", "region", "room") >= 1
                        && scrape.value("pulse_shard_region_entities", "region", "user") >= 3);

                assertThat(m.value("pulse_session_users")).isEqualTo(3);
                assertThat(m.value("pulse_sends_acked_total")).isEqualTo(SENDS);
                assertThat(m.value("pulse_sends_rejected_total", "code", "forbidden")).isEqualTo(1);
                assertThat(m.value("pulse_sends_rejected_total", "code", "unavailable")).isZero();
                assertThat(m.value("pulse_frames_in_total", "type", "send")).isEqualTo(SENDS + 1);
                assertThat(m.value("pulse_frames_in_total", "type", "join")).isEqualTo(3);
                assertThat(m.value("pulse_frames_in_total", "type", "invalid")).isEqualTo(1);
                assertThat(m.value("pulse_frames_out_total", "type", "welcome")).isEqualTo(3);
                assertThat(m.value("pulse_frames_out_total", "type", "ack")).isEqualTo(SENDS);
                assertThat(m.value("pulse_frames_out_total", "type", "error")).isEqualTo(2);
                assertThat(m.value("pulse_frames_out_total", "type", "message")).isEqualTo(messagesDelivered);

                assertThat(m.value("pulse_ack_latency_seconds_count")).isEqualTo(SENDS);
                assertThat(m.value("pulse_ack_latency_seconds_bucket", "le", "+Inf")).isEqualTo(SENDS);
                assertThat(m.value("pulse_ack_latency_seconds_sum")).isPositive().isLessThan(SENDS * 10.0);
                assertThat(m.value("pulse_fanout_latency_seconds_count")).isEqualTo(messagesDelivered);
                assertThat(m.value("pulse_fanout_latency_seconds_bucket", "le", "10.0")).isEqualTo(messagesDelivered);
                // every message in one write of its own, or several in one: five messages either way
                assertThat(m.value("pulse_journal_batch_size_sum")).isEqualTo(SENDS);
                assertThat(m.value("pulse_journal_write_seconds_count")).isBetween(1.0, (double) SENDS);
                assertThat(m.value("pulse_journal_failures_total", "operation", "write")).isZero();

                assertThat(m.value("pulse_outbound_queued_frames")).isGreaterThanOrEqualTo(0);
                assertThat(m.value("pulse_slow_consumer_closes_total")).isZero();
                assertThat(m.value("pulse_cluster_members", "status", "up")).isEqualTo(1);
                assertThat(m.value("pulse_cluster_members", "status", "leaving")).isZero();
                assertThat(m.value("pulse_cluster_unreachable_members")).isZero();
                assertThat(m.has("jvm_memory_used_bytes", "area", "heap")).isTrue();
                assertThat(m.value("jvm_threads_live_threads")).isPositive();

                peers.remove(2).close();
                PrometheusText after = await(node, "a closed socket leaves the gauges", scrape ->
                    scrape.value("pulse_sockets_open") == 2 && scrape.value("pulse_sessions") == 2);
                assertThat(after.value("pulse_session_users")).isEqualTo(2);
            } finally {
                peers.forEach(ChatPeer::close);
            }
        }
    }

    private static PrometheusText await(TestNode node, String what, Predicate<PrometheusText> condition) {
        AtomicReference<PrometheusText> last = new AtomicReference<>();
        try {
            Wire.awaitUntil(what, SCRAPES, () -> {
                last.set(node.metrics());
                return condition.test(last.get());
            });
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; last scrape:\n" + (last.get() == null ? "none" : last.get().text()), e);
        }
        return last.get();
    }
}
