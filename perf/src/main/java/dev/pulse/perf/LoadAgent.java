package dev.pulse.perf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * One load-generating JVM of {@link ScaleBenchmark}: it holds its share of a {@link ScalePlan}'s
 * connections (connection {@code i} with {@code i mod agents == agent}) over lean WebSockets and
 * acts as its scenario's users. The runner drives it through stdin and stdout, one JSON object a
 * line: the agent says {@code {"event":"ready"}}, then answers each command
 * ({@code {"cmd":"connect"}}, {@code traffic}, {@code window}, {@code storm}, {@code verify},
 * {@code lifecycle}, {@code report}, {@code stop}) with one {@code {"event":"<cmd>",…}} line. Its
 * own log goes to stderr.
 *
 * <pre>java -cp … dev.pulse.perf.LoadAgent --agent 0 --node-urls http://127.0.0.1:8080 --scenario idle --connections 1000 …</pre>
 */
public final class LoadAgent {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PING = "{\"type\":\"ping\",\"ref\":\"p\"}";
    private static final String JOIN_REF = "j";
    /** A node that cannot admit a socket or a login in time answers 503: "try again", which clients do. */
    private static final Set<String> RETRYABLE_CONNECT = Set.of("handshake:503", "login:503");
    private static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);
    private static final long TICK_MS = 100;

    private enum Phase { NEW, CONNECTING, JOINING, RESYNC, LIVE, LEAVING, CLOSING, DROPPED, DONE, FAILED }

    private final ScalePlan plan;
    private final int agent;
    private final List<URI> nodes;
    private final SimUser[] users;
    private final SimUser[] senders;
    private final SimUser[][] pingWheel;
    private final ExecutorService callbacks;
    private final ScheduledExecutorService timer;
    private final HttpClient[] wsClients;
    private final HttpClient loginClient;
    private final AsyncLimiter connects;
    private final AsyncLimiter logins;
    private final String padding;
    private final PrintStream out;

    private volatile boolean window;
    private volatile boolean sending;
    private volatile long sendingSince;
    private volatile long stormStart;
    private volatile CountDownLatch lifecycleDone = new CountDownLatch(0);
    private long scheduledSends;
    private int senderCursor;
    private long pingTicks;

    // ------------------------------------------------------------------ metrics
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicInteger peakOpen = new AtomicInteger();
    private final AtomicLong ids = new AtomicLong();
    private final LongAdder deliveredWindow = new LongAdder();
    /** Deliveries in the window whose sender is connected to another node than the receiver. */
    private final LongAdder deliveredCrossWindow = new LongAdder();
    /** Deliveries in the window by the receiver's node. */
    private final LongAdder[] deliveredWindowByNode;
    private final LongAdder deliveredTotal = new LongAdder();
    private final LongAdder replayed = new LongAdder();
    private final LongAdder missed = new LongAdder();
    private final LongAdder duplicates = new LongAdder();
    private final LongAdder sent = new LongAdder();
    private final LongAdder sentWindow = new LongAdder();
    /** Characters (bytes: the frames are ASCII) of the message frames counted in deliveredWindow. */
    private final LongAdder deliveredBytesWindow = new LongAdder();
    private final LongAdder acked = new LongAdder();
    private final LongAdder skippedSends = new LongAdder();
    private final LongAdder pingsSent = new LongAdder();
    private final LongAdder pongs = new LongAdder();
    private final LongAdder unansweredPings = new LongAdder();
    private final LongAdder retries = new LongAdder();
    private final LongAdder framesIn = new LongAdder();
    /** Failures by kind: {@code login:<status>}, {@code handshake:…}, {@code join:<code>}, {@code timeout:<phase>}, {@code frame:<code>}, {@code close:<code> <reason>}. */
    private final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
    /** Why attempts were retried: storm reconnects, joins answered unavailable, first connects answered 503 (not failures unless the last attempt fails too). */
    private final Map<String, LongAdder> retryCauses = new ConcurrentHashMap<>();
    private final Map<String, Long> maxAckSeq = new ConcurrentHashMap<>();
    private final LatencyHistogram delivery = new LatencyHistogram();
    private final LatencyHistogram deliveryCross = new LatencyHistogram();
    private final LatencyHistogram deliveryLocal = new LatencyHistogram();
    private final LatencyHistogram ack = new LatencyHistogram();
    private final LatencyHistogram pong = new LatencyHistogram();
    private final LatencyHistogram connectTime = new LatencyHistogram();
    private final LatencyHistogram syncTime = new LatencyHistogram();

    public static void main(String[] argv) throws Exception {
        Map<String, String> options = Args.parse(argv);
        int agent = Integer.parseInt(options.remove("agent"));
        List<URI> nodes = Arrays.stream(options.remove("node-urls").split(",")).map(URI::create).toList();
        LoadAgent load = new LoadAgent(ScalePlan.from(options), agent, nodes, System.out);
        load.emit(new Json().put("event", "ready").put("pid", ProcessHandle.current().pid()).put("users", load.users.length));
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) { // end of input: the runner is gone
            JsonNode command = JSON.readTree(line);
            String name = command.path("cmd").asText();
            Json answer;
            try {
                answer = load.handle(name, command);
            } catch (Exception e) {
                load.log("command " + name + " failed: " + e);
                answer = new Json().put("event", name).put("failure", e.toString());
            }
            load.emit(answer);
            if (name.equals("stop")) {
                break;
            }
        }
        load.abortAll();
        System.exit(0);
    }

    LoadAgent(ScalePlan plan, int agent, List<URI> nodes, PrintStream out) {
        this.plan = plan;
        this.agent = agent;
        this.nodes = nodes;
        this.out = out;
        // text: "<nanoTime> n<sender's node> <padding>", ~textChars long
        this.padding = "x".repeat(Math.max(1, plan.textChars() - 23));
        this.deliveredWindowByNode = new LongAdder[Math.max(1, plan.nodes())];
        Arrays.setAll(deliveredWindowByNode, n -> new LongAdder());
        this.callbacks = Executors.newFixedThreadPool(2, Bench.daemon("agent-io"));
        this.timer = Executors.newSingleThreadScheduledExecutor(Bench.daemon("agent-timer"));
        this.wsClients = new HttpClient[Math.max(1, plan.httpClients())];
        for (int i = 0; i < wsClients.length; i++) {
            wsClients[i] = HttpClient.newBuilder().executor(callbacks).build();
        }
        this.loginClient = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).executor(callbacks)
            .connectTimeout(Duration.ofSeconds(10)).build();
        this.connects = new AsyncLimiter(plan.connectConcurrency(), callbacks);
        this.logins = new AsyncLimiter(plan.loginConcurrency(), callbacks);

        List<SimUser> mine = new ArrayList<>();
        List<SimUser> sending = new ArrayList<>();
        Map<Integer, String> roomNames = new HashMap<>();
        for (int i = agent; i < plan.connections(); i += plan.agents()) {
            String room = roomNames.computeIfAbsent(i / plan.roomSize(), r -> plan.room(r * plan.roomSize()));
            int node = plan.node(i) % nodes.size();
            SimUser u = new SimUser(i, mine.size(), plan.user(i), room, node, nodes.get(node), plan.sender(i));
            mine.add(u);
            if (u.sender) {
                sending.add(u);
            }
        }
        this.users = mine.toArray(new SimUser[0]);
        this.senders = sending.toArray(new SimUser[0]);
        int slots = (int) Math.max(1, plan.pingSeconds() * 1000L / TICK_MS);
        List<List<SimUser>> wheel = new ArrayList<>();
        for (int s = 0; s < slots; s++) {
            wheel.add(new ArrayList<>());
        }
        for (SimUser u : users) {
            wheel.get(u.local % slots).add(u);
        }
        this.pingWheel = wheel.stream().map(l -> l.toArray(new SimUser[0])).toArray(SimUser[][]::new);
        if (plan.pingSeconds() > 0) {
            timer.scheduleAtFixedRate(this::pingTick, TICK_MS, TICK_MS, TimeUnit.MILLISECONDS);
        }
        timer.scheduleAtFixedRate(this::sendTick, 5, 5, TimeUnit.MILLISECONDS);
    }

    // ------------------------------------------------------------------ commands

    private Json handle(String name, JsonNode command) throws Exception {
        Json answer = new Json().put("event", name);
        switch (name) {
            case "connect" -> {
                long start = System.nanoTime();
                List<CompletableFuture<Void>> all = new ArrayList<>();
                for (int k = 0; k < users.length; k++) {
                    SimUser u = users[k];
                    long startNanos = plan.connectStartNanos(k);
                    if (startNanos <= 0) {
                        all.add(connect(u, false));
                    } else { // --connect-rate: a steady ramp instead of a storm
                        CompletableFuture<Void> done = new CompletableFuture<>();
                        timer.schedule(() -> callbacks.execute(() -> connect(u, false).whenComplete((ok, error) -> {
                            if (error != null) {
                                done.completeExceptionally(error);
                            } else {
                                done.complete(null);
                            }
                        })), startNanos, TimeUnit.NANOSECONDS);
                        all.add(done);
                    }
                }
                ScheduledFuture<?> progress = timer.scheduleAtFixedRate(() -> log("connecting: " + all.stream()
                    .filter(f -> f.isDone() && !f.isCompletedExceptionally()).count() + " of " + users.length + " joined, "
                    + all.stream().filter(CompletableFuture::isCompletedExceptionally).count() + " failed, " + open.get() + " sockets open, "
                    + retries.sum() + " join retries"), 60, 60, TimeUnit.SECONDS);
                int ok = awaitAll(all);
                progress.cancel(false);
                answer.put("connected", ok).put("failed", users.length - ok).put("seconds", Bench.round((System.nanoTime() - start) / 1e9, 2));
            }
            case "window" -> window = command.path("on").asBoolean();
            case "traffic" -> {
                if (command.path("on").asBoolean()) {
                    synchronized (this) {
                        scheduledSends = 0;
                        sendingSince = System.nanoTime();
                        sending = true;
                    }
                } else {
                    sending = false;
                    Bench.await(() -> unacked() == 0, Duration.ofSeconds(30));
                    answer.put("unacked", unacked()).putRaw("maxAckSeq", JSON.writeValueAsString(new TreeMap<>(maxAckSeq)));
                }
            }
            case "storm" -> storm(answer);
            case "verify" -> verify(command.get("rooms"), answer);
            case "lifecycle" -> lifecycle(answer);
            case "report" -> report(answer);
            case "stop" -> abortAll();
            default -> throw new IllegalArgumentException("unknown command " + name);
        }
        return answer;
    }

    /** Waits for every stage; the number that succeeded. */
    private static int awaitAll(List<CompletableFuture<Void>> all) {
        int ok = 0;
        for (CompletableFuture<Void> f : all) {
            try {
                f.join();
                ok++;
            } catch (CompletionException | java.util.concurrent.CancellationException failed) {
                // counted where it failed
            }
        }
        return ok;
    }

    /** Every live socket dropped at once (no close handshake), then all reconnect and resume with {@code since}. */
    private void storm(Json answer) {
        stormStart = System.nanoTime();
        List<SimUser> dropped = new ArrayList<>();
        for (SimUser u : users) {
            if (u.drop()) {
                dropped.add(u);
            }
        }
        log("dropped " + dropped.size() + " sockets; reconnecting");
        long deadline = stormStart + TimeUnit.SECONDS.toNanos(plan.syncTimeout());
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (SimUser u : dropped) {
            all.add(reconnect(u, deadline));
        }
        int ok = awaitAll(all);
        answer.put("dropped", dropped.size()).put("synced", ok).put("failed", dropped.size() - ok)
            .put("allSyncedSeconds", Bench.round((System.nanoTime() - stormStart) / 1e9, 3));
    }

    /** Reconnects until synced, with a short random back-off between attempts, until {@code deadline}. */
    private CompletableFuture<Void> reconnect(SimUser u, long deadline) {
        return connect(u, true).handle((ok, error) -> {
            if (error == null) {
                return CompletableFuture.<Void>completedFuture(null);
            }
            long backoffMs = 200 + ThreadLocalRandom.current().nextLong(800);
            if (System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoffMs) > deadline) {
                count(errors, kind(error, u));
                u.fail();
                return CompletableFuture.<Void>failedFuture(error);
            }
            retries.increment();
            count(retryCauses, kind(error, u));
            java.util.concurrent.Executor delayed = CompletableFuture.delayedExecutor(backoffMs, TimeUnit.MILLISECONDS, callbacks);
            return CompletableFuture.supplyAsync(() -> null, delayed).thenCompose(x -> reconnect(u, deadline));
        }).thenCompose(f -> f);
    }

    /** After the traffic: waits until every live user has seen its room's last message; what is still missing then is missed. */
    private void verify(JsonNode rooms, Json answer) {
        Map<String, Long> targets = new HashMap<>();
        rooms.properties().forEach(e -> targets.put(e.getKey(), e.getValue().asLong()));
        Bench.await(() -> shortOfTargets(targets) == 0, Duration.ofSeconds(60));
        long missing = shortOfTargets(targets);
        missed.add(missing);
        answer.put("missingAtEnd", missing);
    }

    private long shortOfTargets(Map<String, Long> targets) {
        long missing = 0;
        for (SimUser u : users) {
            missing += u.shortOf(targets.getOrDefault(u.room, 0L));
        }
        return missing;
    }

    /**
     * The ancestor's Artillery scenario: user {@code i} arrives at {@link ScalePlan#arrival}, logs in,
     * connects, joins, posts one message, pings every {@code ping-seconds} for {@code hold} seconds,
     * leaves and closes. Answers when every user is done, with the open sockets of each second.
     */
    private void lifecycle(Json answer) throws InterruptedException {
        CountDownLatch done = new CountDownLatch(users.length);
        lifecycleDone = done;
        window = true;
        List<Integer> series = new ArrayList<>();
        ScheduledFuture<?> sampler = timer.scheduleAtFixedRate(() -> {
            synchronized (series) {
                series.add(open.get());
            }
        }, 0, 1, TimeUnit.SECONDS);
        for (SimUser u : users) {
            timer.schedule(() -> arrive(u), (long) (plan.arrival(u.index) * 1_000_000), TimeUnit.MICROSECONDS);
        }
        boolean finished = done.await(plan.ramp() + plan.hold() + 300L, TimeUnit.SECONDS);
        sampler.cancel(false);
        synchronized (series) {
            series.add(open.get());
            answer.put("finished", finished).put("unfinished", done.getCount()).putRaw("openSeries", series.toString().replace(" ", ""));
        }
    }

    private void arrive(SimUser u) {
        connect(u, false).whenComplete((ok, error) -> {
            if (error == null) {
                u.post();
                timer.schedule(u::leave, plan.hold(), TimeUnit.SECONDS);
            }
        });
    }

    private void report(Json answer) {
        answer.put("open", open.get()).put("peakOpen", peakOpen.get())
            .put("deliveredWindow", deliveredWindow.sum()).put("deliveredTotal", deliveredTotal.sum())
            .put("deliveredCrossWindow", deliveredCrossWindow.sum())
            .putRaw("deliveredWindowByNode", Arrays.toString(Arrays.stream(deliveredWindowByNode).mapToLong(LongAdder::sum).toArray()).replace(" ", ""))
            .put("replayed", replayed.sum()).put("missed", missed.sum()).put("duplicates", duplicates.sum())
            .put("sent", sent.sum()).put("sentWindow", sentWindow.sum()).put("deliveredBytesWindow", deliveredBytesWindow.sum())
            .put("acked", acked.sum()).put("unacked", unacked()).put("skippedSends", skippedSends.sum())
            .put("pingsSent", pingsSent.sum()).put("pongs", pongs.sum()).put("unansweredPings", unansweredPings.sum())
            .put("retries", retries.sum()).put("framesIn", framesIn.sum())
            .putRaw("errors", counts(errors)).putRaw("retryCauses", counts(retryCauses))
            .putRaw("delivery", delivery.toJson()).putRaw("deliveryCross", deliveryCross.toJson())
            .putRaw("deliveryLocal", deliveryLocal.toJson()).putRaw("ack", ack.toJson()).putRaw("pong", pong.toJson())
            .putRaw("connect", connectTime.toJson()).putRaw("sync", syncTime.toJson())
            .put("cpuSec", ProcStats.cpuSeconds(ProcessHandle.current().pid(), false))
            .put("rssMb", Bench.round(ProcStats.rssMb(ProcessHandle.current().pid()), 1));
    }

    /** The sender's node from a message text {@code "<nanoTime> n<node> …"}, or -1. */
    static int senderNode(CharSequence frame) {
        int at = LeanSocket.indexOf(frame, "\"text\":\"");
        if (at < 0) {
            return -1;
        }
        at += 8;
        while (at < frame.length() && Character.isDigit(frame.charAt(at))) {
            at++;
        }
        if (at + 2 >= frame.length() || frame.charAt(at) != ' ' || frame.charAt(at + 1) != 'n') {
            return -1;
        }
        int node = 0;
        int digits = 0;
        for (at += 2; at < frame.length() && Character.isDigit(frame.charAt(at)); at++, digits++) {
            node = node * 10 + frame.charAt(at) - '0';
        }
        return digits == 0 ? -1 : node;
    }

    private static String counts(Map<String, LongAdder> map) {
        Json j = new Json();
        new TreeMap<>(map).forEach((k, v) -> j.put(k, v.sum()));
        return j.toString();
    }

    private long unacked() {
        long n = 0;
        for (SimUser u : senders) {
            n += u.pendingCount();
        }
        for (SimUser u : users) {
            if (!u.sender) {
                n += u.pendingCount(); // the lifecycle's one post
            }
        }
        return n;
    }

    private void abortAll() {
        sending = false;
        for (SimUser u : users) {
            u.abort();
        }
    }

    // ------------------------------------------------------------------ timers

    private void pingTick() {
        SimUser[] slot = pingWheel[(int) (pingTicks++ % pingWheel.length)];
        for (SimUser u : slot) {
            u.ping();
        }
    }

    /** Fixed total rate: the messages due since the start go out round-robin over this agent's senders. */
    private synchronized void sendTick() {
        if (!sending || senders.length == 0) {
            return;
        }
        double agentRate = plan.ratePerSender() * senders.length;
        long due = (long) (agentRate * (System.nanoTime() - sendingSince) / 1e9) - scheduledSends;
        long cap = Math.max(1, (long) agentRate); // more than a second behind (a stall): skip, do not burst
        if (due > cap) {
            skippedSends.add(due - cap);
            scheduledSends += due - cap;
            due = cap;
        }
        for (long k = 0; k < due; k++) {
            scheduledSends++;
            boolean ok = false;
            for (int tries = 0; tries < senders.length && !ok; tries++) {
                ok = senders[senderCursor++ % senders.length].send();
            }
            if (!ok) {
                skippedSends.increment(); // every sender is reconnecting
            }
        }
    }

    // ------------------------------------------------------------------ connecting

    /** Login (once), socket, welcome, join (with {@code since} when resuming), joined or synced. */
    private CompletableFuture<Void> connect(SimUser u, boolean resume) {
        return connect(u, resume, 0);
    }

    /**
     * One attempt; a first connect that the node answers with 503 (it could not admit the socket in
     * time: "try again") is attempted again after a pause, as a real client does, while the connect
     * timeout since the first attempt ({@code firstStarted}, 0 for this one) allows. Retries are
     * counted with their cause, not as errors.
     */
    private CompletableFuture<Void> connect(SimUser u, boolean resume, long firstStarted) {
        CompletableFuture<Void> ready = connects.submit(() -> {
            u.connectStarted = firstStarted != 0 ? firstStarted : System.nanoTime();
            CompletableFuture<String> token = u.token != null ? CompletableFuture.completedFuture(u.token)
                : logins.submit(() -> login(u));
            return token.thenCompose(t -> u.open(t, resume)).orTimeout(plan.connectTimeout(), TimeUnit.SECONDS);
        });
        if (resume) {
            return ready; // reconnect() decides between another attempt and a failure
        }
        return ready.handle((ok, error) -> {
            if (error == null) {
                return CompletableFuture.<Void>completedFuture(null);
            }
            String kind = kind(error, u);
            long backoffMs = 500 + ThreadLocalRandom.current().nextLong(1000);
            long started = u.connectStarted;
            boolean inTime = System.nanoTime() - started + TimeUnit.MILLISECONDS.toNanos(backoffMs)
                < TimeUnit.SECONDS.toNanos(plan.connectTimeout());
            if (!RETRYABLE_CONNECT.contains(kind) || !inTime) {
                count(errors, kind);
                u.fail();
                return CompletableFuture.<Void>failedFuture(error);
            }
            retries.increment();
            count(retryCauses, kind);
            java.util.concurrent.Executor delayed = CompletableFuture.delayedExecutor(backoffMs, TimeUnit.MILLISECONDS, callbacks);
            return CompletableFuture.supplyAsync(() -> null, delayed).thenCompose(x -> connect(u, false, started));
        }).thenCompose(f -> f);
    }

    private CompletableFuture<String> login(SimUser u) {
        HttpRequest request = HttpRequest.newBuilder(u.node.resolve("/api/login"))
            .timeout(Duration.ofSeconds(30))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString("{\"user\":\"" + u.name + "\"}"))
            .build();
        return loginClient.sendAsync(request, HttpResponse.BodyHandlers.ofString()).handle((response, error) -> {
            if (error != null) {
                throw new Failure("login:" + unwrap(error).getClass().getSimpleName());
            }
            String token = response.statusCode() == 200 ? LeanSocket.field(response.body(), "\"token\":\"") : null;
            if (token == null) {
                throw new Failure("login:" + response.statusCode());
            }
            return token;
        });
    }

    private static Throwable unwrap(Throwable e) {
        while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }

    private static String kind(Throwable error, SimUser u) {
        Throwable e = unwrap(error);
        if (e instanceof Failure f) {
            return f.kind;
        }
        if (e instanceof TimeoutException) {
            return "timeout:" + u.phaseName();
        }
        return "error:" + e.getClass().getSimpleName();
    }

    private static void count(Map<String, LongAdder> map, String key) {
        map.computeIfAbsent(key, k -> new LongAdder()).increment();
    }

    /** A failure of a known kind, without a stack trace (thousands may happen in a storm). */
    static final class Failure extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final String kind;

        Failure(String kind) {
            super(kind, null, false, false);
            this.kind = kind;
        }
    }

    // ------------------------------------------------------------------ one user

    private record Pending(String frame, long sentAt, boolean retried) {}

    /** One simulated user with one socket at a time; its methods hold its lock (the callbacks of old sockets included). */
    private final class SimUser {
        final int index;
        final int local;
        final String name;
        final String room;
        final int nodeIndex;
        final URI node;
        final boolean sender;
        volatile String token;
        volatile long connectStarted;
        private Wire wire;
        private Phase phase = Phase.NEW;
        private long lastSeq = -1;
        private long pingSentAt;
        private boolean counted;
        private boolean resuming;
        private boolean finished;
        private CompletableFuture<Void> ready;
        private LinkedHashMap<String, Pending> pending;

        SimUser(int index, int local, String name, String room, int nodeIndex, URI node, boolean sender) {
            this.index = index;
            this.local = local;
            this.name = name;
            this.room = room;
            this.nodeIndex = nodeIndex;
            this.node = node;
            this.sender = sender;
        }

        synchronized String phaseName() {
            return token == null ? "login" : phase.name().toLowerCase();
        }

        synchronized CompletableFuture<Void> open(String token, boolean resume) {
            this.token = token;
            this.resuming = resume;
            phase = Phase.CONNECTING;
            ready = new CompletableFuture<>();
            Wire w = new Wire(this);
            wire = w;
            w.open(wsClients[local % wsClients.length], LeanSocket.wsUri(node, token), HANDSHAKE_TIMEOUT)
                .whenComplete((socket, error) -> {
                    if (error != null) {
                        failAttempt(w, handshakeKind(unwrap(error)));
                    }
                });
            return ready;
        }

        private String handshakeKind(Throwable e) {
            if (e instanceof WebSocketHandshakeException h) {
                return "handshake:" + h.getResponse().statusCode();
            }
            if (e instanceof HttpTimeoutException) {
                return "handshake:timeout";
            }
            if (e instanceof ConnectException) {
                return "handshake:refused";
            }
            return "handshake:" + e.getClass().getSimpleName();
        }

        /** The current attempt failed: the connect stage fails (and is counted, or retried, there). */
        private synchronized void failAttempt(Wire w, String kind) {
            if (w != wire) {
                return;
            }
            discardWire();
            phase = Phase.FAILED;
            if (ready != null && !ready.isDone()) {
                ready.completeExceptionally(new Failure(kind));
            }
        }

        synchronized void fail() {
            discardWire();
            phase = Phase.FAILED;
            finish();
        }

        private void discardWire() {
            Wire w = wire;
            wire = null;
            pingSentAt = 0;
            if (counted) {
                counted = false;
                open.decrementAndGet();
            }
            if (w != null) {
                w.abort();
            }
        }

        private void finish() {
            if (!finished) {
                finished = true;
                lifecycleDone.countDown();
            }
        }

        synchronized void onOpen(Wire w) {
            if (w == wire && !counted) {
                counted = true;
                peakOpen.accumulateAndGet(open.incrementAndGet(), Math::max);
            }
        }

        synchronized void onFrame(Wire w, CharSequence frame) {
            if (w != wire) {
                return; // a dropped socket's last frames
            }
            long now = System.nanoTime();
            framesIn.increment();
            String type = LeanSocket.field(frame, "\"type\":\"");
            switch (type == null ? "" : type) {
                case "welcome" -> {
                    if (phase == Phase.CONNECTING) {
                        phase = Phase.JOINING;
                        sendJoin(w);
                    }
                }
                case "joined" -> {
                    if (phase == Phase.JOINING) {
                        if (resuming && lastSeq >= 0) {
                            phase = Phase.RESYNC; // the replay, then synced
                        } else {
                            lastSeq = Math.max(lastSeq, LeanSocket.number(frame, "\"lastSeq\":"));
                            goLive(now);
                        }
                    }
                }
                case "synced" -> {
                    if (phase == Phase.RESYNC) {
                        goLive(now);
                    }
                }
                case "message" -> onMessage(frame, now);
                case "ack" -> onAck(frame, now);
                case "pong" -> {
                    if (pingSentAt != 0) {
                        pong.recordNanos(now - pingSentAt);
                        pongs.increment();
                        pingSentAt = 0;
                    }
                }
                case "left" -> {
                    if (phase == Phase.LEAVING) {
                        if (pingSentAt != 0) {
                            unansweredPings.increment(); // its pong would have come before left
                            pingSentAt = 0;
                        }
                        if (pending != null && !pending.isEmpty()) {
                            count(errors, "unacked-at-leave");
                            pending.clear();
                        }
                        phase = Phase.CLOSING;
                        w.close(WebSocket.NORMAL_CLOSURE, "bye");
                    }
                }
                case "error" -> {
                    String code = LeanSocket.field(frame, "\"code\":\"");
                    String ref = LeanSocket.field(frame, "\"ref\":\"");
                    if (JOIN_REF.equals(ref) && phase == Phase.JOINING && "unavailable".equals(code)) {
                        // retryable (PROTOCOL.md, Errors): the same join again after a pause, within the connect timeout
                        retries.increment();
                        count(retryCauses, "join:unavailable");
                        timer.schedule(() -> rejoin(w), 500 + ThreadLocalRandom.current().nextLong(1000), TimeUnit.MILLISECONDS);
                    } else if (JOIN_REF.equals(ref) && (phase == Phase.JOINING || phase == Phase.RESYNC)) {
                        failAttempt(w, "join:" + code);
                    } else {
                        count(errors, "frame:" + code);
                        if (ref != null && pending != null) {
                            pending.remove(ref); // a send answered by an error: counted, not retried
                        }
                    }
                }
                default -> {
                    // presence, typing
                }
            }
        }

        private void sendJoin(Wire w) {
            String since = resuming && lastSeq >= 0 ? ",\"since\":" + lastSeq : "";
            w.sendFrame("{\"type\":\"join\",\"ref\":\"" + JOIN_REF + "\",\"room\":\"" + room + "\"" + since + "}");
        }

        private synchronized void rejoin(Wire w) {
            if (w == wire && phase == Phase.JOINING) {
                sendJoin(w);
            }
        }

        private void goLive(long now) {
            phase = Phase.LIVE;
            if (resuming) {
                resuming = false;
                syncTime.recordNanos(now - stormStart);
                if (pending != null) { // sends whose ack the drop lost: again, with the same id (idempotent)
                    List<Pending> again = new ArrayList<>(pending.values());
                    for (Pending p : again) {
                        pending.put(idOf(p), new Pending(p.frame(), p.sentAt(), true));
                        wire.sendFrame(p.frame());
                    }
                }
            } else {
                connectTime.recordNanos(now - connectStarted);
            }
            ready.complete(null);
        }

        private String idOf(Pending p) {
            return LeanSocket.field(p.frame(), "\"id\":\"");
        }

        private void onMessage(CharSequence frame, long now) {
            long seq = LeanSocket.number(frame, "\"seq\":");
            if (lastSeq >= 0) {
                if (seq <= lastSeq) {
                    duplicates.increment();
                } else if (seq > lastSeq + 1) {
                    missed.add(seq - lastSeq - 1);
                }
            }
            lastSeq = Math.max(lastSeq, seq);
            deliveredTotal.increment();
            if (phase != Phase.LIVE && phase != Phase.LEAVING) {
                replayed.increment();
            } else if (window) {
                deliveredWindow.increment();
                deliveredWindowByNode[nodeIndex].increment();
                deliveredBytesWindow.add(frame.length());
                long sentAt = LeanSocket.number(frame, "\"text\":\"");
                if (sentAt > 0) {
                    long latency = now - sentAt; // System.nanoTime is CLOCK_MONOTONIC: one clock for every JVM here
                    delivery.recordNanos(latency);
                    int from = senderNode(frame);
                    if (from >= 0 && from != nodeIndex) {
                        deliveredCrossWindow.increment();
                        deliveryCross.recordNanos(latency);
                    } else if (from >= 0) {
                        deliveryLocal.recordNanos(latency);
                    }
                }
            }
        }

        private void onAck(CharSequence frame, long now) {
            String id = LeanSocket.field(frame, "\"id\":\"");
            Pending p = pending == null ? null : pending.remove(id);
            if (p == null) {
                return;
            }
            acked.increment();
            if (!p.retried() && window) {
                ack.recordNanos(now - p.sentAt());
            }
            long seq = LeanSocket.number(frame, "\"seq\":");
            maxAckSeq.merge(room, seq, Math::max);
        }

        /** A message stamped with the send time (receivers compute the delivery latency from it); false when not live. */
        synchronized boolean send() {
            if (phase != Phase.LIVE || wire == null) {
                return false;
            }
            long now = System.nanoTime();
            String id = "a" + agent + "." + ids.incrementAndGet();
            String frame = "{\"type\":\"send\",\"ref\":\"" + id + "\",\"room\":\"" + room + "\",\"id\":\"" + id
                + "\",\"text\":\"" + now + " n" + nodeIndex + " " + padding + "\"}";
            if (pending == null) {
                pending = new LinkedHashMap<>();
            }
            pending.put(id, new Pending(frame, now, false));
            sent.increment();
            if (window) {
                sentWindow.increment();
            }
            wire.sendFrame(frame);
            return true;
        }

        void post() {
            if (!send()) {
                count(errors, "post-not-live");
            }
        }

        synchronized int pendingCount() {
            return pending == null ? 0 : pending.size();
        }

        synchronized void ping() {
            if (phase != Phase.LIVE || wire == null) {
                return;
            }
            if (pingSentAt != 0) {
                unansweredPings.increment(); // not answered within a whole interval
            }
            pingSentAt = System.nanoTime();
            pingsSent.increment();
            wire.sendFrame(PING);
        }

        synchronized void leave() {
            if (phase != Phase.LIVE || wire == null) {
                return;
            }
            phase = Phase.LEAVING;
            wire.sendFrame("{\"type\":\"leave\",\"ref\":\"l\",\"room\":\"" + room + "\"}");
            timer.schedule(this::leaveTimedOut, 15, TimeUnit.SECONDS);
        }

        private synchronized void leaveTimedOut() {
            if (!finished && (phase == Phase.LEAVING || phase == Phase.CLOSING)) {
                count(errors, "timeout:" + phase.name().toLowerCase());
                discardWire();
                phase = Phase.FAILED;
                finish();
            }
        }

        /** Storm: drops the socket without a close handshake; true when it was live. */
        synchronized boolean drop() {
            if (phase != Phase.LIVE || wire == null) {
                return false;
            }
            discardWire();
            phase = Phase.DROPPED;
            return true;
        }

        synchronized long shortOf(long target) {
            return phase == Phase.LIVE && lastSeq < target ? target - lastSeq : 0;
        }

        synchronized void abort() {
            discardWire();
        }

        synchronized void onClosed(Wire w, String kind) {
            if (w != wire) {
                return;
            }
            if (phase == Phase.CLOSING) {
                discardWire();
                phase = Phase.DONE;
                finish();
                return;
            }
            if (ready != null && !ready.isDone()) {
                failAttempt(w, kind);
                return;
            }
            count(errors, kind);
            discardWire();
            phase = Phase.FAILED;
            finish();
        }
    }

    /** One socket of a user; a reconnect makes a new one, so the callbacks of the old one are told apart. */
    private static final class Wire extends LeanSocket {
        private final SimUser user;

        Wire(SimUser user) {
            this.user = user;
        }

        @Override
        public void onOpen(WebSocket webSocket) {
            super.onOpen(webSocket);
            user.onOpen(this);
        }

        @Override
        void onFrame(CharSequence frame) {
            user.onFrame(this, frame);
        }

        @Override
        public java.util.concurrent.CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            user.onClosed(this, "close:" + statusCode + (reason == null || reason.isEmpty() ? "" : " " + reason));
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            user.onClosed(this, "socket:" + error.getClass().getSimpleName());
        }
    }

    // ------------------------------------------------------------------ output

    private synchronized void emit(Json event) {
        out.println(event);
        out.flush();
    }

    private void log(String message) {
        System.err.println("[agent-" + agent + "] " + message);
    }
}
