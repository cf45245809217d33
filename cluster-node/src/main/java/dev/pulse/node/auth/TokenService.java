package dev.pulse.node.auth;

import com.auth0.jwt.JWT;
import com.auth0.jwt.JWTVerifier;
import com.auth0.jwt.algorithms.Algorithm;
import com.auth0.jwt.exceptions.JWTVerificationException;
import com.auth0.jwt.interfaces.DecodedJWT;
import dev.pulse.protocol.Names;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Login tokens and WebSocket tickets: JWTs signed with HMAC-SHA256. A token carries the user name, an
 * id (so it can be revoked by logout: the user's entity keeps the revoked ids) and an expiry. A
 * ticket is a short-lived stand-in for a token in a {@code /ws} URL: it names the token it was made
 * from (a socket opened with it lives and dies with that token) and has an id of its own, so it is
 * used once. Every node of a cluster must share the secret ({@code PULSE_TOKEN_SECRET}); without one a
 * node makes a random secret of its own, so its tokens work only on itself and die with the process.
 */
public final class TokenService {

    private static final Logger log = LoggerFactory.getLogger(TokenService.class);
    private static final String ISSUER = "pulse";

    public record Token(String token, String user, String id, Instant expiresAt) {}

    public record Ticket(String ticket, Instant expiresAt) {}

    /**
     * What a valid token or ticket proves: the user, the token (id and expiry) it is or stands for,
     * and for a ticket its own id.
     */
    public record Credential(String user, String tokenId, Instant tokenExpiresAt, String ticketId) {}

    private static final String TYPE = "typ";
    private static final String TICKET = "ticket";
    private static final String TOKEN_ID = "tid";
    private static final String TOKEN_EXPIRES = "texp";

    /** HMAC-SHA256 wants a key of at least its 256-bit output. */
    public static final int MIN_SECRET_BYTES = 32;

    private final Algorithm algorithm;
    private final JWTVerifier verifier;
    private final Duration ttl;
    private final Duration ticketTtl;
    private final Clock clock;
    private final OidcTokens oidc;
    private final SecureRandom random = new SecureRandom();

    public TokenService(String secret, Duration ttl, Clock clock) {
        this(secret, ttl, Duration.ofSeconds(30), clock);
    }

    public TokenService(String secret, Duration ttl, Duration ticketTtl, Clock clock) {
        this(secret, ttl, ticketTtl, clock, null);
    }

    /** {@code oidc} (nullable): an external issuer whose tokens count as well (single sign-on). */
    public TokenService(String secret, Duration ttl, Duration ticketTtl, Clock clock, OidcTokens oidc) {
        byte[] key;
        if (secret == null || secret.isBlank()) {
            log.warn("PULSE_TOKEN_SECRET is not set: using a random per-process secret; tokens will not work on other nodes or after a restart");
            key = new byte[32];
            new SecureRandom().nextBytes(key);
        } else {
            key = secret.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            if (key.length < MIN_SECRET_BYTES) {
                // A short HMAC key can be guessed offline from any one token: refuse rather than warn.
                throw new IllegalStateException("PULSE_TOKEN_SECRET has " + key.length + " bytes; it needs at least "
                    + MIN_SECRET_BYTES + " (make one with: openssl rand -base64 48)");
            }
        }
        this.algorithm = Algorithm.HMAC256(key);
        this.verifier = JWT.require(algorithm).withIssuer(ISSUER).acceptLeeway(0).build();
        this.ttl = ttl;
        this.ticketTtl = ticketTtl;
        this.clock = clock;
        this.oidc = oidc;
    }

    private String newId() {
        byte[] id = new byte[16];
        random.nextBytes(id);
        return java.util.HexFormat.of().formatHex(id);
    }

    public Token issue(String user) {
        Instant now = clock.instant();
        Instant expiresAt = now.plus(ttl);
        String id = newId();
        String token = JWT.create()
            .withIssuer(ISSUER)
            .withSubject(user)
            .withJWTId(id)
            .withIssuedAt(now)
            .withExpiresAt(expiresAt)
            .sign(algorithm);
        return new Token(token, user, id, expiresAt);
    }

    /** A single-use ticket for {@code credential}'s token, valid for the ticket TTL (never past the token). */
    public Ticket issueTicket(Credential credential) {
        Instant now = clock.instant();
        Instant expiresAt = now.plus(ticketTtl).isBefore(credential.tokenExpiresAt()) ? now.plus(ticketTtl)
            : credential.tokenExpiresAt();
        String ticket = JWT.create()
            .withIssuer(ISSUER)
            .withSubject(credential.user())
            .withJWTId(newId())
            .withClaim(TYPE, TICKET)
            .withClaim(TOKEN_ID, credential.tokenId())
            .withClaim(TOKEN_EXPIRES, credential.tokenExpiresAt().getEpochSecond())
            .withIssuedAt(now)
            .withExpiresAt(expiresAt)
            .sign(algorithm);
        return new Ticket(ticket, expiresAt);
    }

    /** What a valid, unexpired login token proves (a ticket is no token): ours, or the OIDC issuer's. */
    public Optional<Credential> verify(String token) {
        Optional<Credential> ours = decode(token).filter(jwt -> jwt.getClaim(TYPE).isMissing())
            .map(jwt -> new Credential(jwt.getSubject(), jwt.getId(), jwt.getExpiresAtAsInstant(), null));
        if (ours.isPresent() || oidc == null || token == null || token.length() > 8192 || !oidc.claims(token)) {
            return ours;
        }
        return oidc.verify(token);
    }

    /** What a valid, unexpired ticket proves (a token is no ticket). Whether it was used is the user entity's to say. */
    public Optional<Credential> verifyTicket(String ticket) {
        return decode(ticket).filter(jwt -> TICKET.equals(jwt.getClaim(TYPE).asString()))
            .filter(jwt -> jwt.getClaim(TOKEN_ID).asString() != null && jwt.getClaim(TOKEN_EXPIRES).asLong() != null)
            .map(jwt -> new Credential(jwt.getSubject(), jwt.getClaim(TOKEN_ID).asString(),
                Instant.ofEpochSecond(jwt.getClaim(TOKEN_EXPIRES).asLong()), jwt.getId()));
    }

    private Optional<DecodedJWT> decode(String token) {
        if (token == null || token.isEmpty() || token.length() > 4096) {
            return Optional.empty();
        }
        try {
            DecodedJWT jwt = verifier.verify(token);
            // The verifier checks expiry against the system clock; this also honours an injected clock (tests).
            Instant expiresAt = jwt.getExpiresAtAsInstant();
            if (!Names.isValidUser(jwt.getSubject()) || jwt.getId() == null || expiresAt == null
                || !clock.instant().isBefore(expiresAt)) {
                return Optional.empty();
            }
            return Optional.of(jwt);
        } catch (JWTVerificationException e) {
            return Optional.empty();
        }
    }
}
