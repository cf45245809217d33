package dev.pulse.node.user;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class UntilConfirmedTest {

    private static final long SECOND = Duration.ofSeconds(1).toNanos();

    private static Map<String, String> pending(UntilConfirmed<String, String> kept) {
        Map<String, String> all = new LinkedHashMap<>();
        kept.forEach(all::put);
        return all;
    }

    @Test
    void keepsWhatIsUnconfirmedAndForgetsWhatWasConfirmed() {
        UntilConfirmed<String, String> kept = new UntilConfirmed<>(Duration.ofMinutes(2));
        kept.put("room-a", "offline@1", 0);
        kept.put("room-b", "offline@1", 0);

        assertThat(kept.confirm("room-a", "offline@1"::equals)).isTrue();
        assertThat(pending(kept)).containsExactly(Map.entry("room-b", "offline@1"));
        assertThat(kept.confirm("room-c", "offline@1"::equals)).as("nothing kept under that key").isFalse();
    }

    @Test
    void aConfirmationOfAnOlderValueDoesNotForgetTheNewerOne() {
        UntilConfirmed<String, String> kept = new UntilConfirmed<>(Duration.ofMinutes(2));
        kept.put("room-a", "offline@1", 0);
        kept.put("room-a", "online", SECOND);

        assertThat(kept.confirm("room-a", "offline@1"::equals)).isFalse();
        assertThat(pending(kept)).containsExactly(Map.entry("room-a", "online"));
        assertThat(kept.confirm("room-a", "online"::equals)).isTrue();
        assertThat(kept.isEmpty()).isTrue();
    }

    @Test
    void givesUpOnWhatWasFirstSentLongerAgoThanTheLimit() {
        UntilConfirmed<String, String> kept = new UntilConfirmed<>(Duration.ofSeconds(10));
        kept.put("old", "x", 0);
        kept.put("new", "y", 5 * SECOND);

        assertThat(kept.expire(10 * SECOND)).as("nothing is older than 10 s yet").isZero();
        assertThat(kept.expire(11 * SECOND)).isEqualTo(1);
        assertThat(pending(kept)).containsExactly(Map.entry("new", "y"));
        kept.remove("new");
        assertThat(kept.size()).isZero();
    }
}
