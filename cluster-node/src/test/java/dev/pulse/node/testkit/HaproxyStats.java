package dev.pulse.node.testkit;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/** HAProxy's view of the Pulse nodes behind it, from its stats page in CSV. */
public final class HaproxyStats {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

    private HaproxyStats() {}

    /**
     * The status of each server of the backend {@code nodes} ("UP", "DOWN", "UP 1/2", …; CSV columns
     * pxname, svname, …, status 18th); empty when the stats page does not answer.
     */
    public static Map<String, String> servers(URI csv) {
        Map<String, String> status = new LinkedHashMap<>();
        try {
            HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(csv).timeout(Duration.ofSeconds(2)).build(),
                HttpResponse.BodyHandlers.ofString());
            for (String line : response.body().split("\n")) {
                String[] columns = line.split(",");
                if (columns.length > 17 && columns[0].equals("nodes") && columns[1].startsWith("node")) {
                    status.put(columns[1], columns[17]);
                }
            }
        } catch (IOException e) {
            return Map.of();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
        return status;
    }
}
