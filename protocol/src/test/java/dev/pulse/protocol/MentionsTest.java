package dev.pulse.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** {@code @name} in a message's text, as version 1.1's "Mentions" reads it. */
class MentionsTest {

    static Stream<Arguments> texts() {
        return Stream.of(
            Arguments.of("hi @bob", "bob"),
            Arguments.of("@bob hi", "bob"),
            Arguments.of("@bob", "bob"),
            Arguments.of("thanks @bob.", "bob"),
            Arguments.of("thanks @bob...", "bob"),
            Arguments.of("@bob- and @carol_ too", "bob,carol"),
            Arguments.of("@a.b-c_d is one name", "a.b-c_d"),
            Arguments.of("(@bob) [@carol], @dave: @erin! @frank? '@gina'", "bob,carol,dave,erin,frank,gina"),
            Arguments.of("@bob's idea", "bob"),
            Arguments.of("@bob @carol @bob @carol", "bob,carol"),
            Arguments.of("@carol then @bob", "carol,bob"),
            Arguments.of("line one\n@bob", "bob"),
            Arguments.of("@@bob", "bob"),
            Arguments.of("@0", "0"),
            Arguments.of("@abcdefghijklmnopqrstuvwxyz012345", "abcdefghijklmnopqrstuvwxyz012345"),
            Arguments.of("@abcdefghijklmnopqrstuvwxyz012345.", "abcdefghijklmnopqrstuvwxyz012345"),
            // not mentions
            Arguments.of("no one", ""),
            Arguments.of("alice@example.com", ""),
            Arguments.of("x_@bob", ""),
            Arguments.of("@Bob", ""),
            Arguments.of("@bobX", ""),
            Arguments.of("@bob\u00e9", ""),
            Arguments.of("@", ""),
            Arguments.of("@ bob", ""),
            Arguments.of("@.", ""),
            Arguments.of("@-_.", ""),
            Arguments.of("@abcdefghijklmnopqrstuvwxyz0123456" /* 33 */, ""),
            Arguments.of("", ""));
    }

    @ParameterizedTest
    @MethodSource("texts")
    void namesInOrderOfFirstAppearance(String text, String expected) {
        List<String> names = expected.isEmpty() ? List.of() : Arrays.asList(expected.split(","));
        assertThat(Mentions.in(text)).isEqualTo(names);
        assertThat(Mentions.inOrNull(text)).isEqualTo(names.isEmpty() ? null : names);
    }

    @ParameterizedTest
    @MethodSource("texts")
    void aMessageFrameCarriesThem(String text, String expected) {
        ServerFrame.Message message = new ServerFrame.Message("general", 1, "i", "alice", text, "2026-01-01T00:00:00Z");
        assertThat(message.mentions()).isEqualTo(Mentions.inOrNull(text));
        assertThat(FrameCodec.decodeServer(FrameCodec.encode(message))).isEqualTo(message);
    }
}
