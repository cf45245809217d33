package dev.pulse.protocol;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code @name} in a message's text (version 1.1, "Mentions"): an {@code @} that does not continue
 * a word (so {@code alice@example.com} mentions nobody), then a well-formed user name, without a
 * trailing {@code .}, {@code -} or {@code _} (sentence punctuation: "thanks @bob."), and not followed
 * by another letter or digit ({@code @Bob} is not {@code bob}: names are lower-case). Each name once,
 * in order of first appearance.
 */
public final class Mentions {

    private Mentions() {}

    /** The names {@code text} mentions; empty when none. */
    public static List<String> in(String text) {
        if (text == null || text.indexOf('@') < 0) {
            return List.of();
        }
        List<String> names = new ArrayList<>(2);
        int at = text.indexOf('@');
        while (at >= 0) {
            int end = at + 1;
            while (end < text.length() && isNameChar(text.charAt(end))) {
                end++;
            }
            int nameEnd = end;
            while (nameEnd > at + 1 && isTrailingPunctuation(text.charAt(nameEnd - 1))) {
                nameEnd--;
            }
            String name = text.substring(at + 1, nameEnd);
            boolean startsAWord = at == 0 || !continuesWord(text.charAt(at - 1));
            boolean endsAWord = end == text.length() || !Character.isLetterOrDigit(text.codePointAt(end));
            if (startsAWord && endsAWord && Names.isValidUser(name) && !names.contains(name)) {
                names.add(name);
            }
            at = text.indexOf('@', Math.max(end, at + 1));
        }
        return names;
    }

    /** {@link #in}, or null when there are none: the frame then leaves {@code mentions} out. */
    public static List<String> inOrNull(String text) {
        List<String> names = in(text);
        return names.isEmpty() ? null : List.copyOf(names);
    }

    private static boolean isNameChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    }

    private static boolean isTrailingPunctuation(char c) {
        return c == '.' || c == '-' || c == '_';
    }

    private static boolean continuesWord(char c) {
        return Character.isLetterOrDigit(c) || c == '_' || c == '.' || c == '-';
    }
}
