package dev.pulse.perf.gatling;

import io.gatling.commons.stats.KO$;
import io.gatling.commons.stats.OK$;
import io.gatling.core.action.Action;
import io.gatling.core.action.ActorDelegatingAction;
import io.gatling.core.stats.StatsEngine;
import io.gatling.javaapi.core.ActionBuilder;
import io.gatling.javaapi.core.Session;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import scala.Option;

/**
 * Latencies that Gatling's WebSocket checks cannot time, logged into Gatling's own statistics as
 * if they were requests: they appear in the console summary and the HTML report under their
 * name, and {@code details(name)} assertions apply to them.
 *
 * <p>A chain adds {@link Sample}s to the virtual user's session ({@link #add}) and
 * {@link #record} logs them with the real start and end timestamps (epoch milliseconds), e.g. a
 * message's send time as written in its text and the time its frame was received. Gatling's Java
 * DSL has no public way to log a response with given timestamps ({@code dummy} logs "now" and
 * then waits for the response time), so {@link #record} is a small action built on Gatling's
 * Scala API: {@code StatsEngine.logResponse}.
 */
final class Metrics {

    /** One timed outcome; {@code error} is null for OK. */
    record Sample(String name, long startMillis, long endMillis, String error) {
        static Sample ok(String name, long startMillis, long endMillis) {
            return new Sample(name, startMillis, Math.max(startMillis, endMillis), null);
        }

        static Sample ko(String name, long startMillis, long endMillis, String error) {
            return new Sample(name, startMillis, Math.max(startMillis, endMillis), error);
        }
    }

    private static final String SAMPLES = "pulse.samples";

    private Metrics() {}

    /** The session with {@code samples} appended to those waiting for the next {@link #record}. */
    static Session add(Session session, List<Sample> samples) {
        if (samples.isEmpty()) {
            return session;
        }
        List<Sample> all = new ArrayList<>(session.contains(SAMPLES) ? session.<List<Sample>>get(SAMPLES) : List.of());
        all.addAll(samples);
        return session.set(SAMPLES, all);
    }

    static Session add(Session session, Sample sample) {
        return add(session, List.of(sample));
    }

    /**
     * An action that applies {@code f} to the session (which may {@link #add} samples) and then logs
     * every sample waiting in the session; a KO sample also marks the virtual user as failed, as a
     * failed check would.
     */
    static ActionBuilder record(Function<Session, Session> f) {
        io.gatling.core.action.builder.ActionBuilder scala =
            (ctx, next) -> new RecordAction(ctx.coreComponents().statsEngine(), next, f);
        return () -> scala;
    }

    /** Logs the samples already in the session. */
    static ActionBuilder record() {
        return record(Function.identity());
    }

    private static final class RecordAction extends ActorDelegatingAction {
        private final StatsEngine statsEngine;
        private final Action next;
        private final Function<Session, Session> f;

        RecordAction(StatsEngine statsEngine, Action next, Function<Session, Session> f) {
            super("pulseRecordSamples", null); // execute() is overridden: there is no actor to delegate to
            this.statsEngine = statsEngine;
            this.next = next;
            this.f = f;
        }

        @Override
        public void execute(io.gatling.core.session.Session scalaSession) {
            Session session = new Session(scalaSession);
            try {
                session = f.apply(session);
                if (session.contains(SAMPLES)) {
                    boolean failed = false;
                    io.gatling.core.session.Session s = session.asScala();
                    for (Sample sample : session.<List<Sample>>get(SAMPLES)) {
                        boolean ok = sample.error() == null;
                        failed |= !ok;
                        statsEngine.logResponse(s.scenario(), s.groups(), sample.name(), sample.startMillis(), sample.endMillis(),
                            ok ? OK$.MODULE$ : KO$.MODULE$, Option.empty(), ok ? Option.empty() : Option.apply(sample.error()));
                    }
                    session = session.remove(SAMPLES);
                    if (failed) {
                        session = session.markAsFailed();
                    }
                }
            } catch (RuntimeException e) {
                logger().underlying().error("recording samples failed", e);
                session = session.markAsFailed();
            }
            next.$bang(session.asScala());
        }
    }
}
