package dev.pulse.node.session;

import dev.pulse.protocol.ServerFrame;
import java.util.List;
import java.util.concurrent.CompletionStage;

/** The room directory (version 1.1): public rooms whose name contains {@code query}, most members first. */
@FunctionalInterface
public interface RoomDirectory {

    CompletionStage<List<ServerFrame.DirectoryEntry>> find(String query, int limit);
}
