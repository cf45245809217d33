package dev.pulse.node.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.pulse.node.NodeSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * k8s/: every overlay builds with {@code kubectl kustomize}, every object it makes is valid against the
 * Kubernetes API's schemas (k8s/test/validate.mjs, offline), and the deployment has the properties an
 * operator relies on, checked on what kustomize builds, not on the source files.
 */
class KubernetesManifestsTest {

    private static final YAMLMapper YAML = new YAMLMapper();

    private static final Map<String, List<JsonNode>> BUILT = new java.util.concurrent.ConcurrentHashMap<>();

    /** kustomize's output, one object a document. */
    private static List<JsonNode> build(String overlay) {
        return BUILT.computeIfAbsent(overlay, KubernetesManifestsTest::kustomize);
    }

    private static List<JsonNode> kustomize(String overlay) {
        String yaml = Tools.kustomize("k8s/overlays/" + overlay);
        try (MappingIterator<JsonNode> documents = YAML.readerFor(JsonNode.class).readValues(yaml)) {
            List<JsonNode> objects = new ArrayList<>();
            documents.forEachRemaining(object -> {
                if (!object.isNull() && !object.isEmpty()) {
                    objects.add(object);
                }
            });
            return List.copyOf(objects);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static JsonNode one(List<JsonNode> objects, String kind, String name) {
        List<JsonNode> found = objects.stream()
            .filter(o -> o.path("kind").asText().equals(kind) && o.path("metadata").path("name").asText().equals(name))
            .toList();
        assertThat(found).as(kind + "/" + name).hasSize(1);
        return found.get(0);
    }

    private static List<JsonNode> ofKind(List<JsonNode> objects, String kind) {
        return objects.stream().filter(o -> o.path("kind").asText().equals(kind)).toList();
    }

    private static List<JsonNode> list(JsonNode array) {
        return StreamSupport.stream(array.spliterator(), false).toList();
    }

    private static JsonNode named(JsonNode array, String name) {
        return list(array).stream().filter(n -> n.path("name").asText().equals(name)).findFirst()
            .orElseThrow(() -> new AssertionError("no '" + name + "' in " + array));
    }

    private static JsonNode pulse(List<JsonNode> objects) {
        return one(objects, "Deployment", "pulse");
    }

    private static JsonNode container(JsonNode deployment) {
        return named(deployment.path("spec").path("template").path("spec").path("containers"), "pulse");
    }

    private static Optional<String> env(JsonNode container, String name) {
        return list(container.path("env")).stream().filter(e -> e.path("name").asText().equals(name)).findFirst()
            .map(e -> e.path("value").asText());
    }

    private static Map<String, String> labels(JsonNode labels) {
        Map<String, String> map = new HashMap<>();
        labels.fields().forEachRemaining(e -> map.put(e.getKey(), e.getValue().asText()));
        return map;
    }

    private static void assertSelects(JsonNode matchLabels, JsonNode podLabels, String what) {
        assertThat(labels(matchLabels)).as(what).isNotEmpty();
        assertThat(labels(podLabels)).as(what).containsAllEntriesOf(labels(matchLabels));
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod"})
    void everyObjectIsValidAgainstTheKubernetesSchemas(String overlay) {
        String yaml = Tools.kustomize("k8s/overlays/" + overlay);
        Tools.Result result = Tools.run(Tools.repository(), yaml, "node", Tools.schemaValidator().toString());
        assertThat(result.exitCode()).as(result.stdout() + result.stderr()).isZero();
        assertThat(result.stdout()).contains("schemas: " + build(overlay).size() + " valid, 0 invalid");
    }

    @Test
    void theSchemaValidatorRejectsAnInvalidObjectAndAnUnknownKind() {
        Tools.Result wrongType = Tools.run(Tools.repository(),
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicas: three, selector: {}, template: {}}\n",
            "node", Tools.schemaValidator().toString());
        assertThat(wrongType.exitCode()).isEqualTo(1);
        assertThat(wrongType.stdout()).contains("INVALID Deployment/x", "replicas must be integer");

        Tools.Result unknownKind = Tools.run(Tools.repository(), "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n",
            "node", Tools.schemaValidator().toString());
        assertThat(unknownKind.exitCode()).isEqualTo(1);
        assertThat(unknownKind.stdout()).contains("no schema for example.com/v1 Widget");
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod"})
    void threeReplicasRollOneAtATimeAndAnnounceTheImageVersion(String overlay) {
        JsonNode deployment = pulse(build(overlay));
        JsonNode spec = deployment.path("spec");
        assertThat(spec.path("replicas").asInt()).isEqualTo(3);
        assertThat(spec.path("strategy").path("type").asText()).isEqualTo("RollingUpdate");
        assertThat(spec.path("strategy").path("rollingUpdate").path("maxSurge").asText()).isEqualTo("1");
        assertThat(spec.path("strategy").path("rollingUpdate").path("maxUnavailable").asText()).isEqualTo("0");
        assertSelects(spec.path("selector").path("matchLabels"), spec.path("template").path("metadata").path("labels"),
            "the Deployment's selector");

        JsonNode container = container(deployment);
        String image = container.path("image").asText();
        assertThat(image).contains(":");
        assertThat(env(container, "PULSE_APP_VERSION")).as("pekko.cluster.app-version of " + image)
            .contains(image.substring(image.lastIndexOf(':') + 1));
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod"})
    void portsAndProbesAreOnPekkoManagement(String overlay) {
        JsonNode container = container(pulse(build(overlay)));
        JsonNode ports = container.path("ports");
        assertThat(env(container, "PULSE_HTTP_PORT")).contains(named(ports, "http").path("containerPort").asText());
        assertThat(env(container, "PULSE_CLUSTER_PORT")).contains(named(ports, "remoting").path("containerPort").asText());
        assertThat(env(container, "PULSE_MANAGEMENT_PORT")).contains(named(ports, "management").path("containerPort").asText());

        assertThat(container.path("startupProbe").path("httpGet").path("path").asText()).isEqualTo("/alive");
        assertThat(container.path("livenessProbe").path("httpGet").path("path").asText()).isEqualTo("/alive");
        assertThat(container.path("readinessProbe").path("httpGet").path("path").asText()).isEqualTo("/ready");
        for (String probe : List.of("startupProbe", "livenessProbe", "readinessProbe")) {
            assertThat(container.path(probe).path("httpGet").path("port").asText()).as(probe).isEqualTo("management");
        }
        // JVM start plus bootstrap (stable margin, contact points) must fit in the startup probe's budget
        JsonNode startup = container.path("startupProbe");
        assertThat(startup.path("periodSeconds").asInt() * startup.path("failureThreshold").asInt()).isGreaterThanOrEqualTo(60);
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod"})
    void remotingAndManagementBindThePodIpAndBootstrapFindsPodsByTheirLabel(String overlay) {
        JsonNode deployment = pulse(build(overlay));
        JsonNode container = container(deployment);
        List<String> names = list(container.path("env")).stream().map(e -> e.path("name").asText()).toList();
        JsonNode podIp = named(container.path("env"), "POD_IP");
        assertThat(podIp.path("valueFrom").path("fieldRef").path("fieldPath").asText()).isEqualTo("status.podIP");
        assertThat(env(container, "PULSE_CLUSTER_HOST")).contains("$(POD_IP)");
        // $(VAR) only expands variables defined earlier in the list
        assertThat(names.indexOf("POD_IP")).isLessThan(names.indexOf("PULSE_CLUSTER_HOST"));
        assertThat(env(container, "PULSE_HTTP_HOST")).contains("0.0.0.0");

        assertThat(env(container, "PULSE_DISCOVERY")).contains("kubernetes-api");
        Map<String, String> selector = new HashMap<>();
        for (String term : env(container, "PULSE_K8S_POD_LABEL_SELECTOR").orElseThrow().split(",")) {
            String[] keyValue = term.split("=", 2);
            selector.put(keyValue[0], keyValue[1]);
        }
        assertThat(labels(deployment.path("spec").path("template").path("metadata").path("labels")))
            .as("pods carry the label discovery selects").containsAllEntriesOf(selector);
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod"})
    void podsRunAsNonRootOnAReadOnlyRootWithoutCapabilities(String overlay) {
        for (JsonNode workload : workloads(build(overlay))) {
            JsonNode pod = workload.path("spec").path("template").path("spec");
            String name = workload.path("metadata").path("name").asText();
            assertThat(pod.path("securityContext").path("runAsNonRoot").asBoolean()).as(name).isTrue();
            assertThat(pod.path("securityContext").path("runAsUser").asInt()).as(name).isPositive();
            for (JsonNode container : list(pod.path("containers"))) {
                JsonNode security = container.path("securityContext");
                assertThat(security.path("readOnlyRootFilesystem").asBoolean()).as(name).isTrue();
                assertThat(security.path("allowPrivilegeEscalation").asBoolean(true)).as(name).isFalse();
                assertThat(list(security.path("capabilities").path("drop"))).as(name).extracting(JsonNode::asText).contains("ALL");
                assertThat(security.path("capabilities").path("add").isMissingNode()).as(name).isTrue();
            }
        }
        // the JVM's only writable place: /tmp on an emptyDir
        JsonNode deployment = pulse(build(overlay));
        JsonNode tmp = list(container(deployment).path("volumeMounts")).stream()
            .filter(m -> m.path("mountPath").asText().equals("/tmp")).findFirst().orElseThrow();
        JsonNode volume = named(deployment.path("spec").path("template").path("spec").path("volumes"), tmp.path("name").asText());
        assertThat(volume.has("emptyDir")).isTrue();
    }

    /** Issue 12: the cluster port only for pods holding the cluster's certificate. */
    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod"})
    void remotingRunsOverMutualTlsFromTheClusterTlsSecret(String overlay) {
        JsonNode deployment = pulse(build(overlay));
        JsonNode container = container(deployment);
        String dir = named(container.path("env"), "PULSE_CLUSTER_TLS_DIR").path("value").asText();
        assertThat(dir).isNotBlank();
        JsonNode mount = list(container.path("volumeMounts")).stream()
            .filter(m -> m.path("mountPath").asText().equals(dir)).findFirst().orElseThrow();
        assertThat(mount.path("readOnly").asBoolean()).isTrue();
        JsonNode secret = named(deployment.path("spec").path("template").path("spec").path("volumes"),
            mount.path("name").asText()).path("secret");
        assertThat(secret.path("secretName").asText()).isEqualTo("pulse-cluster-tls");
        assertThat(list(secret.path("items"))).extracting(item -> item.path("path").asText())
            .containsExactlyInAnyOrderElementsOf(dev.pulse.node.cluster.ClusterTls.FILES);
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod"})
    void everyContainerHasResources(String overlay) {
        for (JsonNode workload : workloads(build(overlay))) {
            for (JsonNode container : list(workload.path("spec").path("template").path("spec").path("containers"))) {
                JsonNode resources = container.path("resources");
                String name = container.path("name").asText();
                assertThat(resources.path("requests").path("cpu").asText()).as(name).isNotEmpty();
                assertThat(resources.path("requests").path("memory").asText()).as(name).isNotEmpty();
                assertThat(resources.path("limits").path("memory").asText()).as(name + ": memory limit = request")
                    .isEqualTo(resources.path("requests").path("memory").asText());
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod"})
    void theGracePeriodCoversThePreStopPauseAndEveryShutdownPhase(String overlay) {
        JsonNode pod = pulse(build(overlay)).path("spec").path("template").path("spec");
        List<String> preStop = list(container(pulse(build(overlay))).path("lifecycle").path("preStop").path("exec").path("command"))
            .stream().map(JsonNode::asText).toList();
        assertThat(preStop).hasSize(2).startsWith("sleep");
        long pause = Long.parseLong(preStop.get(1));
        assertThat(pause).as("long enough for the endpoints to drop the pod").isGreaterThanOrEqualTo(3);

        long grace = pod.path("terminationGracePeriodSeconds").asLong();
        assertThat(grace).isGreaterThanOrEqualTo(pause + coordinatedShutdownTimeout().toSeconds());
    }

    /** The longest coordinated shutdown of a node as configured: every phase at its timeout. */
    static Duration coordinatedShutdownTimeout() {
        Config config = NodeSettings.fromEnvironment(Map.of(), ConfigFactory.empty()).config().getConfig("pekko.coordinated-shutdown");
        Duration fallback = config.getDuration("default-phase-timeout");
        Duration total = Duration.ZERO;
        Config phases = config.getConfig("phases");
        for (String phase : phases.root().keySet()) {
            Config settings = phases.getConfig(phase);
            total = total.plus(settings.hasPath("timeout") ? settings.getDuration("timeout") : fallback);
        }
        assertThat(total).as("Pekko's phases at their timeouts").isGreaterThan(Duration.ofSeconds(30));
        return total;
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod"})
    void thePodsServiceAccountMayListPodsAndNothingElseIsBoundToTheRole(String overlay) {
        List<JsonNode> objects = build(overlay);
        JsonNode deployment = pulse(objects);
        String namespace = deployment.path("metadata").path("namespace").asText();
        String account = deployment.path("spec").path("template").path("spec").path("serviceAccountName").asText();
        one(objects, "ServiceAccount", account);

        JsonNode role = one(objects, "Role", "pulse");
        assertThat(list(role.path("rules"))).anySatisfy(rule -> {
            assertThat(list(rule.path("apiGroups"))).extracting(JsonNode::asText).containsExactly("");
            assertThat(list(rule.path("resources"))).extracting(JsonNode::asText).containsExactly("pods");
            assertThat(list(rule.path("verbs"))).extracting(JsonNode::asText).containsExactlyInAnyOrder("get", "watch", "list");
        });
        assertThat(ofKind(objects, "ClusterRoleBinding")).isEmpty();
        List<JsonNode> bindings = ofKind(objects, "RoleBinding");
        assertThat(bindings).isNotEmpty().allSatisfy(binding -> {
            assertThat(binding.path("roleRef").path("kind").asText()).isEqualTo("Role");
            assertThat(list(binding.path("subjects"))).isNotEmpty().allSatisfy(subject -> {
                assertThat(subject.path("kind").asText()).isEqualTo("ServiceAccount");
                assertThat(subject.path("name").asText()).isEqualTo(account);
                assertThat(subject.path("namespace").asText()).isEqualTo(namespace);
            });
        });
        assertThat(bindings).anySatisfy(b -> assertThat(b.path("roleRef").path("name").asText()).isEqualTo("pulse"));
    }

    @Test
    void theLeaseComponentSwitchesTheSplitBrainResolverAndMayUseLeases() {
        List<JsonNode> prod = build("prod");
        assertThat(env(container(pulse(prod)), "PULSE_SPLIT_BRAIN_STRATEGY")).contains("lease-majority");
        assertThat(list(one(prod, "Role", "pulse").path("rules"))).anySatisfy(rule -> {
            assertThat(list(rule.path("apiGroups"))).extracting(JsonNode::asText).containsExactly("coordination.k8s.io");
            assertThat(list(rule.path("resources"))).extracting(JsonNode::asText).containsExactly("leases");
            assertThat(list(rule.path("verbs"))).extracting(JsonNode::asText).contains("get", "create", "update");
        });

        List<JsonNode> dev = build("dev");
        assertThat(env(container(pulse(dev)), "PULSE_SPLIT_BRAIN_STRATEGY")).as("keep-majority, the node's default").isEmpty();
        assertThat(list(one(dev, "Role", "pulse").path("rules"))).noneSatisfy(rule ->
            assertThat(list(rule.path("resources"))).extracting(JsonNode::asText).contains("leases"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod"})
    void aDisruptionBudgetLetsOnePodGoAtATime(String overlay) {
        List<JsonNode> objects = build(overlay);
        JsonNode budget = one(objects, "PodDisruptionBudget", "pulse");
        assertThat(budget.path("spec").path("maxUnavailable").asInt()).isEqualTo(1);
        assertSelects(budget.path("spec").path("selector").path("matchLabels"),
            pulse(objects).path("spec").path("template").path("metadata").path("labels"), "the budget's selector");
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod"})
    void theServiceReachesEveryPodsWebSocketPortWithoutAffinityAndPodsSpreadOverNodes(String overlay) {
        List<JsonNode> objects = build(overlay);
        JsonNode service = one(objects, "Service", "pulse");
        JsonNode template = pulse(objects).path("spec").path("template");
        assertSelects(service.path("spec").path("selector"), template.path("metadata").path("labels"), "the Service's selector");
        assertThat(service.path("spec").path("sessionAffinity").asText("None")).isEqualTo("None");
        assertThat(list(service.path("spec").path("ports"))).extracting(p -> p.path("targetPort").asText()).containsExactly("http");

        JsonNode antiAffinity = template.path("spec").path("affinity").path("podAntiAffinity");
        List<JsonNode> terms = new ArrayList<>(list(antiAffinity.path("requiredDuringSchedulingIgnoredDuringExecution")));
        list(antiAffinity.path("preferredDuringSchedulingIgnoredDuringExecution")).forEach(t -> terms.add(t.path("podAffinityTerm")));
        assertThat(terms).anySatisfy(term -> {
            assertThat(term.path("topologyKey").asText()).isEqualTo("kubernetes.io/hostname");
            assertSelects(term.path("labelSelector").path("matchLabels"), template.path("metadata").path("labels"), "anti-affinity");
        });
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod"})
    void prometheusScrapesTheManagementPort(String overlay) {
        JsonNode template = pulse(build(overlay)).path("spec").path("template");
        JsonNode annotations = template.path("metadata").path("annotations");
        assertThat(annotations.path("prometheus.io/scrape").asText()).isEqualTo("true");
        assertThat(annotations.path("prometheus.io/path").asText()).isEqualTo("/metrics");
        assertThat(annotations.path("prometheus.io/port").asText())
            .isEqualTo(named(container(pulse(build(overlay))).path("ports"), "management").path("containerPort").asText());
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod"})
    void everyObjectLivesInTheOverlaysNamespace(String overlay) {
        List<JsonNode> objects = build(overlay);
        String namespace = Map.of("dev", "pulse-dev", "prod", "pulse").get(overlay);
        one(objects, "Namespace", namespace);
        assertThat(objects).filteredOn(o -> !o.path("kind").asText().equals("Namespace"))
            .allSatisfy(o -> assertThat(o.path("metadata").path("namespace").asText()).as(o.path("kind").asText()).isEqualTo(namespace));
    }

    @Test
    void devRunsItsOwnPostgresOnAVolumeWithGeneratedSecrets() {
        List<JsonNode> dev = build("dev");
        JsonNode postgres = one(dev, "StatefulSet", "postgres");
        assertThat(list(postgres.path("spec").path("volumeClaimTemplates"))).hasSize(1);
        JsonNode container = container(pulse(dev));
        String dbSecret = named(container.path("env"), "PULSE_DB_URL").path("valueFrom").path("secretKeyRef").path("name").asText();
        String tokenSecret = named(container.path("env"), "PULSE_TOKEN_SECRET").path("valueFrom").path("secretKeyRef").path("name").asText();
        assertThat(dbSecret).startsWith("pulse-db-"); // generated: a hash of the content in the name
        JsonNode secret = one(dev, "Secret", dbSecret);
        assertThat(secret.path("data").has("url") && secret.path("data").has("user") && secret.path("data").has("password")).isTrue();
        one(dev, "Secret", tokenSecret);
        String url = new String(java.util.Base64.getDecoder().decode(secret.path("data").path("url").asText()));
        assertThat(url).isEqualTo("jdbc:postgresql://" + one(dev, "Service", "postgres").path("metadata").path("name").asText()
            + ":5432/pulse");
    }

    @Test
    void prodReadsItsDatabaseFromSecretsThatAreNotInTheRepository() {
        List<JsonNode> prod = build("prod");
        assertThat(ofKind(prod, "Secret")).isEmpty();
        assertThat(ofKind(prod, "StatefulSet")).isEmpty();
        JsonNode container = container(pulse(prod));
        for (String variable : List.of("PULSE_DB_URL", "PULSE_DB_USER", "PULSE_DB_PASSWORD")) {
            assertThat(named(container.path("env"), variable).path("valueFrom").path("secretKeyRef").path("name").asText())
                .as(variable).isEqualTo("pulse-db");
        }
        assertThat(named(container.path("env"), "PULSE_TOKEN_SECRET").path("valueFrom").path("secretKeyRef").path("name").asText())
            .isEqualTo("pulse-token");
    }

    @Test
    void prodsIngressKeepsIdleWebSocketsOpen() {
        List<JsonNode> prod = build("prod");
        JsonNode ingress = one(prod, "Ingress", "pulse");
        JsonNode annotations = ingress.path("metadata").path("annotations");
        // idle sockets ping every 20 s (server) and 15 s (client heartbeat); a proxy must outwait far more
        assertThat(annotations.path("nginx.ingress.kubernetes.io/proxy-read-timeout").asInt()).isGreaterThanOrEqualTo(300);
        assertThat(annotations.path("nginx.ingress.kubernetes.io/proxy-send-timeout").asInt()).isGreaterThanOrEqualTo(300);
        JsonNode backend = ingress.path("spec").path("rules").path(0).path("http").path("paths").path(0).path("backend").path("service");
        assertThat(backend.path("name").asText()).isEqualTo("pulse");
        assertThat(backend.path("port").path("name").asText()).isEqualTo("http");
        one(prod, "PodMonitor", "pulse");
    }

    private static List<JsonNode> workloads(List<JsonNode> objects) {
        List<JsonNode> workloads = new ArrayList<>(ofKind(objects, "Deployment"));
        workloads.addAll(ofKind(objects, "StatefulSet"));
        return workloads;
    }
}
