package dev.pulse.node.session;

import dev.pulse.node.delivery.EncodedFrame;
import dev.pulse.node.delivery.FeedEncoder;
import dev.pulse.node.room.Member;
import dev.pulse.node.room.PresenceStatus;
import dev.pulse.node.room.StoredMessage;
import dev.pulse.node.user.UserEntity;
import dev.pulse.protocol.FrameCodec;
import dev.pulse.protocol.Mentions;
import dev.pulse.node.metrics.FrameTypes;
import dev.pulse.protocol.ServerFrame;
import dev.pulse.protocol.Timestamps;
import java.util.List;

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

    public static ServerFrame.Message messageFrame(String room, StoredMessage message) {
        return new ServerFrame.Message(room, message.seq(), message.id(), message.from(), message.text(),
            Timestamps.format(message.ts()));
    }

    /** What a message frame's JSON adds to its strings: field names, quotes, seq and timestamp. */
    private static final int MESSAGE_FRAME_OVERHEAD = 110;

    /**
     * The newest of {@code messages} (ascending by seq) whose frames weigh at most {@code maxBytes}
     * together, estimated from their strings; at least the newest one, however large.
     */
    public static List<StoredMessage> newestWithin(String room, List<StoredMessage> messages, int maxBytes) {
        long total = 0;
        int from = messages.size();
        while (from > 0) {
            StoredMessage message = messages.get(from - 1);
            total += MESSAGE_FRAME_OVERHEAD + FrameCodec.utf8Length(room) + FrameCodec.utf8Length(message.id())
                + FrameCodec.utf8Length(message.from()) + FrameCodec.utf8Length(message.text())
                + mentionsLength(message.text());
            if (total > maxBytes && from < messages.size()) {
                break;
            }
            from--;
        }
        return messages.subList(from, messages.size());
    }

    /** What {@code "mentions":[…]} adds to a frame: the names (at most the text's length), quotes and commas. */
    private static int mentionsLength(String text) {
        List<String> names = Mentions.in(text);
        return names.isEmpty() ? 0 : 14 + names.stream().mapToInt(name -> name.length() + 3).sum();
    }

    public static List<ServerFrame.Message> messageFrames(String room, List<StoredMessage> messages) {
        return messages.stream().map(message -> messageFrame(room, message)).toList();
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
    public EncodedFrame message(String room, StoredMessage stored) {
        return encode(messageFrame(room, stored));
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
