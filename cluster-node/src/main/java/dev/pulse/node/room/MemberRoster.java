package dev.pulse.node.room;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Where a room that starts (after passivation, a restart or a failover) finds who joined it and has
 * not left, and then their presence: version 1.1's {@code joined.members} outlives the room's memory.
 * Joins and leaves are journaled by the user entities, so the room does not know where the list
 * lives; the wiring passes this in.
 */
public interface MemberRoster {

    /** Knows nobody: rooms without a user layer (entity tests). */
    MemberRoster NONE = new MemberRoster() {
        @Override
        public CompletionStage<List<String>> members(String room) {
            return CompletableFuture.completedFuture(List.of());
        }

        @Override
        public List<CompletionStage<Member>> presence(List<String> users) {
            return List.of();
        }
    };

    /** The room's members as last written; never fails (an unreadable list is empty). */
    CompletionStage<List<String>> members(String room);

    /**
     * The presence of some of {@code users}, one answer each as it comes; an answer may fail (not in
     * time), and users beyond a bound are not asked at all: the room keeps those as offline, last seen
     * unknown, until their user entity tells it otherwise.
     */
    List<CompletionStage<Member>> presence(List<String> users);
}
