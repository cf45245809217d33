package dev.pulse.perf.gatling;

import static io.gatling.javaapi.core.CoreDsl.bodyString;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.http.HttpDsl.ws;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pulse.perf.gatling.Metrics.Sample;
import io.gatling.javaapi.core.ChainBuilder;
import io.gatling.javaapi.core.Session;
import io.gatling.javaapi.http.WsFrameCheck;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Sends one message and verifies both of its answers: the {@code ack} (same {@code ref}, same
 * {@code id}) and the delivery of the {@code message} frame with the same {@code id} to the
 * sender's own session, with the same {@code seq} as the ack.
 *
 * <p>The two frames travel different paths in the node (the room answers the session directly;
 * the message goes through the node's room hub), so their order is not guaranteed across nodes.
 * A Gatling check sequence matches frames in order and ignores, without buffering, frames that
 * do not match the current check; so both checks here match <em>either</em> answer and record
 * the frame and the time it arrived, silently. The recording step then logs, in Gatling's
 * statistics ({@link Metrics}):
 * <ul>
 *   <li>{@code ack}: from writing the {@code send} frame to receiving the {@code ack}; KO on an
 *       {@code error} answer (its code), on a wrong id, or when none came within the timeout;</li>
 *   <li>{@code delivery}: from writing the frame to receiving one's own {@code message}; KO when
 *       it did not come within the timeout or its {@code seq} differs from the ack's.</li>
 * </ul>
 */
final class SendProbe {

    private static final String ID = "probeId";
    private static final String SENT_AT = "probeSentAt";
    private static final String FIRST = "probeFirst";
    private static final String SECOND = "probeSecond";

    private SendProbe() {}

    /**
     * The send step. {@code probeSentAt} is taken in the step just before the send action, which runs
     * in the same event-loop task right after it (so within a millisecond of the write); the message
     * text carries the same time.
     */
    static ChainBuilder sendAndVerify(Duration timeout, int textChars) {
        return exec(session -> PulseDsl.nextMessageId(session, ID)
                .set(SENT_AT, System.currentTimeMillis()).remove(FIRST).remove(SECOND))
            .exec(ws("send").sendText(session -> {
                    String id = session.getString(ID);
                    String text = PulseDsl.timedText(session.getLong(SENT_AT), textChars);
                    return PulseDsl.sendFrame(id, session.getString("room"), id, text);
                })
                .await(timeout).on(answer(FIRST), answer(SECOND)))
            .exec(Metrics.record(session -> Metrics.add(session, verify(session, timeout))));
    }

    /** Matches the ack (or error) with our ref or the message with our id; saves arrival time and frame. */
    private static WsFrameCheck.Text answer(String key) {
        return ws.checkTextMessage("answer")
            .matching(bodyString().transformWithSession(SendProbe::concernsProbe).is(true))
            .check(bodyString().transform(frame -> System.currentTimeMillis() + "\n" + frame).saveAs(key))
            .silent();
    }

    private static boolean concernsProbe(String frame, Session session) {
        String id = session.getString(ID);
        if (!frame.contains(id)) {
            return false; // cheap filter: every frame of the room passes through here
        }
        JsonNode json = PulseDsl.parse(frame);
        return id.equals(json.path("ref").asText(null)) || id.equals(json.path("id").asText(null));
    }

    private static List<Sample> verify(Session session, Duration timeout) {
        long now = System.currentTimeMillis();
        long sentAt = session.getLong(SENT_AT);
        JsonNode ack = null;
        JsonNode message = null;
        long ackAt = -1;
        long messageAt = -1;
        for (String key : new String[] {FIRST, SECOND}) {
            if (!session.contains(key)) {
                continue;
            }
            String saved = session.getString(key);
            int newline = saved.indexOf('\n');
            long at = Long.parseLong(saved.substring(0, newline));
            JsonNode frame = PulseDsl.parse(saved.substring(newline + 1));
            if ("message".equals(frame.path("type").asText())) {
                message = frame;
                messageAt = at;
            } else {
                ack = frame;
                ackAt = at;
            }
        }
        String id = session.getString(ID);
        List<Sample> samples = new ArrayList<>(2);
        boolean ackOk = false;
        if (ack == null) {
            samples.add(Sample.ko("ack", sentAt, now, "no ack within " + timeout.toSeconds() + " s"));
        } else if (!"ack".equals(ack.path("type").asText())) {
            samples.add(Sample.ko("ack", sentAt, ackAt, ack.path("type").asText() + " " + ack.path("code").asText()
                + ": " + ack.path("message").asText()));
        } else if (!id.equals(ack.path("id").asText())) {
            samples.add(Sample.ko("ack", sentAt, ackAt, "ack for id " + ack.path("id").asText() + ", sent " + id));
        } else {
            samples.add(Sample.ok("ack", sentAt, ackAt));
            ackOk = true;
        }
        if (message == null) {
            samples.add(Sample.ko("delivery", sentAt, now, "own message not delivered within " + timeout.toSeconds() + " s"));
        } else if (ackOk && ack.path("seq").asLong() != message.path("seq").asLong()) {
            samples.add(Sample.ko("delivery", sentAt, messageAt,
                "message seq " + message.path("seq").asLong() + " differs from ack seq " + ack.path("seq").asLong()));
        } else if (!session.getString("user").equals(message.path("from").asText())) {
            samples.add(Sample.ko("delivery", sentAt, messageAt, "message from " + message.path("from").asText()));
        } else {
            samples.add(Sample.ok("delivery", sentAt, messageAt));
        }
        return samples;
    }
}
