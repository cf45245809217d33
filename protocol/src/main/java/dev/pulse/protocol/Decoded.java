package dev.pulse.protocol;

/** The outcome of decoding one client frame: a valid frame, or the error frame to answer with. */
public sealed interface Decoded {

    record Ok(ClientFrame frame) implements Decoded {}

    /** {@code ref} is echoed when the frame carried a usable one, else null. */
    record Rejected(String ref, ErrorCode code, String message) implements Decoded {

        public ServerFrame.Error toError() {
            return ServerFrame.Error.of(ref, code, message);
        }
    }
}
