package dev.pulse.node.http;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.http.javadsl.model.AttributeKeys;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.RemoteAddress;

/**
 * Which client a request comes from, for bounds per address (wrong passwords). The TCP peer, unless
 * that peer is one of the configured proxies ({@code PULSE_TRUSTED_PROXIES}, addresses or CIDR
 * ranges): then the last {@code X-Forwarded-For} entry, the one the proxy itself appended. Headers
 * of anyone else are never believed: a client could name a new address with each request.
 */
public final class ClientAddress {

    private record Range(byte[] network, int bits) {}

    private final List<Range> proxies;

    public ClientAddress(List<String> trustedProxies) {
        this.proxies = trustedProxies.stream().map(ClientAddress::range).toList();
    }

    String of(HttpRequest request) {
        Optional<InetAddress> peer = request.getAttribute(AttributeKeys.remoteAddress).flatMap(RemoteAddress::getAddress);
        if (peer.isEmpty()) {
            return "unknown";
        }
        if (trusted(peer.get())) {
            Optional<String> forwarded = request.getHeader("X-Forwarded-For").map(HttpHeader::value)
                .map(value -> value.substring(value.lastIndexOf(',') + 1).trim())
                .filter(value -> !value.isEmpty());
            if (forwarded.isPresent()) {
                return forwarded.get();
            }
        }
        return peer.get().getHostAddress();
    }

    private boolean trusted(InetAddress address) {
        byte[] bytes = address.getAddress();
        for (Range range : proxies) {
            if (range.network().length == bytes.length && matches(range, bytes)) {
                return true;
            }
        }
        return false;
    }

    private static boolean matches(Range range, byte[] address) {
        int whole = range.bits() / 8;
        for (int i = 0; i < whole; i++) {
            if (range.network()[i] != address[i]) {
                return false;
            }
        }
        int rest = range.bits() % 8;
        if (rest == 0) {
            return true;
        }
        int mask = 0xff << (8 - rest) & 0xff;
        return (range.network()[whole] & mask) == (address[whole] & mask);
    }

    private static Range range(String text) {
        String[] parts = text.trim().split("/", 2);
        try {
            // Literal addresses only: InetAddress would resolve a name, which a setting must not do.
            if (!parts[0].matches("[0-9a-fA-F:.]+")) {
                throw new IllegalArgumentException("not an IP address: " + text);
            }
            byte[] network = InetAddress.getByName(parts[0]).getAddress();
            int bits = parts.length == 2 ? Integer.parseInt(parts[1]) : network.length * 8;
            if (bits < 0 || bits > network.length * 8) {
                throw new IllegalArgumentException("bad prefix length in " + text);
            }
            return new Range(network, bits);
        } catch (UnknownHostException | NumberFormatException e) {
            throw new IllegalArgumentException("PULSE_TRUSTED_PROXIES: not an address or CIDR range: " + text, e);
        }
    }
}
