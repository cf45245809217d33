package dev.pulse.node.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class AllowedOriginsTest {

    private final AllowedOrigins none = new AllowedOrigins(List.of());

    @Test
    void requestsWithoutAnOriginAreNotAffected() {
        assertThat(none.allows(null, "chat.example.com")).isTrue();
        assertThat(none.allows(null, null)).isTrue();
    }

    @Test
    void theNodesOwnOriginIsAllowedOverHttpAndHttps() {
        assertThat(none.allows("http://127.0.0.1:8080", "127.0.0.1:8080")).isTrue();
        assertThat(none.allows("https://chat.example.com", "chat.example.com")).isTrue();
        assertThat(none.allows("HTTPS://Chat.Example.com", "chat.example.com")).as("case").isTrue();
        assertThat(none.allows("http://chat.example.com", "chat.example.com:80")).as("default port").isTrue();
        assertThat(none.allows("https://chat.example.com:443", "chat.example.com")).as("default port").isTrue();
    }

    @Test
    void anotherOriginIsRefused() {
        assertThat(none.allows("https://evil.example", "chat.example.com")).isFalse();
        assertThat(none.allows("http://127.0.0.1:8081", "127.0.0.1:8080")).as("another port").isFalse();
        assertThat(none.allows("https://chat.example.com.evil.example", "chat.example.com")).isFalse();
        assertThat(none.allows("null", "chat.example.com")).as("a sandboxed page or a file").isFalse();
        assertThat(none.allows("https://chat.example.com", null)).as("no Host to compare with").isFalse();
    }

    @Test
    void configuredOriginsAreAllowedToo() {
        AllowedOrigins origins = new AllowedOrigins(List.of("https://app.example.com", " http://localhost:3000/ "));
        assertThat(origins.allows("https://app.example.com", "api.example.com")).isTrue();
        assertThat(origins.allows("http://localhost:3000", "127.0.0.1:8080")).isTrue();
        assertThat(origins.allows("https://other.example.com", "api.example.com")).isFalse();
    }
}
