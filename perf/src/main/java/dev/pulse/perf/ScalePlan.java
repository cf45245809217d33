package dev.pulse.perf;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a scale run does, computed alike by the runner ({@link ScaleBenchmark}) and every load agent
 * ({@link LoadAgent}) from the same options, so that each agent knows its share without being told
 * user by user. Connection {@code i} (0 ≤ i < connections) is user {@code u<run>.<i>}, a member of
 * room {@code i / roomSize}, connected to node {@code (i / agents) mod nodes}, handled by agent
 * {@code i mod agents}; the first {@code sendersPerRoom} members of each room send.
 */
record ScalePlan(String scenario, String runId, int connections, int roomSize, int sendersPerRoom, double rate,
                 int warmup, int seconds, int hold, int after, int ramp, int pingSeconds, int textChars,
                 int agents, int perAgent, int nodes, int connectConcurrency, int loginConcurrency, int httpClients,
                 int connectTimeout, int syncTimeout, double connectRate) {

    static final List<String> SCENARIOS = List.of("idle", "fanout", "lifecycle", "storm");

    /** Options of the plan: the runner passes them on to every agent. */
    static final List<String> OPTIONS = List.of("scenario", "run-id", "connections", "room-size", "senders-per-room", "rate",
        "warmup", "seconds", "hold", "after", "ramp", "ping-seconds", "text-chars", "agents", "per-agent", "nodes",
        "connect-concurrency", "login-concurrency", "http-clients", "connect-timeout", "sync-timeout", "connect-rate");

    static ScalePlan from(Map<String, String> o) {
        String scenario = o.getOrDefault("scenario", "");
        if (!SCENARIOS.contains(scenario)) {
            throw new IllegalArgumentException("--scenario must be one of " + SCENARIOS);
        }
        boolean fanout = scenario.equals("fanout");
        boolean traffic = fanout || scenario.equals("storm");
        int connections = num(o, "connections", scenario.equals("storm") ? 5000 : 10_000);
        int roomSize = num(o, "room-size", fanout ? 100 : 50);
        int perAgent = num(o, "per-agent", 9000);
        int agents = Math.max(num(o, "agents", 1), (connections + perAgent - 1) / perAgent);
        if (connections < 1 || roomSize < 1 || perAgent < 1) {
            throw new IllegalArgumentException("--connections, --room-size and --per-agent must be positive");
        }
        if ((connections + agents - 1) / agents > perAgent) {
            throw new IllegalArgumentException("more than --per-agent connections for one agent");
        }
        String runId = o.getOrDefault("run-id", Long.toString(System.currentTimeMillis() / 1000 % 60_466_176L, 36));
        return new ScalePlan(scenario, runId, connections, roomSize,
            num(o, "senders-per-room", 1),
            Double.parseDouble(o.getOrDefault("rate", fanout ? "1000" : traffic ? "200" : "0")),
            num(o, "warmup", traffic ? 10 : 0),
            num(o, "seconds", fanout ? 30 : 0),
            num(o, "hold", scenario.equals("lifecycle") ? 120 : scenario.equals("idle") ? 60 : 0),
            num(o, "after", scenario.equals("storm") ? 10 : 0),
            num(o, "ramp", scenario.equals("lifecycle") ? 60 : 0),
            num(o, "ping-seconds", 10),
            num(o, "text-chars", 64),
            agents, perAgent,
            num(o, "nodes", 1),
            num(o, "connect-concurrency", 64),
            num(o, "login-concurrency", 16),
            num(o, "http-clients", 4),
            num(o, "connect-timeout", 60),
            num(o, "sync-timeout", 180),
            Double.parseDouble(o.getOrDefault("connect-rate", "0")));
    }

    private static int num(Map<String, String> o, String key, int fallback) {
        return Integer.parseInt(o.getOrDefault(key, Integer.toString(fallback)));
    }

    /** The options that rebuild this plan (for the agents' command lines). */
    Map<String, String> options() {
        Map<String, String> o = new LinkedHashMap<>();
        o.put("scenario", scenario);
        o.put("run-id", runId);
        o.put("connections", Integer.toString(connections));
        o.put("room-size", Integer.toString(roomSize));
        o.put("senders-per-room", Integer.toString(sendersPerRoom));
        o.put("rate", Double.toString(rate));
        o.put("warmup", Integer.toString(warmup));
        o.put("seconds", Integer.toString(seconds));
        o.put("hold", Integer.toString(hold));
        o.put("after", Integer.toString(after));
        o.put("ramp", Integer.toString(ramp));
        o.put("ping-seconds", Integer.toString(pingSeconds));
        o.put("text-chars", Integer.toString(textChars));
        o.put("agents", Integer.toString(agents));
        o.put("per-agent", Integer.toString(perAgent));
        o.put("nodes", Integer.toString(nodes));
        o.put("connect-concurrency", Integer.toString(connectConcurrency));
        o.put("login-concurrency", Integer.toString(loginConcurrency));
        o.put("http-clients", Integer.toString(httpClients));
        o.put("connect-timeout", Integer.toString(connectTimeout));
        o.put("sync-timeout", Integer.toString(syncTimeout));
        o.put("connect-rate", Double.toString(connectRate));
        return o;
    }

    int rooms() {
        return (connections + roomSize - 1) / roomSize;
    }

    /** Members that send: the first {@code sendersPerRoom} of each room (none when the rate is 0). */
    int senders() {
        if (rate <= 0) {
            return 0;
        }
        int total = 0;
        for (int r = 0; r < rooms(); r++) {
            total += Math.min(sendersPerRoom, Math.min(roomSize, connections - r * roomSize));
        }
        return total;
    }

    String user(int i) {
        return "u" + runId + "." + i;
    }

    String room(int i) {
        return "r" + runId + "." + (i / roomSize);
    }

    int node(int i) {
        return (i / agents) % nodes;
    }

    /** Connections to node {@code n}. */
    int connectionsOn(int n) {
        int count = 0;
        for (int i = 0; i < connections; i++) {
            count += node(i) == n ? 1 : 0;
        }
        return count;
    }

    int agent(int i) {
        return i % agents;
    }

    boolean sender(int i) {
        return rate > 0 && i % roomSize < sendersPerRoom;
    }

    /** Lifecycle: when user {@code i} arrives, in seconds from the start; the arrival rate ramps up linearly over {@code ramp}. */
    double arrival(int i) {
        return ramp * Math.sqrt((double) i / connections);
    }

    /**
     * When this agent's {@code k}-th user (in its own order) starts connecting, in nanoseconds from the
     * {@code connect} command: {@code --connect-rate} users per second over all agents (each agent
     * {@code rate / agents}), or all at once (0) — then only {@code --connect-concurrency} paces them.
     */
    long connectStartNanos(int k) {
        return connectRate <= 0 ? 0 : (long) (k * 1e9 * agents / connectRate);
    }

    /** Messages a room gets per second: the total rate shared by all senders. */
    double ratePerSender() {
        int senders = senders();
        return senders == 0 ? 0 : rate / senders;
    }
}
