package dev.pulse.node.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.auth0.jwt.JWT;
import com.auth0.jwt.algorithms.Algorithm;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class TokenServiceTest {

    private static final String SECRET = "a-test-secret-of-at-least-32-bytes!!";
    private static final Duration TTL = Duration.ofHours(24);

    private static Clock fixedAt(Instant instant) {
        return Clock.fixed(instant, ZoneOffset.UTC);
    }

    private static Instant now() {
        return Instant.now().truncatedTo(ChronoUnit.SECONDS);
    }

    @Test
    void anIssuedTokenVerifiesToItsUser() {
        Instant now = now();
        TokenService tokens = new TokenService(SECRET, TTL, fixedAt(now));

        TokenService.Token token = tokens.issue("alice");

        assertThat(token.user()).isEqualTo("alice");
        assertThat(token.expiresAt()).isEqualTo(now.plus(TTL));
        assertThat(token.token()).isNotBlank();
        assertThat(tokens.verify(token.token()).map(TokenService.Credential::user)).contains("alice");
        // Another node with the same secret accepts it too.
        assertThat(new TokenService(SECRET, TTL, Clock.systemUTC()).verify(token.token()).map(TokenService.Credential::user)).contains("alice");
    }

    @Test
    void aTokenIssuedWithAClockInThePastIsExpired() {
        Instant longAgo = now().minus(Duration.ofDays(2));
        String token = new TokenService(SECRET, TTL, fixedAt(longAgo)).issue("alice").token();

        assertThat(new TokenService(SECRET, TTL, Clock.systemUTC()).verify(token)).isEmpty();
    }

    @Test
    void aTokenIsRejectedOnceTheInjectedClockReachesItsExpiry() {
        Instant now = now();
        String token = new TokenService(SECRET, Duration.ofHours(1), fixedAt(now)).issue("alice").token();

        assertThat(new TokenService(SECRET, TTL, fixedAt(now.plus(Duration.ofMinutes(59)))).verify(token).map(TokenService.Credential::user)).contains("alice");
        assertThat(new TokenService(SECRET, TTL, fixedAt(now.plus(Duration.ofHours(1)))).verify(token)).isEmpty();
        assertThat(new TokenService(SECRET, TTL, fixedAt(now.plus(Duration.ofHours(2)))).verify(token)).isEmpty();
    }

    @Test
    void aTokenSignedWithAnotherSecretIsRejected() {
        String forged = new TokenService("another-secret-of-at-least-32-bytes!", TTL, Clock.systemUTC()).issue("alice").token();

        assertThat(new TokenService(SECRET, TTL, Clock.systemUTC()).verify(forged)).isEmpty();
    }

    @Test
    void aTokenWithATamperedSubjectIsRejected() {
        TokenService tokens = new TokenService(SECRET, TTL, Clock.systemUTC());
        String[] parts = tokens.issue("alice").token().split("\\.");
        Base64.Decoder decoder = Base64.getUrlDecoder();
        Base64.Encoder encoder = Base64.getUrlEncoder().withoutPadding();
        String payload = new String(decoder.decode(parts[1]), StandardCharsets.UTF_8).replace("\"alice\"", "\"admin\"");
        String tampered = parts[0] + "." + encoder.encodeToString(payload.getBytes(StandardCharsets.UTF_8)) + "." + parts[2];

        assertThat(tokens.verify(tampered)).isEmpty();
    }

    @Test
    void unsignedTokensAndOtherIssuersAreRejected() {
        TokenService tokens = new TokenService(SECRET, TTL, Clock.systemUTC());
        Instant expires = Instant.now().plus(Duration.ofHours(1));
        String unsigned = JWT.create().withIssuer("pulse").withSubject("alice").withExpiresAt(expires).sign(Algorithm.none());
        String otherIssuer = JWT.create().withIssuer("someone-else").withSubject("alice").withExpiresAt(expires)
            .sign(Algorithm.HMAC256(SECRET.getBytes(StandardCharsets.UTF_8)));
        String noExpiry = JWT.create().withIssuer("pulse").withSubject("alice")
            .sign(Algorithm.HMAC256(SECRET.getBytes(StandardCharsets.UTF_8)));

        assertThat(tokens.verify(unsigned)).isEmpty();
        assertThat(tokens.verify(otherIssuer)).isEmpty();
        assertThat(tokens.verify(noExpiry)).isEmpty();
    }

    @Test
    void aValidlySignedTokenForAnInvalidUserNameIsRejected() {
        TokenService tokens = new TokenService(SECRET, TTL, Clock.systemUTC());
        assertThat(tokens.verify(tokens.issue("Not A Valid Name").token())).isEmpty();
    }

    @Test
    void garbageIsRejected() {
        TokenService tokens = new TokenService(SECRET, TTL, Clock.systemUTC());
        assertThat(tokens.verify(null)).isEmpty();
        assertThat(tokens.verify("")).isEmpty();
        assertThat(tokens.verify("not-a-token")).isEmpty();
        assertThat(tokens.verify("a.b.c")).isEmpty();
        assertThat(tokens.verify("....")).isEmpty();
        assertThat(tokens.verify("x".repeat(10_000))).isEmpty();
    }

    @Test
    void withoutASecretEachInstanceSignsWithItsOwnRandomSecret() {
        TokenService first = new TokenService("", TTL, Clock.systemUTC());
        TokenService second = new TokenService(null, TTL, Clock.systemUTC());
        TokenService third = new TokenService("   ", TTL, Clock.systemUTC());

        String fromFirst = first.issue("alice").token();
        assertThat(first.verify(fromFirst).map(TokenService.Credential::user)).contains("alice");
        assertThat(second.verify(fromFirst)).isEmpty();
        assertThat(third.verify(fromFirst)).isEmpty();
        assertThat(second.verify(second.issue("bob").token()).map(TokenService.Credential::user)).contains("bob");
        assertThat(third.verify(third.issue("carol").token()).map(TokenService.Credential::user)).contains("carol");
        assertThat(first.verify(second.issue("bob").token())).isEmpty();
    }

    @Test
    void eachTokenHasItsOwnIdAndATicketStandsForItsTokenOnlyAsATicket() {
        TokenService tokens = new TokenService(SECRET, TTL, Duration.ofSeconds(30), Clock.systemUTC());
        TokenService.Token one = tokens.issue("alice");
        TokenService.Token two = tokens.issue("alice");
        assertThat(one.id()).isNotEqualTo(two.id());
        TokenService.Credential credential = tokens.verify(one.token()).orElseThrow();
        assertThat(credential).isEqualTo(new TokenService.Credential("alice", one.id(),
            one.expiresAt().truncatedTo(java.time.temporal.ChronoUnit.SECONDS), null));

        TokenService.Ticket ticket = tokens.issueTicket(credential);
        assertThat(Duration.between(Instant.now(), ticket.expiresAt())).isBetween(Duration.ofSeconds(25), Duration.ofSeconds(30));
        TokenService.Credential viaTicket = tokens.verifyTicket(ticket.ticket()).orElseThrow();
        assertThat(viaTicket.user()).isEqualTo("alice");
        assertThat(viaTicket.tokenId()).isEqualTo(one.id());
        assertThat(viaTicket.tokenExpiresAt()).isEqualTo(credential.tokenExpiresAt());
        assertThat(viaTicket.ticketId()).isNotNull().isNotEqualTo(one.id());
        // Neither passes for the other: a ticket in ?token= or a token in ?ticket= is refused.
        assertThat(tokens.verify(ticket.ticket())).isEmpty();
        assertThat(tokens.verifyTicket(one.token())).isEmpty();
        // A ticket expires after its own short life.
        Instant later = Instant.now().plus(Duration.ofSeconds(31));
        assertThat(new TokenService(SECRET, TTL, Duration.ofSeconds(30), fixedAt(later)).verifyTicket(ticket.ticket())).isEmpty();
    }

    @Test
    void aSecretShorterThan32BytesIsRefused() {
        assertThatThrownBy(() -> new TokenService("x".repeat(31), TTL, Clock.systemUTC()))
            .isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("PULSE_TOKEN_SECRET has 31 bytes")
            .hasMessageContaining("at least 32");
        // bytes, not characters: 11 three-byte characters are 33 bytes
        assertThat(new TokenService("\u20ac".repeat(11), TTL, Clock.systemUTC()).issue("alice").token()).isNotBlank();
        assertThat(new TokenService("x".repeat(32), TTL, Clock.systemUTC()).issue("alice").token()).isNotBlank();
    }

    @Test
    void noSecretMeansARandomOneOfThisProcess() {
        String token = new TokenService("", TTL, Clock.systemUTC()).issue("alice").token();
        assertThat(new TokenService(" ", TTL, Clock.systemUTC()).verify(token)).isEmpty();
    }
}
