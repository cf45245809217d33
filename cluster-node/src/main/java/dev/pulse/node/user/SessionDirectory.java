package dev.pulse.node.user;

import dev.pulse.node.CborSerializable;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * What a user entity asks of each node's index of its sessions. A user entity that starts where its
 * predecessor died (node loss, rebalance) asks every reachable node for the user's sessions instead
 * of waiting a heartbeat interval for them, and tells each node its part of the user's send budget.
 */
public final class SessionDirectory {

    /** Each node registers its directory under this key with the receptionist. */
    public static final ServiceKey<Request> KEY = ServiceKey.create(Request.class, "pulse-session-directory");

    public sealed interface Request extends CborSerializable {}

    /** Answered with {@link UserEntity.SessionsFound}, also when the node has none. */
    public record FindSessions(String user, ActorRef<UserEntity.Command> replyTo) implements Request {}

    /**
     * The user's sessions are on {@code nodes} nodes: this node's sessions of the user share
     * 1/{@code nodes} of the user's send budget, so the user's budget is the same on any number of nodes.
     */
    public record SetSendShare(String user, int nodes) implements Request {}

    /** The user signed out of token {@code tokenId}: close the sockets opened with it (1008, "signed out"). */
    public record SignOut(String user, String tokenId) implements Request {}

    /**
     * The user's rooms changed (a join or leave on some device, a DM's message): the node's sessions of
     * the user push the new list; {@code left} (nullable) is a room the user left, which every session
     * of the user but {@code bySession} (it left, and may have joined again since) stops receiving.
     */
    public record RoomsChanged(String user, List<UserEntity.RoomMark> rooms, String left, String bySession) implements Request {}

    /** The user's read marker of {@code room} moved to {@code seq}: told to the user's sessions but {@code bySession}. */
    public record ReadMoved(String user, String room, long seq, String bySession) implements Request {}

    /** A session of the user on the answering node. */
    public record FoundSession(String sessionId, ActorRef<?> session) implements CborSerializable {}

    private SessionDirectory() {}
}
