package dev.pulse.node.room;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Where a room that starts (after passivation, a restart or a failover) finds who joined it and has
 * not left, with their presence: version 1.1's {@code joined.members} outlives the room's memory.
 * Joins and leaves are journaled by the user entities, so the room does not know where the list
 * lives; the wiring passes this in.
 */
@FunctionalInterface
public interface MemberRoster {

    /** Knows nobody: rooms without a user layer (entity tests). */
    MemberRoster NONE = room -> CompletableFuture.completedFuture(List.of());

    /** The room's members; never fails (a member whose presence is not known comes as offline). */
    CompletionStage<List<Member>> load(String room);
}
