package dev.pulse.node.session;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PendingAcksTest {

    private static final long TIMEOUT = 5_000;
    private final PendingAcks pending = new PendingAcks(TIMEOUT);

    @Test
    void anAnswerFindsItsSendByTagOnce() {
        long first = pending.add("r1", "general", 0);
        long second = pending.add("r2", "random", 10);

        assertThat(first).isNotEqualTo(second);
        assertThat(pending.answered(second)).isEqualTo(new PendingAcks.Awaiting("r2", "random", 10, 10 + TIMEOUT));
        assertThat(pending.answered(second)).as("answered already").isNull();
        assertThat(pending.size()).isEqualTo(1);
    }

    @Test
    void sendsExpireOldestFirstWhenTheirDeadlinePasses() {
        long first = pending.add("r1", "general", 0);
        pending.add("r2", "general", 100);
        pending.add("r3", "general", 200);

        assertThat(pending.expire(TIMEOUT - 1)).isEmpty();
        assertThat(pending.expire(TIMEOUT + 100)).extracting(PendingAcks.Awaiting::ref).containsExactly("r1", "r2");
        assertThat(pending.answered(first)).as("an answer after the deadline finds nothing").isNull();
        assertThat(pending.size()).isEqualTo(1);
    }

    @Test
    void theNextDeadlineIsTheOldestSends() {
        assertThat(pending.nextDeadlineIn(0)).isEqualTo(-1);
        long first = pending.add("r1", "general", 0);
        pending.add("r2", "general", 1_000);

        assertThat(pending.nextDeadlineIn(2_000)).isEqualTo(TIMEOUT - 2_000);
        pending.answered(first);
        assertThat(pending.nextDeadlineIn(2_000)).isEqualTo(TIMEOUT - 1_000);
        assertThat(pending.nextDeadlineIn(TIMEOUT + 5_000)).as("overdue: at once").isZero();
    }
}
