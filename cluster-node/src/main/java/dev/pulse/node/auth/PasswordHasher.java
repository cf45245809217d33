package dev.pulse.node.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.params.Argon2Parameters;

/**
 * Argon2id password hashes (Bouncy Castle), kept as PHC strings
 * ({@code $argon2id$v=19$m=19456,t=2,p=1$salt$hash}) so the cost can be raised later without
 * breaking stored hashes: each hash is checked with the parameters it was made with. The default cost
 * is OWASP's first recommendation for Argon2id (19 MiB, 2 passes, 1 lane).
 */
public final class PasswordHasher {

    public record Cost(int memoryKib, int iterations, int parallelism) {
        public static final Cost DEFAULT = new Cost(19 * 1024, 2, 1);
    }

    private static final Base64.Encoder B64 = Base64.getEncoder().withoutPadding();
    private static final Base64.Decoder B64_DECODE = Base64.getDecoder();
    private static final int SALT_BYTES = 16;
    private static final int HASH_BYTES = 32;

    private final Cost cost;
    private final SecureRandom random = new SecureRandom();
    /** Checked for unknown users, so they take as long to refuse as a wrong password. */
    private final String decoy;

    public PasswordHasher(Cost cost) {
        this.cost = cost;
        this.decoy = hash("decoy password for unknown users");
    }

    public String hash(String password) {
        byte[] salt = new byte[SALT_BYTES];
        random.nextBytes(salt);
        byte[] hash = argon2(password, salt, cost, HASH_BYTES);
        return "$argon2id$v=19$m=" + cost.memoryKib() + ",t=" + cost.iterations() + ",p=" + cost.parallelism()
            + "$" + B64.encodeToString(salt) + "$" + B64.encodeToString(hash);
    }

    /** Whether {@code password} matches {@code phc}; with a null {@code phc} (no such user) the work is done all the same. */
    public boolean verify(String password, String phc) {
        boolean known = phc != null;
        String[] parts = (known ? phc : decoy).split("\\$");
        // "", "argon2id", "v=19", "m=…,t=…,p=…", salt, hash
        if (parts.length != 6 || !parts[1].equals("argon2id") || !parts[2].equals("v=19")) {
            return false;
        }
        try {
            Cost stored = parseCost(parts[3]);
            byte[] salt = B64_DECODE.decode(parts[4]);
            byte[] expected = B64_DECODE.decode(parts[5]);
            byte[] actual = argon2(password, salt, stored, expected.length);
            return MessageDigest.isEqual(expected, actual) && known;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static Cost parseCost(String text) {
        int m = -1;
        int t = -1;
        int p = -1;
        for (String pair : text.split(",")) {
            String[] kv = pair.split("=", 2);
            if (kv.length != 2) {
                throw new IllegalArgumentException("bad cost " + text);
            }
            int value = Integer.parseInt(kv[1]);
            switch (kv[0]) {
                case "m" -> m = value;
                case "t" -> t = value;
                case "p" -> p = value;
                default -> throw new IllegalArgumentException("bad cost " + text);
            }
        }
        if (m < 8 || t < 1 || p < 1 || m > 4 * 1024 * 1024 || t > 100 || p > 64) {
            throw new IllegalArgumentException("bad cost " + text);
        }
        return new Cost(m, t, p);
    }

    private static byte[] argon2(String password, byte[] salt, Cost cost, int length) {
        Argon2BytesGenerator generator = new Argon2BytesGenerator();
        generator.init(new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id)
            .withVersion(Argon2Parameters.ARGON2_VERSION_13)
            .withSalt(salt)
            .withMemoryAsKB(cost.memoryKib())
            .withIterations(cost.iterations())
            .withParallelism(cost.parallelism())
            .build());
        byte[] out = new byte[length];
        generator.generateBytes(password.getBytes(StandardCharsets.UTF_8), out);
        return out;
    }
}
