package dev.pulse.node.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pulse.protocol.ClientFrame;
import dev.pulse.protocol.ServerFrame;
import org.junit.jupiter.api.Test;

/** Every frame the codec knows is counted: a client frame without a counter would fail its session. */
class FrameTypesTest {

    @Test
    void everyClientFrameHasItsWireType() {
        assertThat(FrameTypes.clientTypes().keySet()).containsExactlyInAnyOrder(ClientFrame.class.getPermittedSubclasses());
    }

    @Test
    void everyServerFrameHasItsWireType() {
        assertThat(FrameTypes.serverTypes()).hasSize(ServerFrame.class.getPermittedSubclasses().length)
            .contains("rooms", "read", "directory");
    }
}
