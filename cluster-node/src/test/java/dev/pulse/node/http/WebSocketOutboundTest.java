package dev.pulse.node.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pulse.node.delivery.EncodedFrame;
import dev.pulse.node.session.Outbound.Offered;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;

/** The session's side of a socket and the stage's side of it, without a socket: the queue's rules. */
class WebSocketOutboundTest {

    /** The stage's wake-ups: for frames, and for a close asked for. */
    private final AtomicInteger wakes = new AtomicInteger();

    private static EncodedFrame frame(String text) {
        return new EncodedFrame("message", text);
    }

    private WebSocketOutbound attached(int capacity, long bytes) {
        WebSocketOutbound outbound = new WebSocketOutbound(capacity, bytes);
        outbound.attach(wakes::incrementAndGet);
        return outbound;
    }

    @Test
    void framesOfferedBeforeTheSocketStartsWaitAndWakeNobody() {
        WebSocketOutbound outbound = new WebSocketOutbound(8, 1024);
        assertThat(outbound.offer(frame("{\"a\":1}"))).isEqualTo(Offered.ENQUEUED);
        outbound.attach(wakes::incrementAndGet);

        assertThat(wakes).hasValue(0);
        assertThat(outbound.drain(64 * 1024).decodeString(StandardCharsets.UTF_8)).endsWith("{\"a\":1}");
    }

    @Test
    void anOfferWakesTheStageOnlyWhenItSleepsOnAnEmptyQueue() {
        WebSocketOutbound outbound = attached(8, 1024);
        outbound.offer(frame("1"));
        assertThat(wakes).as("the stage is awake until it says it sleeps").hasValue(0);

        outbound.drain(1024);
        assertThat(outbound.sleep()).isTrue();
        outbound.offer(frame("2"));
        outbound.offer(frame("3"));
        assertThat(wakes).as("one wake for a burst").hasValue(1);
    }

    @Test
    void aStageThatFindsAFrameWhileFallingAsleepStaysAwake() {
        WebSocketOutbound outbound = attached(8, 1024);
        outbound.offer(frame("late"));
        assertThat(outbound.sleep()).as("a frame is queued: drain again instead").isFalse();
        assertThat(outbound.drain(1024)).isNotNull();
        assertThat(wakes).hasValue(0);
    }

    @Test
    void framesReadyTogetherLeaveAsOneWriteOfTheirWireBytesInOrder() {
        WebSocketOutbound outbound = attached(8, 1024);
        EncodedFrame a = frame("{\"n\":1}");
        EncodedFrame b = frame("{\"n\":2}");
        outbound.offer(a);
        outbound.offer(b);

        ByteString write = outbound.drain(64 * 1024);
        assertThat(write).isEqualTo(a.wire().concat(b.wire()));
        assertThat(outbound.queued()).isZero();
        assertThat(outbound.queuedBytes()).isZero();
        assertThat(outbound.drain(64 * 1024)).isNull();
    }

    @Test
    void aWriteStopsGatheringAtItsSizeButAlwaysTakesOneFrame() {
        WebSocketOutbound outbound = attached(8, 1 << 20);
        EncodedFrame big = frame("x".repeat(1000));
        outbound.offer(big);
        outbound.offer(big);

        assertThat(outbound.drain(10).length()).as("one frame, though larger than the write size").isEqualTo(big.wire().length());
        assertThat(outbound.queued()).isEqualTo(1);
    }

    @Test
    void theQueueIsBoundedByFramesAndByBytesButOneFrameAlwaysFits() {
        WebSocketOutbound byCount = attached(2, 1 << 20);
        assertThat(byCount.offer(frame("a"))).isEqualTo(Offered.ENQUEUED);
        assertThat(byCount.offer(frame("b"))).isEqualTo(Offered.ENQUEUED);
        assertThat(byCount.offer(frame("c"))).isEqualTo(Offered.FULL);

        WebSocketOutbound byBytes = attached(100, 10);
        assertThat(byBytes.offer(frame("x".repeat(50)))).as("alone it goes, however large").isEqualTo(Offered.ENQUEUED);
        assertThat(byBytes.offer(frame("y"))).isEqualTo(Offered.FULL);
        assertThat(byBytes.queuedBytes()).isEqualTo(50);
    }

    @Test
    void aCloseIsSignalledOnceAndEndsOffers() {
        WebSocketOutbound outbound = attached(8, 1024);
        outbound.close(1008, "slow");
        outbound.close(1001, "again");

        assertThat(wakes).as("signalled once").hasValue(1);
        assertThat(outbound.closeRequest()).isEqualTo(new WebSocketOutbound.CloseRequest(1008, "slow"));
        assertThat(outbound.offer(frame("after"))).isEqualTo(Offered.CLOSED);
    }

    @Test
    void aGoneSocketDropsWhatIsQueuedAndRefusesMore() {
        WebSocketOutbound outbound = attached(8, 1024);
        outbound.offer(frame("lost"));
        outbound.ended();

        assertThat(outbound.queued()).isZero();
        assertThat(outbound.queuedBytes()).isZero();
        assertThat(outbound.offer(frame("more"))).isEqualTo(Offered.CLOSED);
    }
}
