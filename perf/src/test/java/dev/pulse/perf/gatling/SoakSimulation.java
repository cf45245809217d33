package dev.pulse.perf.gatling;

import static io.gatling.javaapi.core.CoreDsl.details;
import static io.gatling.javaapi.core.CoreDsl.global;
import static io.gatling.javaapi.core.CoreDsl.pause;
import static io.gatling.javaapi.core.CoreDsl.rampUsers;
import static io.gatling.javaapi.core.CoreDsl.scenario;

import io.gatling.javaapi.core.Assertion;
import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Soak: {@code pulse.users} users arrive over {@code pulse.rampSeconds}, each logs in, opens its
 * socket and joins one of {@code pulse.rooms} rooms (round robin); then, for
 * {@code pulse.durationSeconds}, each loops: think (uniformly 0.5–1.5 × {@code pulse.thinkSeconds}),
 * send a message with a unique id and check it is acked (same ref and id) and delivered back
 * (the {@code message} frame with that id and the ack's seq) — see {@link SendProbe} — and
 * ping/pong every {@code pulse.pingSeconds}. Then it closes its socket.
 *
 * <p>Assertions: failed requests ≤ {@code pulse.maxFailedPercent} % (default 0), and the 99th
 * percentile of {@code ack}, {@code delivery} and {@code pong} below {@code pulse.p99Ms}.
 * See perf/GATLING.md.
 */
public class SoakSimulation extends Simulation {

    private final PulseTarget target = PulseTarget.fromProperties();
    private final int users = Props.positive("pulse.users", 20, 6);
    private final int rampSeconds = Props.integer("pulse.rampSeconds", 10, 2);
    private final int rooms = Props.positive("pulse.rooms", 5, 2);
    private final int durationSeconds = Props.positive("pulse.durationSeconds", 60, 6);
    private final double thinkSeconds = Props.decimal("pulse.thinkSeconds", 3.0, 1.0);
    private final int pingSeconds = Props.positive("pulse.pingSeconds", 15, 2);
    private final int timeoutSeconds = Props.positive("pulse.timeoutSeconds", 10);
    private final int textChars = Props.positive("pulse.textChars", 64);
    private final int p99Ms = Props.positive("pulse.p99Ms", 500, 5_000);
    private final double maxFailedPercent = Props.decimal("pulse.maxFailedPercent", 0.0);

    {
        target.expectSockets(users);
        Duration timeout = Duration.ofSeconds(timeoutSeconds);
        Duration ping = Duration.ofSeconds(pingSeconds);
        long thinkMinMs = Math.round(thinkSeconds * 500);
        long thinkMaxMs = Math.round(thinkSeconds * 1500);
        // 20 sends per 10 s per user is the default limit; a soak should stay well inside it
        if (thinkSeconds < 0.75) {
            target.embeddedConfig("pulse.limits.send-burst", 1_000_000);
        }

        ScenarioBuilder soak = scenario("soak")
            .feed(PulseDsl.users(target, "soak-", rooms))
            .exec(PulseDsl.login())
            .exec(PulseDsl.connect("connect", timeout))
            .exec(PulseDsl.join(timeout))
            .exec(session -> session.set("lastPingAt", System.currentTimeMillis()))
            .during(Duration.ofSeconds(durationSeconds), false).on(
                pause(Duration.ofMillis(thinkMinMs), Duration.ofMillis(thinkMaxMs))
                    .exec(SendProbe.sendAndVerify(timeout, textChars))
                    .doIf(session -> PulseDsl.pingDue(session, ping)).then(PulseDsl.ping(timeout)))
            .exec(PulseDsl.close());

        setUp(soak.injectOpen(rampUsers(users).during(Duration.ofSeconds(rampSeconds))))
            .protocols(PulseDsl.protocol(0))
            // a safety net: the run ends by itself well before this
            .maxDuration(Duration.ofSeconds(rampSeconds + durationSeconds + Math.round(thinkSeconds * 1.5) + 4L * timeoutSeconds + 60))
            .assertions(assertions());
    }

    private List<Assertion> assertions() {
        List<Assertion> assertions = new ArrayList<>(List.of(
            global().failedRequests().percent().lte(maxFailedPercent),
            details("ack").responseTime().percentile(99.0).lt(p99Ms),
            details("delivery").responseTime().percentile(99.0).lt(p99Ms)));
        if (durationSeconds > pingSeconds) {
            // there are heartbeats only when the loop outlasts one interval
            assertions.add(details("pong").responseTime().percentile(99.0).lt(p99Ms));
        }
        return assertions;
    }

    @Override
    public void before() {
        System.out.println("[pulse] SoakSimulation " + Props.describe());
        target.start();
    }

    @Override
    public void after() {
        target.stop();
    }
}
