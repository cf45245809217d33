package dev.pulse.protocol;

import java.time.Duration;

/**
 * The contract's limits, configurable per node. {@link #DEFAULTS} holds the values of PROTOCOL.md.
 *
 * @param maxFrameBytes   largest accepted client frame, in UTF-8 bytes ({@code too_large} beyond)
 * @param maxTextChars    largest {@code text}, in code points after trimming ({@code invalid} beyond)
 * @param sendBurst       token-bucket capacity of the per-user send rate limit
 * @param sendWindow      time in which {@code sendBurst} tokens refill
 */
public record Limits(int maxFrameBytes, int maxTextChars, int sendBurst, Duration sendWindow) {

    public static final Limits DEFAULTS = new Limits(64 * 1024, 4000, 20, Duration.ofSeconds(10));

    /** Longest {@code ref} a client may attach to a frame. */
    public static final int MAX_REF_CHARS = 64;
    /** Longest client message {@code id}. */
    public static final int MAX_ID_CHARS = 64;
    public static final int HISTORY_DEFAULT_LIMIT = 50;
    public static final int HISTORY_MAX_LIMIT = 200;
    /** Most user names one presence query may ask about. */
    public static final int MAX_PRESENCE_USERS = 100;
    public static final int DIRECTORY_DEFAULT_LIMIT = 50;
    public static final int DIRECTORY_MAX_LIMIT = 100;
    /** Longest directory {@code query}: a room id is at most 64 characters. */
    public static final int MAX_DIRECTORY_QUERY_CHARS = 64;
    /** Longest search {@code query}, in code points. */
    public static final int MAX_SEARCH_QUERY_CHARS = 200;
    public static final int SEARCH_DEFAULT_LIMIT = 20;
    public static final int SEARCH_MAX_LIMIT = 100;
    /** Longest reaction {@code emoji}, in code points (a flag or a family is several). */
    public static final int MAX_EMOJI_CHARS = 16;

    public Limits {
        if (maxFrameBytes < 1024 || maxTextChars < 1 || sendBurst < 1 || sendWindow.isNegative() || sendWindow.isZero()) {
            throw new IllegalArgumentException("limits out of range");
        }
    }
}
