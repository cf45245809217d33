package dev.pulse.perf;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A one-line description of the machine a result was measured on. */
final class Machine {

    private Machine() {}

    static String describe() {
        String memory = "?";
        try {
            memory = Files.readAllLines(Path.of("/proc/meminfo")).stream()
                .filter(line -> line.startsWith("MemTotal:")).findFirst()
                .map(line -> Long.parseLong(line.replaceAll("\\D", "")) / 1024 / 1024 + " GiB").orElse("?");
        } catch (IOException | RuntimeException e) {
            // not Linux: leave it unknown
        }
        return Runtime.getRuntime().availableProcessors() + " cores, " + memory + ", Java " + Runtime.version();
    }
}
