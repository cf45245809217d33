package dev.pulse.node.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pulse.protocol.ClientFrame;
import dev.pulse.protocol.ServerFrame;
import org.junit.jupiter.api.Test;

/** Every frame the codec knows is counted: a client frame without a counter would fail its session. */
class FrameTypesTest {

    @Test
    void everyClientFrameHasItsWireType() {
        assertThat(FrameTypes.clientTypes().keySet()).containsExactlyInAnyOrderElementsOf(records(ClientFrame.class));
    }

    @Test
    void everyServerFrameHasItsWireType() {
        assertThat(FrameTypes.serverTypes()).hasSize(records(ServerFrame.class).size())
            .contains("rooms", "read", "directory", "edited", "deleted", "reacted");
    }

    /** The records a sealed frame interface permits, through its sealed sub-interfaces. */
    private static java.util.List<Class<?>> records(Class<?> sealed) {
        java.util.List<Class<?>> records = new java.util.ArrayList<>();
        for (Class<?> permitted : sealed.getPermittedSubclasses()) {
            if (permitted.isSealed()) {
                records.addAll(records(permitted));
            } else {
                records.add(permitted);
            }
        }
        return records;
    }
}
