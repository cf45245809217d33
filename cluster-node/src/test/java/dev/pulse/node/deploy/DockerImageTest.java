package dev.pulse.node.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import dev.pulse.node.NodeSettings;
import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * cluster-node/Dockerfile, checked without a Docker engine: linted (k8s/test/lint-dockerfile.mjs), and
 * its instructions read to assert what the image must be: a multi-stage build whose runtime stage is a
 * JRE with only the jar and its launcher, a non-root user, an exec-form entrypoint that ends in the
 * JVM (so SIGTERM reaches it), the node's ports, a container-aware heap; and a .dockerignore that
 * keeps build output out of the context but none of the sources the build needs.
 */
class DockerImageTest {

    /** One instruction, continuation lines joined. */
    record Instruction(String keyword, String arguments) {}

    private static final Path DOCKERFILE = Tools.repository().resolve("cluster-node/Dockerfile");

    static List<Instruction> instructions(String dockerfile) {
        List<Instruction> instructions = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : dockerfile.split("\n")) {
            String trimmed = line.strip();
            if (trimmed.startsWith("#") || (trimmed.isEmpty() && current.isEmpty())) {
                continue; // comments (and the parser directive) may sit inside continued instructions too
            }
            if (trimmed.endsWith("\\")) {
                current.append(trimmed, 0, trimmed.length() - 1).append(' ');
                continue;
            }
            current.append(trimmed);
            String text = current.toString().strip();
            current.setLength(0);
            if (!text.isEmpty()) {
                String[] parts = text.split("\\s+", 2);
                instructions.add(new Instruction(parts[0].toUpperCase(), parts.length > 1 ? parts[1] : ""));
            }
        }
        return instructions;
    }

    private static List<Instruction> instructions() throws IOException {
        return instructions(Files.readString(DOCKERFILE));
    }

    /** The instructions of the last stage, from its FROM on. */
    private static List<Instruction> runtimeStage(List<Instruction> all) {
        int last = 0;
        for (int i = 0; i < all.size(); i++) {
            if (all.get(i).keyword().equals("FROM")) {
                last = i;
            }
        }
        return all.subList(last, all.size());
    }

    private static List<String> arguments(List<Instruction> instructions, String keyword) {
        return instructions.stream().filter(i -> i.keyword().equals(keyword)).map(Instruction::arguments).toList();
    }

    @Test
    void theLinterFindsNoProblem() {
        Tools.Result lint = Tools.run(Tools.repository(), null, "node",
            Tools.schemaValidator().resolveSibling("lint-dockerfile.mjs").toString(), DOCKERFILE.toString());
        assertThat(lint.exitCode()).as(lint.stdout() + lint.stderr()).isZero();
    }

    @Test
    void theLinterCatchesAMistake() throws IOException {
        Path broken = Files.createTempFile("Dockerfile", "");
        try {
            Files.writeString(broken, "FROM eclipse-temurin:17-jre\nEXPOSE http\nUSR 10001\n");
            Tools.Result lint = Tools.run(Tools.repository(), null, "node",
                Tools.schemaValidator().resolveSibling("lint-dockerfile.mjs").toString(), broken.toString());
            assertThat(lint.exitCode()).isEqualTo(1);
            assertThat(lint.stdout()).contains("Unknown instruction: USR");
        } finally {
            Files.delete(broken);
        }
    }

    @Test
    void theProjectIsBuiltByMavenAndNodeInAStageOfItsOwn() throws IOException {
        List<Instruction> all = instructions();
        List<String> stages = arguments(all, "FROM");
        assertThat(stages).hasSizeGreaterThanOrEqualTo(2);
        assertThat(stages.get(0)).containsIgnoringCase(" AS build");
        List<Instruction> build = all.subList(0, all.indexOf(runtimeStage(all).get(0)));
        String buildText = build.toString();
        assertThat(stages.get(0) + buildText).contains("node:20"); // web-ui needs Node 20.19+
        assertThat(arguments(build, "RUN")).anyMatch(run -> run.contains("mvn ") && run.contains("package"));
    }

    @Test
    void theRuntimeStageIsAJreWithTheJarAndItsLauncherOnly() throws IOException {
        List<Instruction> runtime = runtimeStage(instructions());
        assertThat(runtime.get(0).arguments()).contains("-jre");
        List<String> copies = arguments(runtime, "COPY");
        assertThat(copies).allMatch(copy -> copy.startsWith("--from=build "));
        String jar = shadedJarName();
        assertThat(copies).anyMatch(copy -> copy.contains("/cluster-node/target/" + jar + " /opt/pulse/target/" + jar));
        assertThat(copies).anyMatch(copy -> copy.contains("/cluster-node/bin/pulse-node /opt/pulse/bin/pulse-node"));
        assertThat(arguments(runtime, "ADD")).isEmpty();
    }

    @Test
    void itRunsAsANumericNonRootUserThatTheKubernetesPodsAlsoUse() throws IOException {
        List<Instruction> runtime = runtimeStage(instructions());
        List<String> users = arguments(runtime, "USER");
        assertThat(users).isNotEmpty();
        String user = users.get(users.size() - 1);
        assertThat(user).matches("\\d+(:\\d+)?"); // numeric: runAsNonRoot can verify it without /etc/passwd
        int uid = Integer.parseInt(user.split(":")[0]);
        assertThat(uid).isNotZero();
        // nothing runs as root after the switch
        int switched = runtime.lastIndexOf(runtime.stream().filter(i -> i.keyword().equals("USER")).reduce((a, b) -> b).orElseThrow());
        assertThat(runtime.subList(switched, runtime.size())).noneMatch(i -> i.keyword().equals("RUN"));

        JsonNode deployment = new com.fasterxml.jackson.dataformat.yaml.YAMLMapper().readerFor(JsonNode.class)
            .<JsonNode>readValues(Tools.kustomize("k8s/base")).readAll().stream()
            .filter(o -> o.path("kind").asText().equals("Deployment")).findFirst().orElseThrow();
        assertThat(deployment.path("spec").path("template").path("spec").path("securityContext").path("runAsUser").asInt())
            .isEqualTo(uid);
    }

    @Test
    void theEntrypointIsExecFormAndEndsInTheJvmSoSigtermReachesIt() throws IOException {
        List<Instruction> runtime = runtimeStage(instructions());
        List<String> entrypoints = arguments(runtime, "ENTRYPOINT");
        assertThat(entrypoints).hasSize(1);
        JsonNode exec = new ObjectMapper().readTree(entrypoints.get(0)); // exec form is a JSON array
        assertThat(exec.isArray()).isTrue();
        assertThat(exec.get(0).asText()).isEqualTo("/opt/pulse/bin/pulse-node");
        assertThat(arguments(runtime, "CMD")).isEmpty();
        assertThat(arguments(runtime, "STOPSIGNAL")).allMatch(signal -> signal.equals("SIGTERM"));

        // the launcher replaces itself with java (exec): no shell stays between the JVM and the signal
        List<String> launcher = Files.readAllLines(Tools.repository().resolve("cluster-node/bin/pulse-node")).stream()
            .map(String::strip).filter(line -> !line.isEmpty() && !line.startsWith("#")).toList();
        assertThat(launcher.get(launcher.size() - 1)).startsWith("exec \"$java\" ");
        assertThat(launcher.get(launcher.size() - 1)).contains("${PULSE_JAVA_OPTS");
    }

    @Test
    void itExposesTheNodesPortsAndSizesTheHeapToTheContainer() throws IOException {
        List<Instruction> runtime = runtimeStage(instructions());
        List<String> exposed = arguments(runtime, "EXPOSE").stream().flatMap(e -> List.of(e.split("\\s+")).stream()).toList();
        var defaults = NodeSettings.fromEnvironment(Map.of(), ConfigFactory.empty()).config();
        assertThat(exposed).containsExactlyInAnyOrder(
            String.valueOf(defaults.getInt("pulse.http.port")),
            String.valueOf(defaults.getInt("pulse.cluster.port")),
            String.valueOf(defaults.getInt("pulse.management.port")));

        String env = String.join(" ", arguments(runtime, "ENV"));
        Matcher percent = Pattern.compile("-XX:MaxRAMPercentage=(\\d+)").matcher(env);
        assertThat(percent.find()).as("a heap that follows the container's memory limit").isTrue();
        assertThat(Integer.parseInt(percent.group(1))).isBetween(50, 80);
        assertThat(env).contains("PULSE_HTTP_HOST=0.0.0.0");
        assertThat(env).as("the launcher picks the collector; options that pick one would replace its choice")
            .doesNotContainPattern("-XX:\\+Use\\w*GC");
    }

    @Test
    void theBuildContextLeavesOutBuildOutputButNoSourceTheBuildNeeds() throws IOException {
        List<String> patterns = Files.readAllLines(Tools.repository().resolve(".dockerignore")).stream()
            .map(String::strip).filter(line -> !line.isEmpty() && !line.startsWith("#")).toList();
        for (String excluded : List.of("cluster-node/target", "web-ui/target", "web-ui/node_modules", "k8s/test/node_modules", ".git")) {
            assertThat(ignored(patterns, excluded)).as(excluded + " left out").isTrue();
        }
        for (String needed : List.of("pom.xml", "protocol/pom.xml", "protocol/src/main/java", "web-ui/package-lock.json",
            "web-ui/src", "web-ui/scripts/npm-ci-if-needed.mjs", "cluster-node/pom.xml", "cluster-node/src/main/resources",
            "cluster-node/bin/pulse-node", "perf/pom.xml")) {
            assertThat(Tools.repository().resolve(needed)).exists();
            assertThat(ignored(patterns, needed)).as(needed + " sent to the build").isFalse();
        }
    }

    /** .dockerignore's rule: a path is left out when a pattern matches it or one of its parents. */
    private static boolean ignored(List<String> patterns, String path) {
        for (String pattern : patterns) {
            var matcher = FileSystems.getDefault().getPathMatcher("glob:" + pattern.replace("**/", "{**/,}"));
            for (Path p = Path.of(path); p != null; p = p.getParent()) {
                if (matcher.matches(p)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static String shadedJarName() throws IOException {
        Matcher finalName = Pattern.compile("<finalName>([^<]+)</finalName>")
            .matcher(Files.readString(Tools.repository().resolve("cluster-node/pom.xml")));
        assertThat(finalName.find()).isTrue();
        return finalName.group(1) + ".jar";
    }
}
