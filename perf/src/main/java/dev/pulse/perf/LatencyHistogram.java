package dev.pulse.perf;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * Latencies in microseconds, with at most 0.4 % error: exact below 512 µs, then 256 buckets per
 * power of two. Thread-safe, mergeable (load agents send theirs to the runner as JSON), and of
 * fixed size (115 KB) however many values it holds — millions of deliveries need no arrays.
 */
final class LatencyHistogram {

    private static final int LINEAR = 512;
    private static final int SUB = 256;
    private static final int BUCKETS = LINEAR + (63 - 9) * SUB;

    private final AtomicLongArray counts = new AtomicLongArray(BUCKETS);
    private final LongAdder count = new LongAdder();
    private final AtomicLong max = new AtomicLong();

    static int index(long micros) {
        if (micros < LINEAR) {
            return (int) Math.max(0, micros);
        }
        int octave = 63 - Long.numberOfLeadingZeros(micros); // >= 9
        return LINEAR + (octave - 9) * SUB + (int) (micros >>> (octave - 8)) - SUB;
    }

    /** The middle of bucket {@code index}, in microseconds. */
    static long value(int index) {
        if (index < LINEAR) {
            return index;
        }
        int octave = (index - LINEAR) / SUB + 9;
        long low = (long) (SUB + (index - LINEAR) % SUB) << (octave - 8);
        return low + (1L << (octave - 8)) / 2;
    }

    void recordNanos(long nanos) {
        long micros = Math.max(0, nanos / 1000);
        counts.incrementAndGet(index(micros));
        count.increment();
        max.accumulateAndGet(micros, Math::max);
    }

    long count() {
        return count.sum();
    }

    long maxMicros() {
        return max.get();
    }

    /** The {@code p} quantile (0..1), in microseconds; 0 when empty. */
    long percentileMicros(double p) {
        long n = count();
        if (n == 0) {
            return 0;
        }
        long rank = Math.max(1, (long) Math.ceil(p * n));
        long seen = 0;
        for (int i = 0; i < BUCKETS; i++) {
            seen += counts.get(i);
            if (seen >= rank) {
                return Math.min(value(i), maxMicros());
            }
        }
        return maxMicros();
    }

    double percentileMs(double p) {
        return Bench.round(percentileMicros(p) / 1000.0, 2);
    }

    double maxMs() {
        return Bench.round(maxMicros() / 1000.0, 2);
    }

    /** {@code {"n":…,"max":…,"b":[index,count,…]}}, only the buckets in use. */
    String toJson() {
        StringBuilder b = new StringBuilder("{\"n\":").append(count()).append(",\"max\":").append(maxMicros()).append(",\"b\":[");
        boolean first = true;
        for (int i = 0; i < BUCKETS; i++) {
            long c = counts.get(i);
            if (c != 0) {
                b.append(first ? "" : ",").append(i).append(',').append(c);
                first = false;
            }
        }
        return b.append("]}").toString();
    }

    /** Adds a histogram written by {@link #toJson}. */
    void add(JsonNode json) {
        if (json == null || json.isNull()) {
            return;
        }
        JsonNode b = json.get("b");
        for (int i = 0; i + 1 < b.size(); i += 2) {
            counts.addAndGet(b.get(i).asInt(), b.get(i + 1).asLong());
        }
        count.add(json.get("n").asLong());
        max.accumulateAndGet(json.get("max").asLong(), Math::max);
    }
}
