package dev.pulse.protocol;

/** Wire spellings of presence statuses. */
public final class PresenceStatus {
    public static final String ONLINE = "online";
    public static final String OFFLINE = "offline";

    private PresenceStatus() {}
}
