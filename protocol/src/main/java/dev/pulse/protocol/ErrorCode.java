package dev.pulse.protocol;

/** The error codes of the contract, with their wire spelling. */
public enum ErrorCode {
    INVALID("invalid"),
    UNAUTHORIZED("unauthorized"),
    FORBIDDEN("forbidden"),
    NOT_FOUND("not_found"),
    TOO_LARGE("too_large"),
    RATE_LIMITED("rate_limited"),
    UNAVAILABLE("unavailable"),
    /** Version 1.1: the name is taken (register), or the change conflicts with the current state. */
    CONFLICT("conflict");

    private final String wire;

    ErrorCode(String wire) {
        this.wire = wire;
    }

    public String wire() {
        return wire;
    }

    public static ErrorCode fromWire(String wire) {
        for (ErrorCode code : values()) {
            if (code.wire.equals(wire)) {
                return code;
            }
        }
        throw new IllegalArgumentException("unknown error code: " + wire);
    }
}
