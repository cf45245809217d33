package dev.pulse.node.room;

import dev.pulse.protocol.FrameCodec;
import java.util.ArrayList;
import java.util.List;

/**
 * Keeps every list of messages a room sends under what one remote message may carry. Artery drops a
 * serialized message larger than its {@code maximum-frame-size} (256 KiB by default) with a log line
 * and nothing else, so a page of 200 long messages for a session on another node, or a hub's catch-up
 * of a whole window, would simply never arrive. Weights are estimates from the strings, on the high
 * side of what CBOR makes of them.
 */
final class RemoteBudget {

    /** What CBOR adds to a message's strings: field names, seq, ts, headers. */
    private static final int OVERHEAD = 64;

    private final int maxBytes;

    RemoteBudget(int maxBytes) {
        this.maxBytes = maxBytes;
    }

    static long weight(StoredEvent event) {
        long weight = OVERHEAD + length(event.id()) + length(event.from());
        if (event instanceof StoredMessage message) {
            weight += length(message.text());
            MessageChange now = message.now();
            if (now != null) {
                weight += length(now.text());
                for (var byUser : now.reactions().entrySet()) {
                    weight += length(byUser.getKey()) + byUser.getValue().keySet().stream().mapToLong(user -> 24 + length(user)).sum();
                }
            }
        } else if (event instanceof StoredEdit edit) {
            weight += length(edit.text());
        } else if (event instanceof StoredReaction reaction) {
            weight += length(reaction.emoji());
        }
        return weight;
    }

    private static long length(String text) {
        return text == null ? 0 : FrameCodec.utf8Length(text);
    }

    /** The oldest of {@code messages} (ascending) within the budget; at least the first. */
    List<StoredEvent> oldest(List<StoredEvent> messages) {
        long total = 0;
        int to = 0;
        while (to < messages.size()) {
            total += weight(messages.get(to));
            if (total > maxBytes && to > 0) {
                break;
            }
            to++;
        }
        return messages.subList(0, to);
    }

    /** The newest of {@code messages} (ascending) within the budget; at least the last. */
    List<StoredEvent> newest(List<StoredEvent> messages) {
        long total = 0;
        int from = messages.size();
        while (from > 0) {
            total += weight(messages.get(from - 1));
            if (total > maxBytes && from < messages.size()) {
                break;
            }
            from--;
        }
        return messages.subList(from, messages.size());
    }

    /** {@code messages} (ascending) in consecutive chunks within the budget, for messages sent in a row. */
    List<List<StoredEvent>> chunks(List<StoredEvent> messages) {
        List<List<StoredEvent>> chunks = new ArrayList<>();
        List<StoredEvent> rest = messages;
        while (!rest.isEmpty()) {
            List<StoredEvent> chunk = oldest(rest);
            chunks.add(List.copyOf(chunk));
            rest = rest.subList(chunk.size(), rest.size());
        }
        return chunks;
    }
}
