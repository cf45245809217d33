package dev.pulse.node.http;

import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Which web pages may open a socket: a browser sends the page's {@code Origin} with every WebSocket
 * upgrade, and nothing else stops another site's script from opening one with the user's token. The
 * node's own origin ({@code http://} or {@code https://} and the request's {@code Host}) and those
 * configured ({@code PULSE_ALLOWED_ORIGINS}) are allowed. Non-browser clients send no {@code Origin}
 * and are not affected (PROTOCOL.md, "Accounts and sign-in").
 */
public final class AllowedOrigins {

    private final Set<String> configured;

    public AllowedOrigins(List<String> configured) {
        this.configured = configured.stream().map(AllowedOrigins::normalize).collect(Collectors.toUnmodifiableSet());
    }

    /** Whether a request with this {@code Origin} header (null: none) and {@code Host} header may upgrade. */
    public boolean allows(String origin, String host) {
        if (origin == null) {
            return true;
        }
        String given = normalize(origin);
        if (configured.contains(given)) {
            return true;
        }
        return host != null && !host.isBlank()
            && (given.equals(normalize("http://" + host)) || given.equals(normalize("https://" + host)));
    }

    /** Lower case, without a trailing slash or the scheme's default port. */
    static String normalize(String origin) {
        String o = origin.trim().toLowerCase(Locale.ROOT);
        if (o.endsWith("/")) {
            o = o.substring(0, o.length() - 1);
        }
        if (o.startsWith("http://") && o.endsWith(":80")) {
            o = o.substring(0, o.length() - 3);
        } else if (o.startsWith("https://") && o.endsWith(":443")) {
            o = o.substring(0, o.length() - 4);
        }
        return o;
    }
}
