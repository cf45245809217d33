package dev.pulse.protocol;

import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/** User names, room ids and direct-message rooms: the one place their syntax is defined. */
public final class Names {

    private static final Pattern USER = Pattern.compile("[a-z0-9_.-]{1,32}");
    private static final Pattern PUBLIC_ROOM = Pattern.compile("[a-z0-9][a-z0-9_.-]{0,63}");
    private static final String DM_PREFIX = "dm:";

    private Names() {}

    public static boolean isValidUser(String user) {
        return user != null && USER.matcher(user).matches();
    }

    /**
     * A name a new account may take (version 1.1, stricter than version 1's names): at least one
     * letter or digit, so no account is called {@code .}, {@code ..} or {@code -}.
     */
    public static boolean isValidNewUser(String user) {
        return isValidUser(user) && user.chars().anyMatch(c -> (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'));
    }

    /**
     * A public room whose name starts with {@code dm} ({@code dm.alice.bob}) reads like a direct
     * message; with accounts such rooms are not created (version 1 allowed them).
     */
    public static boolean looksLikeDm(String room) {
        return isPublicRoom(room) && room.startsWith("dm");
    }

    public static boolean isPublicRoom(String room) {
        return room != null && PUBLIC_ROOM.matcher(room).matches();
    }

    /** A valid room id: a public room or {@code dm:<a>:<b>} with two different users in sorted order. */
    public static boolean isValidRoom(String room) {
        return isPublicRoom(room) || dmParticipants(room).isPresent();
    }

    /** The two participants of a well-formed DM room id, or empty when it is not one. */
    public static Optional<List<String>> dmParticipants(String room) {
        if (room == null || !room.startsWith(DM_PREFIX)) {
            return Optional.empty();
        }
        String rest = room.substring(DM_PREFIX.length());
        int colon = rest.indexOf(':');
        if (colon < 0) {
            return Optional.empty();
        }
        String a = rest.substring(0, colon);
        String b = rest.substring(colon + 1);
        if (!isValidUser(a) || !isValidUser(b) || a.compareTo(b) >= 0) {
            return Optional.empty();
        }
        return Optional.of(List.of(a, b));
    }

    public static boolean isDmRoom(String room) {
        return room != null && room.startsWith(DM_PREFIX);
    }

    /** The DM room id of two different users. */
    public static String dmRoom(String a, String b) {
        if (a.equals(b)) {
            throw new IllegalArgumentException("a DM needs two different users");
        }
        return a.compareTo(b) < 0 ? DM_PREFIX + a + ":" + b : DM_PREFIX + b + ":" + a;
    }

    /** Whether {@code user} may join, read and post in {@code room}. */
    public static boolean mayAccess(String user, String room) {
        return !isDmRoom(room) || dmParticipants(room).map(p -> p.contains(user)).orElse(false);
    }
}
