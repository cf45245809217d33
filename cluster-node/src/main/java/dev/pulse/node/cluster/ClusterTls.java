package dev.pulse.node.cluster;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Remoting over TLS with mutual authentication ({@code PULSE_CLUSTER_TLS_DIR}): Artery's
 * {@code tls-tcp} transport with Pekko's rotating-keys engine, which reads PEM files ({@code tls.key},
 * {@code tls.crt}, {@code ca.crt}, as {@code bin/pulse-cluster-tls} or a Kubernetes Secret lays them
 * out), reloads them every few minutes, makes every peer present a certificate of the cluster's CA
 * and accepts it only with the same subject name as its own. A process without them cannot join.
 */
public final class ClusterTls {

    public static final List<String> FILES = List.of("tls.key", "tls.crt", "ca.crt");

    private ClusterTls() {}

    /** The remoting settings for the files in {@code dir}; fails at start with what is missing. */
    public static Map<String, Object> settings(Path dir) {
        for (String file : FILES) {
            if (!Files.isReadable(dir.resolve(file))) {
                throw new IllegalStateException("PULSE_CLUSTER_TLS_DIR " + dir + " has no readable " + file
                    + ": make the cluster's certificates with cluster-node/bin/pulse-cluster-tls " + dir);
            }
        }
        String engine = "pekko.remote.artery.ssl.rotating-keys-engine.";
        byte[] password = new byte[16];
        new SecureRandom().nextBytes(password);
        return Map.of(
            "pekko.remote.artery.transport", "tls-tcp",
            "pekko.remote.artery.ssl.ssl-engine-provider", "org.apache.pekko.remote.artery.tcp.ssl.RotatingKeysSSLEngineProvider",
            engine + "key-file", dir.resolve("tls.key").toAbsolutePath().toString(),
            engine + "cert-file", dir.resolve("tls.crt").toAbsolutePath().toString(),
            engine + "ca-cert-file", dir.resolve("ca.crt").toAbsolutePath().toString(),
            // Only guards the in-memory key store the PEM key is wrapped in; not the well-known default.
            engine + "keystore-password", HexFormat.of().formatHex(password));
    }
}
