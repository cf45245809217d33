package dev.pulse.node.room;

import dev.pulse.node.CborSerializable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What later events did to one message: its author (checked by edits and deletions), the text of the
 * last edit and when, whether it is deleted, and each user's last reaction per emoji with the seq
 * that set it (a repeated reaction acks with that seq). Immutable: every change makes a new one.
 */
public record MessageChange(String author, String text, Long editedAt, boolean deleted,
                            Map<String, Map<String, Reaction>> reactions) implements CborSerializable {

    /** A user's reaction with one emoji: set or removed, by the event {@code seq} at {@code ts}. */
    public record Reaction(boolean on, long seq, long ts) implements CborSerializable {}

    static MessageChange of(String author) {
        return new MessageChange(author, null, null, false, Map.of());
    }

    MessageChange edited(String newText, long ts) {
        return new MessageChange(author, newText, ts, deleted, reactions);
    }

    MessageChange asDeleted() {
        return new MessageChange(author, null, editedAt, true, Map.of());
    }

    MessageChange reacted(String user, String emoji, boolean on, long seq, long ts) {
        Map<String, Map<String, Reaction>> next = new LinkedHashMap<>(reactions);
        Map<String, Reaction> byUser = new LinkedHashMap<>(next.getOrDefault(emoji, Map.of()));
        byUser.put(user, new Reaction(on, seq, ts));
        next.put(emoji, byUser);
        return new MessageChange(author, text, editedAt, deleted, next);
    }

    /** The user's reaction with {@code emoji}; null when they never set or removed it. */
    public Reaction reaction(String user, String emoji) {
        return reactions.getOrDefault(emoji, Map.of()).get(user);
    }

    /** Each emoji with who has it set now, in the order they were first used; emojis nobody has left out. */
    public Map<String, List<String>> currentReactions() {
        Map<String, List<String>> current = new LinkedHashMap<>();
        reactions.forEach((emoji, byUser) -> {
            List<String> users = byUser.entrySet().stream().filter(entry -> entry.getValue().on()).map(Map.Entry::getKey).toList();
            if (!users.isEmpty()) {
                current.put(emoji, users);
            }
        });
        return current;
    }
}
