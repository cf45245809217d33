package dev.pulse.node.session;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class SessionClockTest {

    private static final ActorTestKit TESTKIT = ActorTestKit.create();
    private static final long FAR_FUTURE_MILLIS = Long.MAX_VALUE;

    @AfterAll
    static void stop() {
        TESTKIT.shutdownTestKit();
    }

    @Test
    void ticksAQuarterHeartbeatAtMostASecondApart() {
        assertThat(new SessionClock(Duration.ofMillis(800)).interval()).isEqualTo(Duration.ofMillis(200));
        assertThat(new SessionClock(Duration.ofSeconds(15)).interval()).isEqualTo(Duration.ofSeconds(1));
        assertThat(new SessionClock(Duration.ofSeconds(15)).silenceBoundNanos()).isEqualTo(Duration.ofMillis(37_500).toNanos());
    }

    @Test
    void everySessionHeartbeatsOncePerPeriodAndTheHeartbeatsAreSpreadOverItsTicks() {
        SessionClock clock = new SessionClock(Duration.ofSeconds(15)); // 15 ticks of 1 s a heartbeat
        List<TestProbe<Session.Command>> probes = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            TestProbe<Session.Command> probe = TESTKIT.createTestProbe();
            probes.add(probe);
            clock.add("s" + i, probe.getRef(), new SessionClock.Vitals(FAR_FUTURE_MILLIS));
        }
        long now = System.nanoTime();
        for (int tick = 0; tick < 15; tick++) {
            clock.tick(now, System.currentTimeMillis());
        }
        for (TestProbe<Session.Command> probe : probes) {
            probe.expectMessage(Session.Tick.HEARTBEAT); // exactly one, and no silence check: all were heard just now
            probe.expectNoMessage(Duration.ofMillis(1));
        }
        // 30 sessions over 15 slots: 2 per tick, never all at once
        clock.tick(now, System.currentTimeMillis());
        assertThat(probes.get(0).receiveMessage(Duration.ofSeconds(1))).isEqualTo(Session.Tick.HEARTBEAT);
        assertThat(probes.get(15).receiveMessage(Duration.ofSeconds(1))).isEqualTo(Session.Tick.HEARTBEAT);
        for (int i = 1; i < 30; i++) {
            if (i != 15) {
                probes.get(i).expectNoMessage(Duration.ofMillis(1));
            }
        }
    }

    @Test
    void onlyASessionSilentForTooLongOrWithAnExpiredTokenIsToldToCheck() {
        SessionClock clock = new SessionClock(Duration.ofSeconds(4)); // 4 ticks of 1 s; silent after 10 s
        long start = System.nanoTime();
        long expiresAt = System.currentTimeMillis() + 60_000;
        TestProbe<Session.Command> talking = TESTKIT.createTestProbe();
        TestProbe<Session.Command> silent = TESTKIT.createTestProbe();
        TestProbe<Session.Command> expiring = TESTKIT.createTestProbe();
        clock.add("talking", talking.getRef(), new SessionClock.Vitals(FAR_FUTURE_MILLIS, start + Duration.ofSeconds(5).toNanos()));
        clock.add("silent", silent.getRef(), new SessionClock.Vitals(FAR_FUTURE_MILLIS, start));
        clock.add("expiring", expiring.getRef(), new SessionClock.Vitals(expiresAt, start + Duration.ofSeconds(5).toNanos()));

        clock.tick(start + Duration.ofSeconds(10).toNanos(), expiresAt - 1); // slot 0: talking's heartbeat
        talking.expectMessage(Session.Tick.HEARTBEAT);
        silent.expectNoMessage(Duration.ofMillis(1)); // silent for exactly the bound: not yet
        expiring.expectNoMessage(Duration.ofMillis(1));

        clock.tick(start + Duration.ofSeconds(11).toNanos(), expiresAt); // slot 1: silent's heartbeat
        silent.expectMessage(Session.Tick.CHECK_SILENCE);
        silent.expectMessage(Session.Tick.HEARTBEAT);
        expiring.expectMessage(Session.Tick.CHECK_SILENCE);
        talking.expectNoMessage(Duration.ofMillis(1));
    }

    @Test
    void aRemovedSessionHearsNothingMore() {
        SessionClock clock = new SessionClock(Duration.ofMillis(4));
        TestProbe<Session.Command> gone = TESTKIT.createTestProbe();
        clock.add("gone", gone.getRef(), new SessionClock.Vitals(0)); // token long expired
        clock.remove("gone");
        clock.tick(System.nanoTime(), System.currentTimeMillis());
        assertThat(clock.size()).isZero();
        gone.expectNoMessage(Duration.ofMillis(50));
    }
}
