package dev.pulse.node.session;

import dev.pulse.node.user.UserEntity;
import dev.pulse.protocol.ClientFrame;
import dev.pulse.protocol.ErrorCode;
import dev.pulse.protocol.ServerFrame;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.javadsl.ActorContext;

/**
 * Accounts mode (version 1.1): a DM room with a user who has no account is {@code not_found}. A
 * session asks the other user's entity once per name; frames for that DM wait for the answer, in
 * their order, and then go on (or are each answered not_found). Lives inside the {@link Session}
 * actor and runs on its thread only.
 */
final class DmAccounts {

    private final ActorContext<Session.Command> context;
    private final SessionDeps deps;
    private final ClientConnection client;
    private final Set<String> known = new HashSet<>();
    private final Map<String, List<ClientFrame>> waiting = new HashMap<>();

    DmAccounts(ActorContext<Session.Command> context, SessionDeps deps, ClientConnection client) {
        this.context = context;
        this.deps = deps;
        this.client = client;
    }

    /** True when {@code frame} may go on now; else it waits for the answer about {@code peer}. */
    boolean mayGoOn(String peer, ClientFrame frame) {
        if (known.contains(peer)) {
            return true;
        }
        List<ClientFrame> queued = waiting.computeIfAbsent(peer, first -> new ArrayList<>());
        queued.add(frame);
        if (queued.size() == 1) {
            context.ask(UserEntity.AccountExists.class, deps.sharding().entityRefFor(UserEntity.ENTITY_KEY, peer),
                deps.entityTimeout(), UserEntity.GetAccount::new,
                (answer, failure) -> new Session.AccountChecked(peer, answer == null ? null : answer.exists()));
        }
        return false;
    }

    /** The answer about {@code peer} (null: none came): the frames that waited go on through {@code handle}. */
    void checked(String peer, Boolean exists, Consumer<ClientFrame> handle) {
        List<ClientFrame> queued = waiting.remove(peer);
        if (queued == null) {
            return;
        }
        if (Boolean.TRUE.equals(exists)) {
            known.add(peer);
            queued.forEach(handle);
            return;
        }
        for (ClientFrame frame : queued) {
            if (exists == null) {
                client.send(ServerFrame.Error.of(frame.ref(), ErrorCode.UNAVAILABLE, "could not look " + peer + " up; try again"));
            } else {
                deps.metrics().rejected(ErrorCode.NOT_FOUND);
                client.send(ServerFrame.Error.of(frame.ref(), ErrorCode.NOT_FOUND, "there is no user named " + peer));
            }
        }
    }
}
