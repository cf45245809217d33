package dev.pulse.node.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.pulse.node.TestNode;
import dev.pulse.node.testkit.PrometheusText;
import dev.pulse.node.testkit.Wire;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * k8s/components/monitoring: the Grafana dashboard and the alert rules only ask for what a node
 * exports. Every query parses as PromQL (Prometheus's own grammar, k8s/test/promql.mjs), and every
 * metric it names is in the scrape of a real node's /metrics.
 */
class MonitoringTest {

    private static final Path DASHBOARD = Tools.repository().resolve("k8s/components/monitoring/pulse-dashboard.json");
    /** Series of the node (Micrometer's JVM and process binders included); kube_* comes from kube-state-metrics. */
    private static final Pattern METRIC = Pattern.compile("\\b((?:pulse|jvm|process|system)_[a-z0-9_]+)\\b");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path data;
    private static TestNode node;
    private static Set<String> exported;

    @BeforeAll
    static void scrapeARealNode() {
        node = TestNode.start(data);
        // GC pauses are exported once a collection has happened
        System.gc();
        AtomicReference<PrometheusText> scrape = new AtomicReference<>();
        Wire.awaitUntil("a GC pause in the scrape", Duration.ofSeconds(10), () -> {
            scrape.set(node.metrics());
            return scrape.get().names().contains("jvm_gc_pause_seconds_count");
        });
        exported = scrape.get().names();
    }

    @AfterAll
    static void stop() {
        node.close();
    }

    private static List<String> dashboardQueries() throws IOException {
        JsonNode dashboard = JSON.readTree(Files.readString(DASHBOARD));
        List<String> queries = new ArrayList<>();
        for (JsonNode panel : dashboard.path("panels")) {
            for (JsonNode target : panel.path("targets")) {
                queries.add(target.path("expr").asText());
            }
        }
        for (JsonNode variable : dashboard.path("templating").path("list")) {
            if (variable.path("type").asText().equals("query")) {
                // Grafana's label_values(<series selector>, <label>): the selector is PromQL
                Matcher labelValues = Pattern.compile("label_values\\((.+),\\s*\\w+\\)")
                    .matcher(variable.path("query").path("query").asText());
                assertThat(labelValues.matches()).as(variable.toString()).isTrue();
                queries.add(labelValues.group(1));
            }
        }
        return queries;
    }

    private static List<JsonNode> prodObjects() throws IOException {
        try (MappingIterator<JsonNode> documents = new YAMLMapper().readerFor(JsonNode.class)
                .readValues(Tools.kustomize("k8s/overlays/prod"))) {
            return documents.readAll();
        }
    }

    private static List<JsonNode> alertRules() throws IOException {
        List<JsonNode> rules = new ArrayList<>();
        for (JsonNode object : prodObjects()) {
            if (object.path("kind").asText().equals("PrometheusRule")) {
                object.path("spec").path("groups").forEach(group -> group.path("rules").forEach(rules::add));
            }
        }
        return rules;
    }

    private static Set<String> metricNames(List<String> queries) {
        Set<String> names = new TreeSet<>();
        for (String query : queries) {
            Matcher metric = METRIC.matcher(query);
            while (metric.find()) {
                names.add(metric.group(1));
            }
        }
        return names;
    }

    /** k8s/test/promql.mjs on {@code queries}: its exit code and what it printed. */
    private static Tools.Result parse(List<String> queries) throws IOException {
        Path promql = Tools.schemaValidator().resolveSibling("promql.mjs");
        return Tools.run(Tools.repository(), JSON.writeValueAsString(queries), "node", promql.toString());
    }

    @Test
    void theDashboardParsesAndQueriesOnlyWhatANodeExports() throws IOException {
        JsonNode dashboard = JSON.readTree(Files.readString(DASHBOARD));
        assertThat(dashboard.path("title").asText()).isEqualTo("Pulse");
        List<String> queries = dashboardQueries();
        assertThat(queries).hasSizeGreaterThan(20).noneMatch(String::isBlank);

        Tools.Result parsed = parse(queries);
        assertThat(parsed.exitCode()).as(parsed.stdout() + parsed.stderr()).isZero();
        Set<String> used = metricNames(queries);
        assertThat(used).as("what the dashboard shows at a glance").contains("pulse_cluster_members",
            "pulse_cluster_unreachable_members", "pulse_sockets_open", "pulse_sessions", "pulse_fanout_latency_seconds_count",
            "pulse_ack_latency_seconds_bucket", "pulse_fanout_latency_seconds_bucket", "pulse_journal_write_seconds_bucket",
            "pulse_slow_consumer_closes_total", "jvm_gc_pause_seconds_sum");
        assertThat(exported).as("metrics a node exports").containsAll(used);
    }

    @Test
    void theAlertRulesParseAndWatchWhatANodeExports() throws IOException {
        List<JsonNode> rules = alertRules();
        assertThat(rules).extracting(rule -> rule.path("alert").asText()).contains("PulseNoQuorum", "PulseMembersMissing",
            "PulseUnreachableMembers", "PulseJournalErrors", "PulseJournalSlow", "PulseSlowConsumerStorm");
        assertThat(rules).allSatisfy(rule -> {
            assertThat(rule.path("labels").path("severity").asText()).isIn("warning", "critical");
            assertThat(rule.path("annotations").path("summary").asText()).isNotBlank();
        });
        List<String> expressions = rules.stream().map(rule -> rule.path("expr").asText()).toList();

        Tools.Result parsed = parse(expressions);
        assertThat(parsed.exitCode()).as(parsed.stdout() + parsed.stderr()).isZero();
        assertThat(exported).containsAll(metricNames(expressions));
    }

    @Test
    void thePromqlCheckRejectsWhatPrometheusWouldNot() throws IOException {
        Tools.Result parsed = parse(List.of("sum by (le (rate(pulse_ack_latency_seconds_bucket[5m]))"));
        assertThat(parsed.exitCode()).isEqualTo(1);
        assertThat(parsed.stdout()).contains("INVALID", "0 valid, 1 invalid");
    }

    @Test
    void prodShipsTheDashboardForGrafanasSidecar() throws IOException {
        JsonNode configMap = prodObjects().stream()
            .filter(o -> o.path("kind").asText().equals("ConfigMap") && o.path("metadata").path("name").asText().equals("pulse-dashboard"))
            .findFirst().orElseThrow(() -> new AssertionError("no ConfigMap pulse-dashboard in prod"));
        assertThat(configMap.path("metadata").path("labels").path("grafana_dashboard").asText()).isEqualTo("1");
        assertThat(JSON.readTree(configMap.path("data").path("pulse-dashboard.json").asText()))
            .isEqualTo(JSON.readTree(Files.readString(DASHBOARD)));
    }
}
