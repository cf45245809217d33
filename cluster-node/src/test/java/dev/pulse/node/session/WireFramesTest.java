package dev.pulse.node.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pulse.node.room.StoredMessage;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

class WireFramesTest {

    private static List<StoredMessage> messages(int count, String text) {
        return LongStream.rangeClosed(1, count).mapToObj(seq -> new StoredMessage(seq, "id-" + seq, "alice", text, 0L)).toList();
    }

    @Test
    void aPageOfSmallMessagesIsKeptWhole() {
        List<StoredMessage> page = messages(200, "hello");
        assertThat(WireFrames.newestWithin("general", page, 256 * 1024)).isEqualTo(page);
    }

    @Test
    void aFullPageOfThousandCharacterMessagesStillFitsTheDefaultBound() {
        List<StoredMessage> page = messages(200, "x".repeat(1_000));
        assertThat(WireFrames.newestWithin("general", page, 256 * 1024)).isEqualTo(page);
    }

    @Test
    void aPageOfLargeMessagesKeepsTheNewestThatFit() {
        List<StoredMessage> page = messages(40, "\u20ac".repeat(4_000)); // 12,000 bytes of text each
        List<StoredMessage> kept = WireFrames.newestWithin("general", page, 100_000);
        assertThat(kept).extracting(StoredMessage::seq).containsExactly(33L, 34L, 35L, 36L, 37L, 38L, 39L, 40L);
    }

    @Test
    void theNewestMessageGoesEvenWhenItAloneIsOverTheBound() {
        List<StoredMessage> page = messages(3, "x".repeat(5_000));
        assertThat(WireFrames.newestWithin("general", page, 1_000)).extracting(StoredMessage::seq).containsExactly(3L);
        assertThat(WireFrames.newestWithin("general", List.of(), 1_000)).isEmpty();
    }
}
