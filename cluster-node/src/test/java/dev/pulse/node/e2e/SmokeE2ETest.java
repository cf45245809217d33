package dev.pulse.node.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pulse.node.TestNode;
import dev.pulse.node.testkit.ChatPeer;
import dev.pulse.protocol.ClientFrame;
import dev.pulse.protocol.ServerFrame;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SmokeE2ETest {

    @TempDir
    Path data;

    @Test
    void historySurvivesARestartOnTheSameDatabaseFiles() {
        try (TestNode node = TestNode.start(data)) {
            ChatPeer alice = ChatPeer.connect(node.client(), "alice");
            alice.send(new ClientFrame.Send("s1", "general", "m-1", "before restart"));
            assertThat(alice.expectReply("s1", ServerFrame.Ack.class).seq()).isEqualTo(1);
            alice.close();
        }
        try (TestNode node = TestNode.start(data)) {
            ChatPeer bob = ChatPeer.connect(node.client(), "bob");
            bob.send(new ClientFrame.History("h", "general", null, 50));
            ServerFrame.History history = bob.expectReply("h", ServerFrame.History.class);
            assertThat(history.chatMessages()).extracting(ServerFrame.Message::text).containsExactly("before restart");
            bob.send(new ClientFrame.Send("s2", "general", "m-2", "after restart"));
            assertThat(bob.expectReply("s2", ServerFrame.Ack.class).seq()).isEqualTo(2);
            bob.close();
        }
    }
}
