package dev.pulse.node.deploy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * The parts of the Kubernetes API that Pulse's nodes use, over HTTPS as in a cluster, with the service
 * account's bearer token: {@code GET /api/v1/namespaces/<namespace>/pods?labelSelector=<selector>}
 * (kubernetes-api discovery) and coordination.k8s.io/v1 Leases (the split brain resolver's lease:
 * get, create, and update guarded by resourceVersion). It writes what Kubernetes mounts into a pod (the
 * API's CA certificate, the token, the namespace) into a directory, and answers with a PodList of the
 * pods {@link #addPod added}: Running, on 127.0.0.1, each with its own management port. Requests
 * without the token get 401, pods of another namespace or selector are not listed, a stale lease
 * update gets 409 Conflict, as the real API does.
 */
public final class StubKubernetesApi implements AutoCloseable {

    /** One request as the stub saw it. */
    public record Request(String method, String path, Map<String, String> query, boolean authorized) {}

    private record Pod(String name, String namespace, Map<String, String> labels, String phase, int managementPort) {}

    private static final String TOKEN = "stub-service-account-token";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpsServer server;
    private final Path serviceAccount;
    private final List<Pod> pods = new CopyOnWriteArrayList<>();
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    /** Leases by namespace/name: the object as last written, with its resourceVersion. */
    private final Map<String, Map<String, Object>> leases = new java.util.concurrent.ConcurrentHashMap<>();

    private StubKubernetesApi(HttpsServer server, Path serviceAccount) {
        this.server = server;
        this.serviceAccount = serviceAccount;
    }

    /**
     * Starts on a free port of 127.0.0.1 with a fresh self-signed certificate for that address.
     *
     * @param dir       where the certificate and the pod's service account files go
     * @param namespace the namespace the pod's service account file names
     */
    public static StubKubernetesApi start(Path dir, String namespace) {
        try {
            Path serviceAccount = Files.createDirectories(dir.resolve("serviceaccount"));
            Path keyStore = dir.resolve("api-server.p12");
            char[] password = "stub-password".toCharArray();
            keytool("-genkeypair", "-alias", "api", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
                "-dname", "CN=kubernetes", "-ext", "SAN=ip:127.0.0.1,dns:localhost",
                "-keystore", keyStore.toString(), "-storetype", "PKCS12",
                "-storepass", new String(password), "-keypass", new String(password));
            keytool("-exportcert", "-rfc", "-alias", "api", "-keystore", keyStore.toString(),
                "-storepass", new String(password), "-file", serviceAccount.resolve("ca.crt").toString());
            Files.writeString(serviceAccount.resolve("token"), TOKEN);
            Files.writeString(serviceAccount.resolve("namespace"), namespace);

            KeyStore keys = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(keyStore)) {
                keys.load(in, password);
            }
            KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keyManagers.init(keys, password);
            SSLContext tls = SSLContext.getInstance("TLS");
            tls.init(keyManagers.getKeyManagers(), null, null);

            HttpsServer server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
            server.setHttpsConfigurator(new HttpsConfigurator(tls));
            StubKubernetesApi api = new StubKubernetesApi(server, serviceAccount);
            server.createContext("/", api::handle);
            server.start();
            return api;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A Running pod on 127.0.0.1 whose container names {@code managementPort} "management". */
    public void addPod(String name, String namespace, Map<String, String> labels, int managementPort) {
        pods.add(new Pod(name, namespace, labels, "Running", managementPort));
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /** The directory Kubernetes mounts at /var/run/secrets/kubernetes.io/serviceaccount. */
    public Path serviceAccountDir() {
        return serviceAccount;
    }

    public List<Request> requests() {
        return List.copyOf(requests);
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            Map<String, String> query = query(exchange.getRequestURI().getRawQuery());
            boolean authorized = ("Bearer " + TOKEN).equals(exchange.getRequestHeaders().getFirst("Authorization"));
            requests.add(new Request(exchange.getRequestMethod(), path, query, authorized));
            String[] parts = path.split("/"); // "", api, v1, namespaces, <namespace>, pods
            if (!authorized) {
                respond(exchange, 401, status("Unauthorized", 401));
            } else if (exchange.getRequestMethod().equals("GET") && parts.length == 6 && parts[1].equals("api")
                && parts[2].equals("v1") && parts[3].equals("namespaces") && parts[5].equals("pods")) {
                respond(exchange, 200, podList(parts[4], query.getOrDefault("labelSelector", "")));
            } else if (parts.length >= 7 && String.join("/", List.of(parts).subList(1, 4)).equals("apis/coordination.k8s.io/v1")
                && parts[4].equals("namespaces") && parts[6].equals("leases")) {
                lease(exchange, parts[5], parts.length > 7 ? parts[7] : "");
            } else {
                respond(exchange, 404, status("NotFound", 404));
            }
        }
    }

    /** The current holder of a lease, or empty when nobody (or no lease) holds it. */
    @SuppressWarnings("unchecked")
    public java.util.Optional<String> leaseHolder(String namespace, String name) {
        Map<String, Object> lease = leases.get(namespace + "/" + name);
        return java.util.Optional.ofNullable(lease)
            .map(l -> (String) ((Map<String, Object>) l.get("spec")).get("holderIdentity"))
            .filter(holder -> !holder.isEmpty());
    }

    @SuppressWarnings("unchecked")
    private synchronized void lease(HttpExchange exchange, String namespace, String name) throws IOException {
        String method = exchange.getRequestMethod();
        if (method.equals("GET")) {
            Map<String, Object> lease = leases.get(namespace + "/" + name);
            respond(exchange, lease == null ? 404 : 200, lease == null ? status("NotFound", 404) : JSON.writeValueAsString(lease));
            return;
        }
        Map<String, Object> body = JSON.readValue(exchange.getRequestBody(), Map.class);
        Map<String, Object> metadata = new java.util.HashMap<>((Map<String, Object>) body.get("metadata"));
        String key = namespace + "/" + metadata.get("name");
        Map<String, Object> current = leases.get(key);
        if (method.equals("POST") && name.isEmpty()) {
            if (current != null) {
                respond(exchange, 409, status("AlreadyExists", 409));
                return;
            }
            metadata.put("resourceVersion", "1");
            Map<String, Object> created = Map.of("apiVersion", "coordination.k8s.io/v1", "kind", "Lease",
                "metadata", metadata, "spec", body.get("spec"));
            leases.put(key, created);
            respond(exchange, 201, JSON.writeValueAsString(created));
        } else if (method.equals("PUT") && current != null && key.equals(namespace + "/" + name)) {
            String version = (String) ((Map<String, Object>) current.get("metadata")).get("resourceVersion");
            if (!version.equals(metadata.get("resourceVersion"))) {
                respond(exchange, 409, status("Conflict", 409));
                return;
            }
            metadata.put("resourceVersion", String.valueOf(Long.parseLong(version) + 1));
            Map<String, Object> updated = Map.of("apiVersion", "coordination.k8s.io/v1", "kind", "Lease",
                "metadata", metadata, "spec", body.get("spec"));
            leases.put(key, updated);
            respond(exchange, 200, JSON.writeValueAsString(updated));
        } else {
            respond(exchange, 404, status("NotFound", 404));
        }
    }

    private String podList(String namespace, String labelSelector) throws IOException {
        List<Object> items = new ArrayList<>();
        for (Pod pod : pods) {
            if (pod.namespace().equals(namespace) && matches(labelSelector, pod.labels())) {
                items.add(Map.of(
                    "metadata", Map.of("name", pod.name(), "namespace", pod.namespace(), "labels", pod.labels()),
                    "spec", Map.of("containers", List.of(Map.of("name", "pulse", "ports", List.of(
                        Map.of("name", "http", "containerPort", 8080),
                        Map.of("name", "remoting", "containerPort", 7355),
                        Map.of("name", "management", "containerPort", pod.managementPort()))))),
                    "status", Map.of("phase", pod.phase(), "podIP", "127.0.0.1",
                        "containerStatuses", List.of(Map.of("name", "pulse", "state", Map.of("running", Map.of()))))));
            }
        }
        return JSON.writeValueAsString(Map.of("kind", "PodList", "apiVersion", "v1", "items", items));
    }

    /** Equality-based selectors only ({@code a=b,c=d}), which is what Pulse is configured with. */
    private static boolean matches(String selector, Map<String, String> labels) {
        for (String term : selector.split(",")) {
            String[] keyValue = term.split("=", 2);
            if (keyValue.length != 2 || !keyValue[1].equals(labels.get(keyValue[0]))) {
                return false;
            }
        }
        return true;
    }

    private static String status(String reason, int code) throws IOException {
        return JSON.writeValueAsString(Map.of("kind", "Status", "apiVersion", "v1", "status", "Failure",
            "reason", reason, "code", code));
    }

    private static void respond(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> query = new java.util.HashMap<>();
        if (raw != null) {
            for (String pair : raw.split("&")) {
                String[] keyValue = pair.split("=", 2);
                query.put(URLDecoder.decode(keyValue[0], StandardCharsets.UTF_8),
                    keyValue.length == 2 ? URLDecoder.decode(keyValue[1], StandardCharsets.UTF_8) : "");
            }
        }
        return query;
    }

    private static void keytool(String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
                throw new IllegalStateException("keytool " + args[0] + " failed: " + output);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
