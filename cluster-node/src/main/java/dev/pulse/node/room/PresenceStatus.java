package dev.pulse.node.room;

/** Whether a user has a live session anywhere. Rooms keep it per member; user entities report it. */
public enum PresenceStatus { ONLINE, OFFLINE }
