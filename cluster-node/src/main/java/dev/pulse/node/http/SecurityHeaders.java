package dev.pulse.node.http;

import java.util.List;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;

/**
 * Headers on every HTTP answer of the node (pages, assets, API): the web UI loads only its own
 * scripts, styles and sockets, cannot be framed by another site (clickjacking), and browsers neither
 * sniff content types nor send the page's address (with a room name in it) elsewhere.
 */
final class SecurityHeaders {

    /** The UI's own files only; {@code data:} for the inline SVG favicon; sockets back to this node. */
    static final String CONTENT_SECURITY_POLICY = String.join("; ",
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'");

    static final List<HttpHeader> ALL = List.of(
        RawHeader.create("Content-Security-Policy", CONTENT_SECURITY_POLICY),
        RawHeader.create("X-Content-Type-Options", "nosniff"),
        RawHeader.create("X-Frame-Options", "DENY"),
        RawHeader.create("Referrer-Policy", "no-referrer"));

    private SecurityHeaders() {}
}
