package dev.pulse.node.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.auth0.jwt.JWT;
import com.auth0.jwt.algorithms.Algorithm;
import com.sun.net.httpserver.HttpServer;
import dev.pulse.node.TestNode;
import dev.pulse.node.testkit.ChatPeer;
import dev.pulse.protocol.client.PulseClient;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.RSAPrivateKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Single sign-on (issue 12, optional): a node configured with an OpenID Connect issuer accepts that
 * issuer's RS256 tokens, checked against its JWKS (here a local stub on loopback), its issuer and
 * this application's audience, with the user from preferred_username. Such a token opens sockets,
 * gets tickets and signs out like Pulse's own.
 */
class OidcE2ETest {

    private static final String ISSUER = "https://idp.example.test/realms/acme";
    private static final String AUDIENCE = "pulse-chat";

    @TempDir
    static Path data;
    private static HttpServer jwks;
    private static final AtomicInteger JWKS_FETCHES = new AtomicInteger();
    private static KeyPair issuerKey;
    private static TestNode node;

    @BeforeAll
    static void start() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        issuerKey = generator.generateKeyPair();
        RSAPublicKey publicKey = (RSAPublicKey) issuerKey.getPublic();
        String body = "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"key-1\",\"use\":\"sig\",\"alg\":\"RS256\",\"n\":\""
            + base64Url(publicKey.getModulus()) + "\",\"e\":\"" + base64Url(publicKey.getPublicExponent()) + "\"}]}";
        jwks = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        jwks.createContext("/certs", exchange -> {
            JWKS_FETCHES.incrementAndGet();
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, bytes.length);
            exchange.getResponseBody().write(bytes);
            exchange.close();
        });
        jwks.start();
        node = TestNode.start(data, Map.of("PULSE_AUTH", "accounts",
            "PULSE_OIDC_ISSUER", ISSUER,
            "PULSE_OIDC_JWKS_URL", "http://127.0.0.1:" + jwks.getAddress().getPort() + "/certs",
            "PULSE_OIDC_AUDIENCE", AUDIENCE));
    }

    @AfterAll
    static void stop() {
        if (node != null) {
            node.close();
        }
        if (jwks != null) {
            jwks.stop(0);
        }
    }

    private static String base64Url(BigInteger value) {
        byte[] bytes = value.toByteArray();
        if (bytes[0] == 0 && bytes.length > 1) {
            bytes = java.util.Arrays.copyOfRange(bytes, 1, bytes.length);
        }
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    private static com.auth0.jwt.JWTCreator.Builder idToken(String user) {
        return JWT.create().withIssuer(ISSUER).withAudience(AUDIENCE).withKeyId("key-1")
            .withClaim("preferred_username", user).withJWTId("jti-" + user + "-" + System.nanoTime())
            .withIssuedAt(Instant.now()).withExpiresAt(Instant.now().plus(Duration.ofMinutes(5)));
    }

    private static Algorithm signedByIssuer() {
        return Algorithm.RSA256((RSAPublicKey) issuerKey.getPublic(), (RSAPrivateKey) issuerKey.getPrivate());
    }

    private static void refused(String token) {
        assertThatThrownBy(() -> node.client().connect(token))
            .isInstanceOfSatisfying(PulseClient.HttpFailure.class, e -> assertThat(e.status()).isEqualTo(401));
    }

    @Test
    void aTokenOfTheIssuerOpensASocketAsItsUser() {
        ChatPeer peer = ChatPeer.open(node.client(), idToken("Alice").sign(signedByIssuer()));
        assertThat(peer.expectNext().path("user").asText()).isEqualTo("alice");
        peer.close();
        assertThat(JWKS_FETCHES.get()).as("the JWKS is fetched, then cached").isPositive();
    }

    @Test
    void tokensThatAreNotTheIssuersForThisApplicationAreRefused() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        KeyPair impostor = generator.generateKeyPair();
        refused(idToken("mallory").sign(Algorithm.RSA256((RSAPublicKey) impostor.getPublic(), (RSAPrivateKey) impostor.getPrivate())));
        refused(idToken("mallory").withAudience("another-app").sign(signedByIssuer()));
        refused(idToken("mallory").withIssuer("https://evil.example.test").sign(signedByIssuer()));
        refused(idToken("mallory").withExpiresAt(Instant.now().minus(Duration.ofMinutes(5))).sign(signedByIssuer()));
        refused(idToken("mallory").withKeyId("no-such-key").sign(signedByIssuer()));
        refused(idToken("Not Valid!").sign(signedByIssuer()));
        refused(idToken("mallory").sign(Algorithm.HMAC256("a shared secret that is long enough for hs256")));
        refused(JWT.create().withIssuer(ISSUER).withAudience(AUDIENCE).withClaim("preferred_username", "mallory")
            .withExpiresAt(Instant.now().plusSeconds(60)).sign(Algorithm.none()));
    }

    @Test
    void anIssuersTokenGetsTicketsAndSignsOutLikeOurOwn() {
        String token = idToken("bob").sign(signedByIssuer());
        ChatPeer viaTicket = ChatPeer.openWithTicket(node.client(), node.client().ticket(token));
        assertThat(viaTicket.expectNext().path("user").asText()).isEqualTo("bob");
        assertThat(node.client().logout(token).statusCode()).isEqualTo(204);
        assertThat(viaTicket.expectClosed(Duration.ofSeconds(10)).reason()).isEqualTo("signed out");
        refused(token);
    }
}
