package dev.pulse.node;

/** Marker for messages, events and snapshots serialized with Jackson CBOR (see cluster.conf). */
public interface CborSerializable {}
