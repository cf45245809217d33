package dev.pulse.node.auth;

import com.auth0.jwk.JwkException;
import com.auth0.jwk.JwkProvider;
import com.auth0.jwk.JwkProviderBuilder;
import com.auth0.jwt.JWT;
import com.auth0.jwt.algorithms.Algorithm;
import com.auth0.jwt.exceptions.JWTVerificationException;
import com.auth0.jwt.interfaces.DecodedJWT;
import dev.pulse.protocol.Names;
import java.net.MalformedURLException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.interfaces.RSAPublicKey;
import java.time.Clock;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Single sign-on: ID or access tokens of an external OpenID Connect issuer, accepted where Pulse's
 * own tokens are. A token counts when it is signed (RS256) by a key of the issuer's JWKS (auth0's
 * jwks-rsa fetches it, caches keys for hours and refetches for an unknown key id, at most ten times a
 * minute), names the configured issuer and audience, has not expired, and its user claim
 * ({@code preferred_username} by default, lower-cased) is a valid Pulse name. A token without a
 * {@code jti} is known by its SHA-256, so logout works for it too.
 */
public final class OidcTokens {

    public record Settings(String issuer, String jwksUrl, String audience, String userClaim) {
        public boolean enabled() {
            return !issuer.isBlank();
        }
    }

    private final Settings settings;
    private final JwkProvider keys;
    private final Clock clock;

    public OidcTokens(Settings settings, Clock clock) {
        this.settings = settings;
        this.clock = clock;
        try {
            this.keys = new JwkProviderBuilder(URI.create(settings.jwksUrl()).toURL())
                .cached(10, 6, TimeUnit.HOURS)
                .rateLimited(10, 1, TimeUnit.MINUTES)
                .timeouts(2_000, 2_000)
                .build();
        } catch (MalformedURLException | IllegalArgumentException e) {
            throw new IllegalStateException("pulse.auth.oidc.jwks-url is not a URL: " + settings.jwksUrl(), e);
        }
        if (settings.audience().isBlank()) {
            throw new IllegalStateException("pulse.auth.oidc.audience must be set with an issuer: a token for "
                + "another application of the same issuer must not sign anyone in here");
        }
    }

    /** Whether {@code token} claims to come from this issuer (before any check). */
    boolean claims(String token) {
        try {
            return settings.issuer().equals(JWT.decode(token).getIssuer());
        } catch (JWTVerificationException e) {
            return false;
        }
    }

    /** The user and token id of a valid token of the issuer. */
    Optional<TokenService.Credential> verify(String token) {
        try {
            DecodedJWT unverified = JWT.decode(token);
            if (unverified.getKeyId() == null || !"RS256".equals(unverified.getAlgorithm())) {
                return Optional.empty();
            }
            RSAPublicKey key = (RSAPublicKey) keys.get(unverified.getKeyId()).getPublicKey();
            DecodedJWT jwt = JWT.require(Algorithm.RSA256(key, null))
                .withIssuer(settings.issuer())
                .withAudience(settings.audience())
                .acceptLeeway(30)
                .build()
                .verify(token);
            if (jwt.getExpiresAtAsInstant() == null || !clock.instant().isBefore(jwt.getExpiresAtAsInstant().plusSeconds(30))) {
                return Optional.empty();
            }
            String claim = jwt.getClaim(settings.userClaim()).asString();
            String user = claim == null ? null : claim.toLowerCase(Locale.ROOT);
            if (!Names.isValidUser(user)) {
                return Optional.empty();
            }
            String id = jwt.getId() != null ? "oidc:" + jwt.getId() : "oidc:" + sha256(token);
            return Optional.of(new TokenService.Credential(user, id, jwt.getExpiresAtAsInstant(), null));
        } catch (JWTVerificationException | JwkException | ClassCastException e) {
            return Optional.empty();
        }
    }

    private static String sha256(String token) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
