package dev.pulse.node.user;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Predicate;

/**
 * Messages an actor sends again on each of its ticks until their receiver confirms them, given up
 * after a while. Cluster sharding delivers at most once: a message to an entity whose shard lived on
 * a node that just died goes to that node's region, or waits for a shard home that is handed out
 * late, and is lost. What must arrive (a presence change to a room, a wake-up to the entity of a dead
 * node's user) is kept here, keyed by what it is about, until its receiver answers. A newer message
 * under the same key replaces the older one. Not thread-safe: one actor owns it.
 */
public final class UntilConfirmed<K, V> {

    private record Entry<V>(V value, long firstSentNanos) {}

    private final long giveUpNanos;
    private final Map<K, Entry<V>> entries = new HashMap<>();

    public UntilConfirmed(Duration giveUp) {
        this.giveUpNanos = giveUp.toNanos();
    }

    /** Keeps {@code value} under {@code key} from {@code nowNanos}, in place of what was there. */
    public void put(K key, V value, long nowNanos) {
        entries.put(key, new Entry<>(value, nowNanos));
    }

    /** Forgets {@code key} when what is kept under it {@code matches} the confirmation; true if it did. */
    public boolean confirm(K key, Predicate<V> matches) {
        Entry<V> entry = entries.get(key);
        if (entry != null && matches.test(entry.value())) {
            entries.remove(key);
            return true;
        }
        return false;
    }

    public void remove(K key) {
        entries.remove(key);
    }

    /** Drops what was first sent more than the give-up time before {@code nowNanos}; how many. */
    public int expire(long nowNanos) {
        int before = entries.size();
        entries.values().removeIf(entry -> nowNanos - entry.firstSentNanos() > giveUpNanos);
        return before - entries.size();
    }

    /** Each key and value still unconfirmed: what to send again. */
    public void forEach(BiConsumer<K, V> action) {
        entries.forEach((key, entry) -> action.accept(key, entry.value()));
    }

    public boolean isEmpty() {
        return entries.isEmpty();
    }

    public int size() {
        return entries.size();
    }
}
