package dev.pulse.node.session;

import dev.pulse.node.delivery.EncodedFrame;
import dev.pulse.node.delivery.FeedEncoder;
import dev.pulse.node.room.Member;
import dev.pulse.node.room.PresenceStatus;
import dev.pulse.node.room.MessageChange;
import dev.pulse.node.room.StoredDelete;
import dev.pulse.node.room.StoredEdit;
import dev.pulse.node.room.StoredEvent;
import dev.pulse.node.room.StoredMessage;
import dev.pulse.node.room.StoredReaction;
import dev.pulse.node.user.UserEntity;
import dev.pulse.protocol.FrameCodec;
import dev.pulse.protocol.Mentions;
import dev.pulse.node.metrics.FrameTypes;
import dev.pulse.protocol.ServerFrame;
import dev.pulse.protocol.Timestamps;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * The one place where domain values become wire frames: epoch milliseconds become ISO-8601,
 * presence statuses their wire spelling. Hubs use it through {@link FeedEncoder} to encode each
 * room event once per node.
 */
public final class WireFrames implements FeedEncoder {

    public static final WireFrames INSTANCE = new WireFrames();

    private WireFrames() {}

    public static EncodedFrame encode(ServerFrame frame) {
        return new EncodedFrame(FrameTypes.of(frame), FrameCodec.encodeUtf8(frame));
    }

    /** A room event's frame; a message as served carries its state now (version 1.1). */
    public static ServerFrame.RoomEvent eventFrame(String room, StoredEvent event) {
        String ts = Timestamps.format(event.ts());
        if (event instanceof StoredMessage message) {
            MessageChange now = message.now();
            if (now == null) {
                return new ServerFrame.Message(room, message.seq(), message.id(), message.from(), message.text(), ts);
            }
            String text = message.currentText();
            Map<String, List<String>> reactions = now.currentReactions();
            return new ServerFrame.Message(room, message.seq(), message.id(), message.from(), text, ts,
                text == null ? null : Mentions.inOrNull(text), now.editedAt() == null || now.deleted() ? null : Timestamps.format(now.editedAt()),
                now.deleted() ? Boolean.TRUE : null, reactions.isEmpty() ? null : reactions);
        } else if (event instanceof StoredEdit edit) {
            return new ServerFrame.Edited(room, edit.seq(), edit.target(), edit.from(), edit.text(), ts);
        } else if (event instanceof StoredDelete delete) {
            return new ServerFrame.Deleted(room, delete.seq(), delete.target(), delete.from(), ts);
        }
        StoredReaction reaction = (StoredReaction) event;
        return new ServerFrame.Reacted(room, reaction.seq(), reaction.target(), reaction.from(), reaction.emoji(), reaction.on(), ts);
    }

    /**
     * The frames of the newest of {@code events} (ascending by seq) that weigh at most {@code maxBytes}
     * together; at least the newest one, however large.
     */
    public static List<ServerFrame.RoomEvent> newestWithin(String room, List<StoredEvent> events, int maxBytes) {
        long total = 0;
        int from = events.size();
        List<ServerFrame.RoomEvent> frames = new ArrayList<>();
        while (from > 0) {
            ServerFrame.RoomEvent frame = eventFrame(room, events.get(from - 1));
            total += FrameCodec.encodeUtf8(frame).length + 1;
            if (total > maxBytes && from < events.size()) {
                break;
            }
            frames.add(frame);
            from--;
        }
        Collections.reverse(frames);
        return frames;
    }

    public static List<ServerFrame.Member> memberFrames(List<Member> members) {
        return members.stream().map(m -> member(m.user(), m.status(), m.lastSeen())).toList();
    }

    public static ServerFrame.Member memberFrame(UserEntity.Presence presence) {
        return member(presence.user(), presence.status(), presence.lastSeen());
    }

    public static String status(PresenceStatus status) {
        return status == PresenceStatus.ONLINE ? dev.pulse.protocol.PresenceStatus.ONLINE : dev.pulse.protocol.PresenceStatus.OFFLINE;
    }

    private static ServerFrame.Member member(String user, PresenceStatus status, Long lastSeen) {
        return new ServerFrame.Member(user, status(status), offlineSince(status, lastSeen));
    }

    /** lastSeen is shown only while offline, and only when known. */
    private static String offlineSince(PresenceStatus status, Long lastSeen) {
        return status == PresenceStatus.OFFLINE && lastSeen != null ? Timestamps.format(lastSeen) : null;
    }

    @Override
    public EncodedFrame event(String room, StoredEvent stored) {
        return encode(eventFrame(room, stored));
    }

    @Override
    public EncodedFrame typing(String room, String user) {
        return encode(new ServerFrame.Typing(room, user));
    }

    @Override
    public EncodedFrame member(String room, String user, boolean joined) {
        return encode(new ServerFrame.MemberChange(room, user,
            joined ? ServerFrame.MemberChange.JOINED : ServerFrame.MemberChange.LEFT));
    }

    @Override
    public EncodedFrame presence(String user, PresenceStatus status, Long lastSeen) {
        return encode(new ServerFrame.Presence(user, status(status), offlineSince(status, lastSeen)));
    }
}
