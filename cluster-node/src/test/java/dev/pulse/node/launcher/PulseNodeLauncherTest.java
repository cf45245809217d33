package dev.pulse.node.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The JVM settings {@code cluster-node/bin/pulse-node} gives every node (the README's run command,
 * the container image and the benchmarks all start nodes through it). The JVM is asked for
 * {@code -XX:+PrintCommandLineFlags -version}, so it prints the flags it runs with and exits before
 * any node starts.
 */
class PulseNodeLauncherTest {

    private static final Path LAUNCHER = Path.of("bin/pulse-node").toAbsolutePath();

    @Test
    void aNodeRunsOnShenandoahWhereTheJvmHasIt() throws Exception {
        assumeTrue(jvmAccepts("-XX:+UseShenandoahGC"), "this JVM has no Shenandoah");
        String flags = launch("-XX:+PrintCommandLineFlags -version");
        assertThat(flags).contains("-XX:+UseShenandoahGC").doesNotContain("-XX:+UseG1GC", "-XX:+UseSerialGC");
    }

    @Test
    void theCommonPoolHasAtLeastTwoThreads() throws Exception {
        String properties = launch("-XshowSettings:properties -version");
        assertThat(properties).containsPattern("java\\.util\\.concurrent\\.ForkJoinPool\\.common\\.parallelism = [2-9]");
    }

    @Test
    void optionsThatNameACollectorReplaceTheLaunchersChoice() throws Exception {
        String flags = launch("-XX:+UseG1GC -XX:+PrintCommandLineFlags -version");
        assertThat(flags).contains("-XX:+UseG1GC").doesNotContain("Shenandoah");
    }

    @Test
    void compactObjectHeadersWhereTheJvmHasThem() throws Exception {
        String flags = launch("-XX:+PrintCommandLineFlags -version");
        if (jvmAccepts("-XX:+UseCompactObjectHeaders")) {
            assertThat(flags).contains("-XX:+UseCompactObjectHeaders");
        } else {
            assertThat(flags).doesNotContain("CompactObjectHeaders"); // Java 17: the JVM would refuse to start
        }
    }

    /** Runs the launcher on this test's JVM with {@code options} as PULSE_JAVA_OPTS; its output. */
    private static String launch(String options) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder("sh", LAUNCHER.toString()).redirectErrorStream(true);
        Map<String, String> env = builder.environment();
        env.put("JAVA_HOME", System.getProperty("java.home"));
        env.put("PULSE_CLASSPATH", System.getProperty("java.class.path"));
        env.put("PULSE_JAVA_OPTS", options);
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(output).isZero();
        return output;
    }

    private static boolean jvmAccepts(String option) throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process probe = new ProcessBuilder(List.of(java.toString(), option, "-version")).redirectErrorStream(true).start();
        probe.getInputStream().readAllBytes();
        return probe.waitFor(60, TimeUnit.SECONDS) && probe.exitValue() == 0;
    }
}
