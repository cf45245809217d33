package dev.pulse.perf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A {@link LoadAgent} JVM as the runner sees it: commands to its stdin, events from its stdout, its log on our stderr. */
final class AgentProcess {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNode EXITED = JSON.createObjectNode().put("event", "exit");

    private final int index;
    private final Process process;
    private final Writer stdin;
    private final BlockingQueue<JsonNode> events = new LinkedBlockingQueue<>();

    private AgentProcess(int index, Process process) {
        this.index = index;
        this.process = process;
        this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        Thread reader = new Thread(this::readEvents, "agent-" + index + "-events");
        reader.setDaemon(true);
        reader.start();
    }

    static AgentProcess start(int index, String heap, List<String> jvmOptions, Map<String, String> options) throws IOException {
        List<String> command = new ArrayList<>(List.of(NodeProcess.javaCommand("java"), "-Xmx" + heap));
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), LoadAgent.class.getName(), "--agent", Integer.toString(index)));
        options.forEach((key, value) -> command.addAll(List.of("--" + key, value)));
        Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        return new AgentProcess(index, process);
    }

    private void readEvents() {
        try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null) {
                if (line.startsWith("{")) {
                    events.add(JSON.readTree(line));
                } else {
                    System.err.println("[agent-" + index + " stdout] " + line);
                }
            }
        } catch (IOException e) {
            System.err.println("[agent-" + index + "] reading its output failed: " + e);
        }
        events.add(EXITED);
    }

    long pid() {
        return process.pid();
    }

    int index() {
        return index;
    }

    /** Sends {@code {"cmd":name, …extra}}; extra is JSON members without braces, or empty. */
    synchronized void send(String name, String extra) throws IOException {
        stdin.write("{\"cmd\":" + Json.quote(name) + (extra.isEmpty() ? "" : "," + extra) + "}\n");
        stdin.flush();
    }

    /** The next event, which must be {@code name}; fails when the agent exits, reports a failure or is silent too long. */
    JsonNode await(String name, Duration timeout) throws InterruptedException {
        JsonNode event = events.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (event == null) {
            throw new IllegalStateException("agent " + index + " did not answer " + name + " within " + timeout);
        }
        if (event == EXITED) {
            throw new IllegalStateException("agent " + index + " exited (" + (process.isAlive() ? "?" : process.exitValue()) + ") before answering " + name);
        }
        if (!name.equals(event.path("event").asText()) || event.has("failure")) {
            throw new IllegalStateException("agent " + index + " answered " + event + " to " + name);
        }
        return event;
    }

    void stop() throws InterruptedException {
        if (process.isAlive()) {
            try {
                send("stop", "");
            } catch (IOException gone) {
                // it is exiting anyway
            }
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }
}
