package dev.pulse.node.session;

import dev.pulse.protocol.ServerFrame;
import java.util.List;
import java.util.concurrent.CompletionStage;

/** Search (version 1.1): messages of {@code rooms} whose current text matches {@code query}, newest first. */
@FunctionalInterface
public interface MessageSearch {

    CompletionStage<List<ServerFrame.SearchResult>> find(List<String> rooms, String query, int limit);
}
