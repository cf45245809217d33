package dev.pulse.node.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pulse.node.room.StoredEvent;
import dev.pulse.node.room.StoredMessage;
import dev.pulse.protocol.ServerFrame;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

class WireFramesTest {

    private static List<StoredEvent> messages(int count, String text) {
        return LongStream.rangeClosed(1, count).mapToObj(seq -> (StoredEvent) new StoredMessage(seq, "id-" + seq, "alice", text, 0L)).toList();
    }

    private static List<Long> seqs(List<ServerFrame.RoomEvent> frames) {
        return frames.stream().map(ServerFrame.RoomEvent::seq).toList();
    }

    @Test
    void aPageOfSmallMessagesIsKeptWhole() {
        List<StoredEvent> page = messages(200, "hello");
        assertThat(seqs(WireFrames.newestWithin("general", page, 256 * 1024))).hasSize(200);
    }

    @Test
    void aFullPageOfThousandCharacterMessagesStillFitsTheDefaultBound() {
        List<StoredEvent> page = messages(200, "x".repeat(1_000));
        assertThat(seqs(WireFrames.newestWithin("general", page, 256 * 1024))).hasSize(200);
    }

    @Test
    void aPageOfLargeMessagesKeepsTheNewestThatFit() {
        List<StoredEvent> page = messages(40, "\u20ac".repeat(4_000)); // 12,000 bytes of text each
        assertThat(seqs(WireFrames.newestWithin("general", page, 100_000))).containsExactly(33L, 34L, 35L, 36L, 37L, 38L, 39L, 40L);
    }

    @Test
    void theNewestMessageGoesEvenWhenItAloneIsOverTheBound() {
        List<StoredEvent> page = messages(3, "x".repeat(5_000));
        assertThat(seqs(WireFrames.newestWithin("general", page, 1_000))).containsExactly(3L);
        assertThat(WireFrames.newestWithin("general", List.of(), 1_000)).isEmpty();
    }
}
