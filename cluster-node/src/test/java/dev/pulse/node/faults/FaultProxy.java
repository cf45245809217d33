package dev.pulse.node.faults;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy for tests that makes a bad network between clients and a node: latency with jitter
 * (order preserved), a bandwidth cap, a black hole ({@link #stallAll()}: nothing is forwarded and
 * nothing is closed, both ways, until {@link #resume()}), resets (RST) on demand or at random per
 * chunk. Settings change at runtime. Each connection has a reader and a writer thread per direction;
 * at most {@link #MAX_LINKS} connections are served at once. It counts the bytes it has written to
 * the upstream side ({@link #bytesToUpstream()}): what crossed into the node behind it.
 * <p>{@code main(listenHost, upstreamHost, upstreamPort)} runs a plain relay (used inside a network
 * namespace); it prints {@code PORT <n>} and stops when its standard input closes.
 */
public final class FaultProxy implements AutoCloseable {

    static final int MAX_LINKS = 32;
    private static final byte[] EOF = new byte[0];
    private static final byte[] RESET = new byte[0];

    private final ServerSocket server;
    private final InetSocketAddress upstream;
    private final Set<Link> links = ConcurrentHashMap.newKeySet();
    private final Object gate = new Object();
    private final AtomicInteger threadIds = new AtomicInteger();
    private final AtomicLong accepted = new AtomicLong();
    private final AtomicLong randomResets = new AtomicLong();
    private final AtomicLong bytesToUpstream = new AtomicLong();
    private volatile long latencyMs;
    private volatile long jitterMs;
    private volatile long bytesPerSecond;
    private volatile double resetProbability;
    private boolean stalled;
    private volatile boolean closed;

    public FaultProxy(String listenHost, InetSocketAddress upstream) throws IOException {
        this.upstream = upstream;
        this.server = new ServerSocket(0, 50, InetAddress.getByName(listenHost));
        start("accept", this::acceptLoop);
    }

    /** A proxy on 127.0.0.1 to a local port. */
    public static FaultProxy to(int upstreamPort) throws IOException {
        return new FaultProxy("127.0.0.1", new InetSocketAddress("127.0.0.1", upstreamPort));
    }

    public int port() {
        return server.getLocalPort();
    }

    public FaultProxy latency(long latencyMs, long jitterMs) {
        this.latencyMs = latencyMs;
        this.jitterMs = jitterMs;
        return this;
    }

    /** 0 = unlimited; per connection and direction. */
    public FaultProxy bandwidth(long bytesPerSecond) {
        this.bytesPerSecond = bytesPerSecond;
        return this;
    }

    public FaultProxy resetProbability(double perChunk) {
        this.resetProbability = perChunk;
        return this;
    }

    /** Stops forwarding both ways, for open and new connections; data, EOFs and resets are held. */
    public void stallAll() {
        synchronized (gate) {
            stalled = true;
        }
    }

    public void resume() {
        synchronized (gate) {
            stalled = false;
            gate.notifyAll();
        }
    }

    /** Closes every connection with a TCP RST on both sides. */
    public void resetAll() {
        links.forEach(Link::reset);
    }

    public long accepted() {
        return accepted.get();
    }

    public long randomResets() {
        return randomResets.get();
    }

    /** Bytes written to the upstream side so far, over all connections. */
    public long bytesToUpstream() {
        return bytesToUpstream.get();
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        resetAll();
        synchronized (gate) {
            gate.notifyAll();
        }
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket client = server.accept();
                accepted.incrementAndGet();
                if (links.size() >= MAX_LINKS) {
                    client.close();
                    continue;
                }
                Socket target = new Socket();
                target.connect(upstream, 2000);
                Link link = new Link(client, target);
                links.add(link);
                start("up", () -> link.read(client, link.up));
                start("up-w", () -> link.write(link.up, target));
                start("down", () -> link.read(target, link.down));
                start("down-w", () -> link.write(link.down, client));
            } catch (IOException e) {
                // accept failed (closing) or upstream refused: the client sees its socket closed
            }
        }
    }

    private void start(String name, Runnable body) {
        Thread thread = new Thread(body, "fault-proxy-" + port() + "-" + name + "-" + threadIds.incrementAndGet());
        thread.setDaemon(true);
        thread.start();
    }

    private record Chunk(byte[] bytes, long dueNanos) {}

    /** One proxied connection: a queue of delayed chunks per direction. */
    private final class Link {
        final Socket client;
        final Socket target;
        final BlockingQueue<Chunk> up = new LinkedBlockingQueue<>(256);
        final BlockingQueue<Chunk> down = new LinkedBlockingQueue<>(256);
        final AtomicInteger eofs = new AtomicInteger();
        volatile boolean dead;

        Link(Socket client, Socket target) {
            this.client = client;
            this.target = target;
        }

        void read(Socket from, BlockingQueue<Chunk> queue) {
            byte[] buffer = new byte[16 * 1024];
            long lastDue = 0;
            try {
                InputStream in = from.getInputStream(); // not closed here: that would close the socket
                while (!dead) {
                    int n;
                    try {
                        n = in.read(buffer);
                    } catch (IOException e) {
                        n = -2;
                    }
                    if (n > 0 && ThreadLocalRandom.current().nextDouble() < resetProbability) {
                        randomResets.incrementAndGet();
                        reset();
                        return;
                    }
                    long jitter = jitterMs > 0 ? ThreadLocalRandom.current().nextLong(-jitterMs, jitterMs + 1) : 0;
                    long due = Math.max(lastDue, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.max(0, latencyMs + jitter)));
                    lastDue = due;
                    byte[] bytes = n > 0 ? Arrays.copyOf(buffer, n) : n == -1 ? EOF : RESET;
                    while (!dead && !queue.offer(new Chunk(bytes, due), 100, TimeUnit.MILLISECONDS)) {
                        // the writer is behind (bandwidth, latency or a stall): back-pressure
                    }
                    if (n < 0) {
                        return;
                    }
                }
            } catch (IOException | InterruptedException e) {
                reset();
            }
        }

        void write(BlockingQueue<Chunk> queue, Socket to) {
            long nextFree = System.nanoTime();
            try {
                OutputStream out = to.getOutputStream();
                while (!dead) {
                    Chunk chunk = queue.poll(200, TimeUnit.MILLISECONDS);
                    if (chunk == null) {
                        continue;
                    }
                    awaitTurn(chunk.dueNanos());
                    if (chunk.bytes() == RESET) {
                        reset();
                    } else if (chunk.bytes() == EOF) {
                        to.shutdownOutput();
                        if (eofs.incrementAndGet() == 2) {
                            closeBoth();
                        }
                    } else {
                        for (int off = 0; off < chunk.bytes().length; off += 1024) {
                            int len = Math.min(1024, chunk.bytes().length - off);
                            long rate = bytesPerSecond;
                            if (rate > 0) {
                                awaitTurn(nextFree);
                                nextFree = Math.max(nextFree, System.nanoTime()) + len * 1_000_000_000L / rate;
                            }
                            out.write(chunk.bytes(), off, len);
                        }
                        out.flush();
                        if (to == target) {
                            bytesToUpstream.addAndGet(chunk.bytes().length);
                        }
                    }
                }
            } catch (IOException | InterruptedException e) {
                reset();
            }
        }

        /** Waits until {@code dueNanos} has passed and the proxy is not stalled (or the link is gone). */
        void awaitTurn(long dueNanos) throws InterruptedException {
            synchronized (gate) {
                while (!dead && !closed && (stalled || System.nanoTime() < dueNanos)) {
                    long left = stalled ? TimeUnit.MILLISECONDS.toNanos(100) : dueNanos - System.nanoTime();
                    TimeUnit.NANOSECONDS.timedWait(gate, Math.max(left, 1));
                }
            }
        }

        void reset() {
            dead = true;
            links.remove(this);
            for (Socket socket : new Socket[] {client, target}) {
                try {
                    socket.setSoLinger(true, 0);
                } catch (IOException ignored) {
                    // already closed
                }
                closeQuietly(socket);
            }
        }

        void closeBoth() {
            dead = true;
            links.remove(this);
            closeQuietly(client);
            closeQuietly(target);
        }
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    public static void main(String[] args) throws IOException {
        try (FaultProxy relay = new FaultProxy(args[0], new InetSocketAddress(args[1], Integer.parseInt(args[2])))) {
            System.out.println("PORT " + relay.port());
            System.out.flush();
            while (System.in.read() >= 0) {
                // runs until the parent closes our standard input (or dies)
            }
        }
    }
}
