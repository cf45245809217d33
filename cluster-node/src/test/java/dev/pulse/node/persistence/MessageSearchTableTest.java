package dev.pulse.node.persistence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pulse.node.TestNode;
import dev.pulse.node.persistence.MessageSearchTable.Change;
import dev.pulse.node.persistence.MessageSearchTable.Deleted;
import dev.pulse.node.persistence.MessageSearchTable.Edited;
import dev.pulse.node.persistence.MessageSearchTable.Hit;
import dev.pulse.node.persistence.MessageSearchTable.Other;
import dev.pulse.node.persistence.MessageSearchTable.Posted;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The search read side's writes on the test run's database (H2, or PostgreSQL in the postgres run):
 * several rooms in one transaction, each in seq order and idempotent, a room with missing events left
 * as it was while the others are written.
 */
class MessageSearchTableTest {

    @TempDir
    static Path data;

    private static TestNode node;
    private static MessageSearchTable table;
    private static final AtomicInteger TESTS = new AtomicInteger();
    private String prefix;

    @BeforeAll
    static void start() {
        node = TestNode.start(data);
        table = new MessageSearchTable(JournalDatabase.of(node.node().system()));
    }

    @AfterAll
    static void stop() {
        node.close();
    }

    @BeforeEach
    void name() {
        prefix = "t" + TESTS.incrementAndGet() + "x" + System.nanoTime() + "-";
    }

    private static Posted posted(long seq, String text) {
        return new Posted(seq, "alice", text, 1_000 + seq);
    }

    private List<String> found(String room, String word) throws Exception {
        return table.search(List.of(prefix + room), word, 20).toCompletableFuture().get(10, TimeUnit.SECONDS)
            .stream().map(Hit::text).toList();
    }

    @Test
    void severalRoomsAreWrittenInOneGoEachInItsOrder() throws Exception {
        Map<String, List<Change>> changes = new LinkedHashMap<>();
        changes.put(prefix + "b", List.of(posted(1, "bravo one"), posted(2, "bravo two"), new Edited(3, 1, "bravo edited"),
            new Other(4), new Deleted(5, 2)));
        changes.put(prefix + "a", List.of(posted(1, "alpha one")));
        Map<String, Long> progress = new HashMap<>();

        assertThat(table.applyAll(changes, progress)).isEmpty();

        assertThat(progress).containsEntry(prefix + "a", 1L).containsEntry(prefix + "b", 5L);
        assertThat(table.progress(prefix + "b")).isEqualTo(5);
        assertThat(found("b", "bravo")).containsExactly("bravo edited");
        assertThat(found("a", "alpha")).containsExactly("alpha one");
    }

    @Test
    void whatWasWrittenIsSkippedAndARoomWithMissingEventsIsLeftAsItWas() throws Exception {
        table.apply(prefix + "a", List.of(posted(1, "alpha one"), posted(2, "alpha two")));
        Map<String, List<Change>> changes = new LinkedHashMap<>();
        // a catch-up overlapping what was written live: 1 and 2 again, then 3
        changes.put(prefix + "a", List.of(posted(1, "alpha one"), posted(2, "alpha two"), posted(3, "alpha three")));
        // seq 2 is missing (lost with a failed write): nothing of this room may be written
        changes.put(prefix + "c", List.of(posted(1, "charlie one"), posted(3, "charlie three")));
        changes.put(prefix + "d", List.of(posted(2, "delta two")));
        Map<String, Long> progress = new HashMap<>();

        assertThat(table.applyAll(changes, progress)).containsExactlyInAnyOrder(prefix + "c", prefix + "d");

        assertThat(progress).containsEntry(prefix + "a", 3L).containsEntry(prefix + "c", 0L).containsEntry(prefix + "d", 0L);
        assertThat(found("a", "alpha")).containsExactly("alpha three", "alpha two", "alpha one");
        assertThat(found("c", "charlie")).isEmpty();
        assertThat(table.progress(prefix + "c")).isZero();
        assertThatThrownBy(() -> table.apply(prefix + "d", List.of(posted(2, "delta two"))))
            .isInstanceOf(SQLException.class).hasMessageContaining("does not follow 0");
    }
}
