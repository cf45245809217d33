package dev.pulse.node.auth;

import com.auth0.jwt.JWT;
import com.auth0.jwt.JWTVerifier;
import com.auth0.jwt.algorithms.Algorithm;
import com.auth0.jwt.exceptions.JWTVerificationException;
import dev.pulse.protocol.Names;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Login tokens: JWTs signed with HMAC-SHA256, carrying the user name and an expiry. Every node of a
 * cluster must share the secret ({@code PULSE_TOKEN_SECRET}); without one a node makes a random
 * secret of its own, so its tokens work only on itself and die with the process.
 */
public final class TokenService {

    private static final Logger log = LoggerFactory.getLogger(TokenService.class);
    private static final String ISSUER = "pulse";

    public record Token(String token, String user, Instant expiresAt) {}

    /** HMAC-SHA256 wants a key of at least its 256-bit output. */
    public static final int MIN_SECRET_BYTES = 32;

    private final Algorithm algorithm;
    private final JWTVerifier verifier;
    private final Duration ttl;
    private final Clock clock;

    public TokenService(String secret, Duration ttl, Clock clock) {
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
        this.clock = clock;
    }

    public Token issue(String user) {
        Instant now = clock.instant();
        Instant expiresAt = now.plus(ttl);
        String token = JWT.create()
            .withIssuer(ISSUER)
            .withSubject(user)
            .withIssuedAt(now)
            .withExpiresAt(expiresAt)
            .sign(algorithm);
        return new Token(token, user, expiresAt);
    }

    /** The user a valid, unexpired token was issued to. */
    public Optional<String> verify(String token) {
        if (token == null || token.isEmpty() || token.length() > 4096) {
            return Optional.empty();
        }
        try {
            String user = verifier.verify(token).getSubject();
            if (!Names.isValidUser(user) || isExpired(token)) {
                return Optional.empty();
            }
            return Optional.of(user);
        } catch (JWTVerificationException e) {
            return Optional.empty();
        }
    }

    /** The verifier checks expiry against the system clock; this also honours an injected clock (tests). */
    private boolean isExpired(String token) {
        Instant expiresAt = JWT.decode(token).getExpiresAtAsInstant();
        return expiresAt == null || !clock.instant().isBefore(expiresAt);
    }
}
