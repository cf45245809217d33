package dev.pulse.node.session;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PendingAcksTest {

    private static final long TIMEOUT = 5_000;
    private final PendingAcks pending = new PendingAcks(TIMEOUT);

    /** Registers a send without a post (these tests only look at the bookkeeping); its tag. */
    private long add(String ref, String room, long nowNanos) {
        long[] given = new long[1];
        pending.add(ref, room, "id-" + ref, nowNanos, tag -> {
            given[0] = tag;
            return null;
        });
        return given[0];
    }

    @Test
    void unansweredSendsOlderThanAnInstantAreListedOldestFirst() {
        long first = add("r1", "general", 0);
        add("r2", "general", 100);
        add("r3", "general", 200);
        pending.answered(first);
        assertThat(pending.unansweredSince(150)).extracting(PendingAcks.Awaiting::ref).containsExactly("r2");
        assertThat(pending.unansweredSince(1_000)).extracting(PendingAcks.Awaiting::ref).containsExactly("r2", "r3");
        assertThat(pending.unansweredSince(50)).isEmpty();
    }

    @Test
    void anAnswerFindsItsSendByTagOnce() {
        long first = add("r1", "general", 0);
        long second = add("r2", "random", 10);

        assertThat(first).isNotEqualTo(second);
        assertThat(pending.answered(second)).isEqualTo(new PendingAcks.Awaiting("r2", "random", "id-r2", 10, 10 + TIMEOUT, null));
        assertThat(pending.answered(second)).as("answered already").isNull();
        assertThat(pending.size()).isEqualTo(1);
    }

    @Test
    void sendsExpireOldestFirstWhenTheirDeadlinePasses() {
        long first = add("r1", "general", 0);
        add("r2", "general", 100);
        add("r3", "general", 200);

        assertThat(pending.expire(TIMEOUT - 1)).isEmpty();
        assertThat(pending.expire(TIMEOUT + 100)).extracting(PendingAcks.Awaiting::ref).containsExactly("r1", "r2");
        assertThat(pending.answered(first)).as("an answer after the deadline finds nothing").isNull();
        assertThat(pending.size()).isEqualTo(1);
    }

    @Test
    void theNextDeadlineIsTheOldestSends() {
        assertThat(pending.nextDeadlineIn(0)).isEqualTo(-1);
        long first = add("r1", "general", 0);
        add("r2", "general", 1_000);

        assertThat(pending.nextDeadlineIn(2_000)).isEqualTo(TIMEOUT - 2_000);
        pending.answered(first);
        assertThat(pending.nextDeadlineIn(2_000)).isEqualTo(TIMEOUT - 1_000);
        assertThat(pending.nextDeadlineIn(TIMEOUT + 5_000)).as("overdue: at once").isZero();
    }
}
