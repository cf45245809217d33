package dev.pulse.node.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;

/** The repository's deployment files and the command-line tools that build and check them. */
final class Tools {

    /** What a command printed, and how it ended. */
    record Result(int exitCode, String stdout, String stderr) {
        Result ok(String what) {
            if (exitCode != 0) {
                throw new AssertionError(what + " exited with " + exitCode + ":\n" + stderr + stdout);
            }
            return this;
        }
    }

    private Tools() {}

    /** The repository's top level (the tests run in cluster-node/). */
    static Path repository() {
        Path here = Path.of("").toAbsolutePath();
        for (Path dir = here; dir != null; dir = dir.getParent()) {
            if (Files.isDirectory(dir.resolve("k8s")) && Files.isDirectory(dir.resolve("cluster-node"))) {
                return dir;
            }
        }
        throw new IllegalStateException("no repository above " + here);
    }

    /**
     * Runs a command that must be installed (.ci/run installs what CI lacks); a missing one fails
     * the test with what to install.
     */
    static Result run(Path dir, String stdin, String... command) {
        try {
            Path out = Files.createTempFile("tool", ".out");
            Path err = Files.createTempFile("tool", ".err");
            try {
                ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile())
                    .redirectOutput(out.toFile()).redirectError(err.toFile());
                Process process;
                try {
                    process = builder.start();
                } catch (IOException e) {
                    throw new AssertionError(command[0] + " is not installed (.ci/run installs it): " + e.getMessage(), e);
                }
                try (var in = process.getOutputStream()) {
                    if (stdin != null) {
                        in.write(stdin.getBytes(StandardCharsets.UTF_8));
                    }
                }
                if (!process.waitFor(5, TimeUnit.MINUTES)) {
                    process.destroyForcibly();
                    throw new AssertionError(String.join(" ", command) + " did not finish in 5 minutes");
                }
                return new Result(process.exitValue(), Files.readString(out), Files.readString(err));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /**
     * Installs k8s/test's npm packages (the Kubernetes schemas) with {@code npm ci} unless
     * node_modules already matches package-lock.json, as web-ui's build does.
     */
    static Path schemaValidator() {
        Path dir = repository().resolve("k8s/test");
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(Files.readAllBytes(dir.resolve("package-lock.json")));
            sha.update(run(dir, null, "node", "--version").ok("node --version").stdout().trim().getBytes(StandardCharsets.UTF_8));
            String hash = HexFormat.of().formatHex(sha.digest());
            Path stamp = dir.resolve("node_modules/.pulse-installed");
            if (!Files.exists(stamp) || !Files.readString(stamp).trim().equals(hash)) {
                run(dir, null, "npm", "ci", "--no-audit", "--no-fund", "--prefer-offline").ok("npm ci in k8s/test");
                Files.writeString(stamp, hash + "\n");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        return dir.resolve("validate.mjs");
    }

    static String kustomize(String directory) {
        return run(repository(), null, "kubectl", "kustomize", directory).ok("kubectl kustomize " + directory).stdout();
    }
}
