package dev.pulse.perf;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The traffic between the nodes of a cluster on one machine, as the kernel counts it: for each node,
 * the bytes received on the established TCP connections of its cluster (Artery) port, i.e. what the
 * other nodes sent it, from {@code tcp_info} through {@code ss -tin} (iproute2). Each Artery
 * connection is counted once, on its accepting side. Gossip and heartbeats are included; a connection
 * that closes in between takes its bytes with it (the nodes of a healthy cluster keep theirs).
 */
final class ClusterTraffic {

    private static final Pattern LOCAL_PORT = Pattern.compile("^\\S+\\s+\\S+\\s+\\S+:(\\d+)\\s");
    private static final Pattern RECEIVED = Pattern.compile("bytes_received:(\\d+)");

    private ClusterTraffic() {}

    /** Bytes received so far on each of {@code ports} (same order); all -1 when {@code ss} is not available. */
    static long[] bytesIn(List<Integer> ports) {
        long[] total = new long[ports.size()];
        if (ports.isEmpty()) {
            return total;
        }
        StringBuilder filter = new StringBuilder("( ");
        for (int i = 0; i < ports.size(); i++) {
            filter.append(i == 0 ? "" : " or ").append("sport = :").append(ports.get(i));
        }
        filter.append(" )");
        String out;
        try {
            Process ss = new ProcessBuilder("ss", "-tinH", "state", "established", filter.toString()).redirectErrorStream(true).start();
            out = new String(ss.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!ss.waitFor(30, TimeUnit.SECONDS) || ss.exitValue() != 0) {
                throw new IOException("ss failed: " + out);
            }
        } catch (IOException | InterruptedException e) {
            java.util.Arrays.fill(total, -1);
            return total;
        }
        int current = -1;
        for (String line : out.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            if (!Character.isWhitespace(line.charAt(0))) { // a socket: Recv-Q Send-Q Local:Port Peer:Port
                Matcher m = LOCAL_PORT.matcher(line);
                current = m.find() ? ports.indexOf(Integer.parseInt(m.group(1))) : -1;
            } else if (current >= 0) { // its tcp_info
                Matcher m = RECEIVED.matcher(line);
                if (m.find()) {
                    total[current] += Long.parseLong(m.group(1));
                }
                current = -1;
            }
        }
        return total;
    }
}
