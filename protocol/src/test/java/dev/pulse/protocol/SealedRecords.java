package dev.pulse.protocol;

import java.util.HashSet;
import java.util.Set;

/** The records a sealed frame interface permits, through its sealed sub-interfaces. */
final class SealedRecords {

    private SealedRecords() {}

    static Set<Class<?>> of(Class<?> sealed) {
        Set<Class<?>> out = new HashSet<>();
        for (Class<?> permitted : sealed.getPermittedSubclasses()) {
            if (permitted.isSealed()) {
                out.addAll(of(permitted));
            } else {
                out.add(permitted);
            }
        }
        return out;
    }
}
