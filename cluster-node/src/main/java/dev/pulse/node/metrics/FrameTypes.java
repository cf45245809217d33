package dev.pulse.node.metrics;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeName;
import dev.pulse.protocol.ClientFrame;
import dev.pulse.protocol.ServerFrame;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The wire {@code type} of each frame record, for counting frames by type (kept beside the metrics, so
 * the node does not need a newer protocol jar than its wire format asks for).
 */
public final class FrameTypes {

    private static final Map<Class<?>, String> CLIENT = Map.ofEntries(
        Map.entry(ClientFrame.Join.class, "join"),
        Map.entry(ClientFrame.Leave.class, "leave"),
        Map.entry(ClientFrame.Send.class, "send"),
        Map.entry(ClientFrame.History.class, "history"),
        Map.entry(ClientFrame.Typing.class, "typing"),
        Map.entry(ClientFrame.PresenceQuery.class, "presence"),
        Map.entry(ClientFrame.Ping.class, "ping"),
        Map.entry(ClientFrame.Read.class, "read"),
        Map.entry(ClientFrame.Directory.class, "directory"),
        Map.entry(ClientFrame.Search.class, "search"),
        Map.entry(ClientFrame.Edit.class, "edit"),
        Map.entry(ClientFrame.Delete.class, "delete"),
        Map.entry(ClientFrame.React.class, "react"));

    /** Read once per record class from its {@link JsonTypeName}, the name the codec writes. */
    private static final ClassValue<String> SERVER = new ClassValue<>() {
        @Override
        protected String computeValue(Class<?> type) {
            JsonTypeName name = type.getAnnotation(JsonTypeName.class);
            if (name == null) {
                throw new IllegalArgumentException(type + " has no @JsonTypeName");
            }
            return name.value();
        }
    };

    private FrameTypes() {}

    public static String of(ServerFrame frame) {
        return SERVER.get(frame.getClass());
    }

    public static String of(ClientFrame frame) {
        return CLIENT.get(frame.getClass());
    }

    /** Every client frame class with its wire type. */
    public static Map<Class<?>, String> clientTypes() {
        return CLIENT;
    }

    /** The wire type of every server frame. */
    public static List<String> serverTypes() {
        return Arrays.stream(ServerFrame.class.getAnnotation(JsonSubTypes.class).value())
            .map(subtype -> SERVER.get(subtype.value()))
            .toList();
    }
}
