package dev.pulse.node.room;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

class RemoteBudgetTest {

    private static List<StoredEvent> messages(int count, int chars) {
        return LongStream.rangeClosed(1, count)
            .mapToObj(seq -> (StoredEvent) new StoredMessage(seq, "id" + seq, "alice", "€".repeat(chars), seq)).toList();
    }

    private static List<Long> seqs(List<StoredEvent> messages) {
        return messages.stream().map(StoredEvent::seq).toList();
    }

    @Test
    void pagesKeepTheirNewestAndReplaysTheirOldestWithinTheBudget() {
        List<StoredEvent> messages = messages(10, 1000); // ~3.1 KB each
        RemoteBudget budget = new RemoteBudget(3 * 3100);
        assertThat(seqs(budget.newest(messages))).containsExactly(8L, 9L, 10L);
        assertThat(seqs(budget.oldest(messages))).containsExactly(1L, 2L, 3L);
    }

    @Test
    void aSingleMessageOverTheBudgetStillGoes() {
        List<StoredEvent> messages = messages(3, 4000);
        RemoteBudget budget = new RemoteBudget(100);
        assertThat(seqs(budget.newest(messages))).containsExactly(3L);
        assertThat(seqs(budget.oldest(messages))).containsExactly(1L);
        assertThat(budget.chunks(messages)).hasSize(3);
    }

    @Test
    void chunksKeepEveryMessageInOrderAndEachWithinTheBudget() {
        List<StoredEvent> messages = messages(100, 1000);
        int max = 20_000;
        List<List<StoredEvent>> chunks = new RemoteBudget(max).chunks(messages);
        assertThat(chunks.stream().flatMap(List::stream).toList()).isEqualTo(messages);
        assertThat(chunks).allSatisfy(chunk ->
            assertThat(chunk.stream().mapToLong(RemoteBudget::weight).sum()).isLessThanOrEqualTo(max));
        assertThat(new RemoteBudget(max).chunks(List.of())).isEmpty();
        assertThat(new RemoteBudget(max).chunks(messages(3, 10))).hasSize(1);
    }
}
