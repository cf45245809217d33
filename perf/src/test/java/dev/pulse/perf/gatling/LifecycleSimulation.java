package dev.pulse.perf.gatling;

import static io.gatling.javaapi.core.CoreDsl.constantUsersPerSec;
import static io.gatling.javaapi.core.CoreDsl.forAll;
import static io.gatling.javaapi.core.CoreDsl.global;
import static io.gatling.javaapi.core.CoreDsl.jsonPath;
import static io.gatling.javaapi.core.CoreDsl.pause;
import static io.gatling.javaapi.core.CoreDsl.rampUsersPerSec;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.ws;

import io.gatling.javaapi.core.OpenInjectionStep;
import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The session lifecycle, after the ancestor's Artillery scenario: users arrive at a rate that
 * ramps from 1/s to {@code pulse.arrivalRatePerSec} over {@code pulse.rampSeconds}, then stays
 * there for {@code pulse.sustainSeconds}; each logs in, connects, joins one of
 * {@code pulse.rooms} rooms, posts one message (acked), sends a heartbeat ({@code ping}, checked
 * {@code pong}) every {@code pulse.pingSeconds} for {@code pulse.holdSeconds}, then leaves the
 * room and closes its socket. Concurrent users peak near
 * {@code arrivalRatePerSec × (holdSeconds + a few s)}: 84/s with a 120 s hold is ~10,000.
 *
 * <p>Assertions: failed requests ≤ {@code pulse.maxFailedPercent} % (default 0) and the 99th
 * percentile of every request ({@code forAll}: login, connect, welcome, joined, ack, pong,
 * left, close) below {@code pulse.p99Ms} (default 50 ms). See perf/GATLING.md.
 */
public class LifecycleSimulation extends Simulation {

    private final PulseTarget target = PulseTarget.fromProperties();
    private final double arrivalRatePerSec = Props.decimal("pulse.arrivalRatePerSec", 5, 4);
    private final int rampSeconds = Props.integer("pulse.rampSeconds", 10, 3);
    private final int sustainSeconds = Props.integer("pulse.sustainSeconds", 0, 2);
    private final int holdSeconds = Props.integer("pulse.holdSeconds", 120, 4);
    private final int pingSeconds = Props.positive("pulse.pingSeconds", 10, 2);
    private final int rooms = Props.positive("pulse.rooms", 100, 3);
    private final int timeoutSeconds = Props.positive("pulse.timeoutSeconds", 10);
    private final int textChars = Props.positive("pulse.textChars", 64);
    private final int p99Ms = Props.positive("pulse.p99Ms", 50, 5_000);
    private final double maxFailedPercent = Props.decimal("pulse.maxFailedPercent", 0.0);

    {
        Duration timeout = Duration.ofSeconds(timeoutSeconds);
        int heartbeats = Math.max(1, holdSeconds / pingSeconds);
        target.expectSockets(Math.round(arrivalRatePerSec * (heartbeats * pingSeconds + 5)));

        ScenarioBuilder lifecycle = scenario("lifecycle")
            .feed(PulseDsl.users(target, "life-", rooms))
            .exec(PulseDsl.login())
            .exec(PulseDsl.connect("connect", timeout))
            .exec(PulseDsl.join(timeout))
            .exec(session -> PulseDsl.nextMessageId(session, "postId"))
            .exec(ws("post").sendText(session -> PulseDsl.sendFrame(session.getString("postId"), session.getString("room"),
                    session.getString("postId"), PulseDsl.timedText(System.currentTimeMillis(), textChars)))
                .await(timeout).on(ws.checkTextMessage("ack")
                    .matching(jsonPath("$.ref").isEL("#{postId}"))
                    .check(jsonPath("$.type").is("ack"), jsonPath("$.id").isEL("#{postId}"))))
            .repeat(heartbeats).on(
                pause(Duration.ofSeconds(pingSeconds))
                    .exec(PulseDsl.ping(timeout)))
            .exec(PulseDsl.leave(timeout))
            .exec(PulseDsl.close());

        List<OpenInjectionStep> arrivals = new ArrayList<>();
        arrivals.add(rampUsersPerSec(Math.min(1.0, arrivalRatePerSec)).to(arrivalRatePerSec).during(Duration.ofSeconds(Math.max(1, rampSeconds))));
        if (sustainSeconds > 0) {
            arrivals.add(constantUsersPerSec(arrivalRatePerSec).during(Duration.ofSeconds(sustainSeconds)));
        }
        setUp(lifecycle.injectOpen(arrivals))
            .protocols(PulseDsl.protocol(0))
            // a safety net: the run ends by itself well before this
            .maxDuration(Duration.ofSeconds(Math.max(1, rampSeconds) + sustainSeconds + (long) heartbeats * pingSeconds + 6L * timeoutSeconds + 60))
            .assertions(
                global().failedRequests().percent().lte(maxFailedPercent),
                forAll().responseTime().percentile(99.0).lt(p99Ms));
    }

    @Override
    public void before() {
        System.out.println("[pulse] LifecycleSimulation " + Props.describe());
        target.start();
    }

    @Override
    public void after() {
        target.stop();
    }
}
