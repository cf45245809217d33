package dev.pulse.node.session;

import dev.pulse.node.room.RoomEntity;
import dev.pulse.node.user.UserEntity;
import dev.pulse.protocol.ClientFrame;
import dev.pulse.protocol.ErrorCode;
import dev.pulse.protocol.ServerFrame;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;

/**
 * The user's own state as one session shows it (version 1.1): the {@code rooms} frame right after
 * {@code welcome} and whenever the user's list changes, and read markers. The list and the markers
 * are the user entity's; each room adds its {@code lastSeq} and the mentions after the marker. Lives
 * inside the {@link Session} actor and runs on its thread only.
 */
final class UserRooms {

    /** How often the list is asked for again when the user entity does not answer (it may be moving). */
    private static final int LIST_ATTEMPTS = 3;

    private final ActorContext<Session.Command> context;
    private final SessionDeps deps;
    private final String user;
    private final String sessionId;
    private final EntityRef<UserEntity.Command> userEntity;
    private final ClientConnection client;
    /** Numbers each composition: only the newest one's frame is sent. */
    private int generation;

    UserRooms(ActorContext<Session.Command> context, SessionDeps deps, String user, String sessionId,
              EntityRef<UserEntity.Command> userEntity, ClientConnection client) {
        this.context = context;
        this.deps = deps;
        this.user = user;
        this.sessionId = sessionId;
        this.userEntity = userEntity;
        this.client = client;
    }

    /** Right after welcome: asks the user entity for the list, then composes the frame. */
    void start() {
        askList(1);
    }

    private void askList(int attempt) {
        int asked = ++generation;
        context.ask(UserEntity.RoomList.class, userEntity, deps.entityTimeout(), UserEntity.GetRooms::new,
            (list, failure) -> new Session.RoomsListed(asked, attempt, list));
    }

    void listed(Session.RoomsListed listed) {
        if (listed.generation() != generation) {
            return; // a change was pushed meanwhile: it is newer
        }
        if (listed.list() != null) {
            compose(listed.list().rooms());
        } else if (listed.attempt() < LIST_ATTEMPTS) {
            askList(listed.attempt() + 1);
        } else {
            context.getLog().warn("the user's rooms are unavailable: no rooms frame for this session");
        }
    }

    /** The user entity pushed a new list. */
    void changed(List<UserEntity.RoomMark> rooms) {
        compose(rooms);
    }

    private void compose(List<UserEntity.RoomMark> marks) {
        int composing = ++generation;
        List<CompletableFuture<ServerFrame.RoomEntry>> entries = marks.stream()
            .map(mark -> summary(mark.room(), mark.lastRead())
                .thenApply(summary -> ServerFrame.RoomEntry.of(mark.room(), summary.lastSeq(), mark.lastRead(),
                    summary.unread(), summary.mentions()))
                .exceptionally(failure -> {
                    // The room does not answer (its node is failing over): listed as read, corrected by the next frame.
                    context.getLog().debug("room {} did not answer for the rooms frame: {}", mark.room(), failure.toString());
                    return ServerFrame.RoomEntry.of(mark.room(), mark.lastRead(), mark.lastRead(), 0, 0);
                })
                .toCompletableFuture())
            .toList();
        CompletableFuture<List<ServerFrame.RoomEntry>> all = CompletableFuture.allOf(entries.toArray(CompletableFuture[]::new))
            .thenApply(ignored -> entries.stream().map(CompletableFuture::join).toList());
        context.pipeToSelf(all, (rooms, failure) -> new Session.RoomsComposed(composing, rooms));
    }

    void composed(Session.RoomsComposed composed) {
        if (composed.generation() == generation && composed.rooms() != null) {
            client.send(new ServerFrame.Rooms(composed.rooms()));
        }
    }

    // ------------------------------------------------------------------ read markers

    /** Checked against the room's lastSeq, then stored by the user entity (never backwards). */
    void read(ClientFrame.Read read) {
        CompletionStage<UserEntity.ReadAnswer> answer = summary(read.room(), Long.MAX_VALUE)
            .thenCompose(summary -> AskPattern.<UserEntity.Command, UserEntity.ReadAnswer>ask(userEntity,
                replyTo -> new UserEntity.MarkRead(read.room(), read.seq(), summary.lastSeq(), sessionId, replyTo),
                deps.entityTimeout(), context.getSystem().scheduler()));
        context.pipeToSelf(answer, (result, failure) -> new Session.ReadAnswered(read.ref(), read.room(), result));
    }

    void readAnswered(Session.ReadAnswered answered) {
        UserEntity.ReadAnswer answer = answered.answer();
        if (answer == null) {
            client.send(ServerFrame.Error.of(answered.ref(), ErrorCode.UNAVAILABLE, "read markers are unavailable; try again"));
        } else if (answer.error() != null) {
            deps.metrics().rejected(answer.error());
            client.send(ServerFrame.Error.of(answered.ref(), answer.error(), answer.message()));
        } else {
            client.send(new ServerFrame.Read(answered.ref(), answer.room(), answer.seq()));
        }
    }

    // ------------------------------------------------------------------ search

    /** In the room asked for (the session checked it may read it), else in every room of the user's list. */
    void search(ClientFrame.Search search) {
        CompletionStage<List<String>> rooms = search.room() != null
            ? CompletableFuture.completedFuture(List.of(search.room()))
            : AskPattern.<UserEntity.Command, UserEntity.RoomList>ask(userEntity, UserEntity.GetRooms::new,
                    deps.entityTimeout(), context.getSystem().scheduler())
                .thenApply(list -> list.rooms().stream().map(UserEntity.RoomMark::room).toList());
        context.pipeToSelf(rooms.thenCompose(names -> deps.search().find(names, search.query(), search.limit())),
            (results, failure) -> new Session.SearchAnswered(search.ref(), results, failure));
    }

    void searchAnswered(Session.SearchAnswered answered) {
        if (answered.failure() != null) {
            context.getLog().warn("search failed: {}", answered.failure().toString());
            client.send(ServerFrame.Error.of(answered.ref(), ErrorCode.UNAVAILABLE, "search is unavailable; try again"));
        } else {
            client.send(new ServerFrame.Search(answered.ref(), answered.results()));
        }
    }

    /** Another session of the user moved a marker. */
    void readMoved(String room, long seq) {
        client.send(new ServerFrame.Read(null, room, seq));
    }

    private CompletionStage<RoomEntity.Summary> summary(String room, long lastRead) {
        return AskPattern.ask(deps.sharding().entityRefFor(RoomEntity.ENTITY_KEY, room),
            replyTo -> new RoomEntity.GetSummary(user, lastRead, replyTo), deps.entityTimeout(), context.getSystem().scheduler());
    }
}
