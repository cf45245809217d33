package dev.pulse.node.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.util.List;
import org.apache.pekko.http.javadsl.model.AttributeKeys;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.RemoteAddress;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.junit.jupiter.api.Test;

class ClientAddressTest {

    private static HttpRequest from(String peer, String forwardedFor) throws Exception {
        HttpRequest request = HttpRequest.create("/api/login")
            .addAttribute(AttributeKeys.remoteAddress, RemoteAddress.create(InetAddress.getByName(peer)));
        return forwardedFor == null ? request : request.addHeader(RawHeader.create("X-Forwarded-For", forwardedFor));
    }

    @Test
    void withoutTrustedProxiesTheTcpPeerIsTheClientWhateverItsHeadersSay() throws Exception {
        ClientAddress clients = new ClientAddress(List.of());
        assertThat(clients.of(from("203.0.113.7", null))).isEqualTo("203.0.113.7");
        assertThat(clients.of(from("203.0.113.7", "198.51.100.1"))).isEqualTo("203.0.113.7");
        assertThat(clients.of(HttpRequest.create("/"))).isEqualTo("unknown");
    }

    @Test
    void aTrustedProxyNamesTheClientInTheEntryItAppended() throws Exception {
        ClientAddress clients = new ClientAddress(List.of("10.0.0.0/8", "127.0.0.1"));
        // "made-up" was sent by the client itself; the proxy appended what it saw
        assertThat(clients.of(from("10.1.2.3", "made-up, 198.51.100.9"))).isEqualTo("198.51.100.9");
        assertThat(clients.of(from("127.0.0.1", "198.51.100.10"))).isEqualTo("198.51.100.10");
        assertThat(clients.of(from("10.1.2.3", null))).isEqualTo("10.1.2.3");
        assertThat(clients.of(from("11.0.0.1", "198.51.100.9"))).as("outside 10/8").isEqualTo("11.0.0.1");
        assertThat(clients.of(from("127.0.0.2", "198.51.100.9"))).as("a /32").isEqualTo("127.0.0.2");
        assertThat(new ClientAddress(List.of("10.128.0.0/9")).of(from("10.127.255.255", "x"))).isEqualTo("10.127.255.255");
        assertThat(new ClientAddress(List.of("10.128.0.0/9")).of(from("10.200.0.1", "x"))).isEqualTo("x");
        assertThat(new ClientAddress(List.of("::1")).of(from("::1", "2001:db8::5"))).isEqualTo("2001:db8::5");
    }

    @Test
    void proxiesAreAddressesNotNames() {
        assertThatThrownBy(() -> new ClientAddress(List.of("lb.example.com"))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ClientAddress(List.of("10.0.0.0/33"))).isInstanceOf(IllegalArgumentException.class);
    }
}
