package dev.pulse.node.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pulse.node.TestNode;
import dev.pulse.protocol.ClientFrame;
import dev.pulse.protocol.ServerFrame;
import dev.pulse.protocol.client.PulseConnection;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SmokeE2ETest {

    private static final Duration T = Duration.ofSeconds(10);

    @TempDir
    Path data;

    @Test
    void historySurvivesARestartOnTheSameDatabaseFiles() {
        try (TestNode node = TestNode.start(data)) {
            PulseConnection alice = node.client().connectAs("alice");
            alice.await(ServerFrame.Welcome.class, T);
            alice.send(new ClientFrame.Send("s1", "general", "m-1", "before restart"));
            assertThat(alice.await(ServerFrame.Ack.class, T).seq()).isEqualTo(1);
            alice.close();
        }
        try (TestNode node = TestNode.start(data)) {
            PulseConnection bob = node.client().connectAs("bob");
            bob.send(new ClientFrame.History("h", "general", null, 50));
            ServerFrame.History history = bob.await(ServerFrame.History.class, T);
            assertThat(history.messages()).extracting(ServerFrame.Message::text).containsExactly("before restart");
            bob.send(new ClientFrame.Send("s2", "general", "m-2", "after restart"));
            assertThat(bob.await(ServerFrame.Ack.class, T).seq()).isEqualTo(2);
            bob.close();
        }
    }
}
