package dev.pulse.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Optional;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

/** User names, room ids and DM rooms as PROTOCOL.md defines them. */
class NamesTest {

    static final String USER_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_.-";

    // ------------------------------------------------------------------------------------ users

    @ParameterizedTest
    @ValueSource(strings = {"a", "alice", "bob", "0", "007", "a.b", "a-b", "a_b", "_", ".", "-", "...", "x.y-z_0",
        "abcdefghijklmnopqrstuvwxyz012345" /* 32 */})
    void validUsers(String user) {
        assertThat(user.length()).isBetween(1, 32);
        assertThat(Names.isValidUser(user)).isTrue();
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {"Alice", "ALICE", "aLice", "A", "abcdefghijklmnopqrstuvwxyz0123456" /* 33 */, "al ice", " alice",
        "alice ", "alice\n", "al:ice", "dm:a:b", "al/ice", "al@ice", "al+ice", "\u00e9lise", "\uFF41lice", "alice\u0000",
        "al\u200bice", "\uD83D\uDE00", "\u0130", "alice\u202e", "al'ice", "al\"ice", "al\\ice"})
    void invalidUsers(String user) {
        assertThat(Names.isValidUser(user)).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"_", ".", "-", "...", "..", "-_-", "._."})
    void punctuationAloneIsAVersion1NameButNoNewAccountsName(String user) {
        assertThat(Names.isValidUser(user)).isTrue();
        assertThat(Names.isValidNewUser(user)).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"a", "alice", "0", "a.b", "_a", "x.y-z_0", "-9"})
    void newAccountsNamesHaveALetterOrDigit(String user) {
        assertThat(Names.isValidNewUser(user)).isTrue();
    }

    @Test
    void publicRoomsStartingWithDmLookLikeDirectMessages() {
        assertThat(Names.looksLikeDm("dm.alice.bob")).isTrue();
        assertThat(Names.looksLikeDm("dm")).isTrue();
        assertThat(Names.looksLikeDm("dmitri-fans")).isTrue();
        assertThat(Names.looksLikeDm("general")).isFalse();
        assertThat(Names.looksLikeDm("admins")).isFalse();
        assertThat(Names.looksLikeDm("dm:alice:bob")).as("a real DM").isFalse();
    }

    @Test
    void userLengthBoundaries() {
        assertThat(Names.isValidUser("u".repeat(32))).isTrue();
        assertThat(Names.isValidUser("u".repeat(33))).isFalse();
        assertThat(Names.isValidUser("")).isFalse();
    }

    // ------------------------------------------------------------------------------------ rooms

    @ParameterizedTest
    @ValueSource(strings = {"general", "a", "0", "9lives", "a-b_c.d", "a.", "a-", "a_", "dm", "dm.a-b",
        "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz01" /* 64 */})
    void publicRooms(String room) {
        assertThat(Names.isPublicRoom(room)).isTrue();
        assertThat(Names.isValidRoom(room)).isTrue();
        assertThat(Names.isDmRoom(room)).isFalse();
        assertThat(Names.dmParticipants(room)).isEmpty();
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {"General", "-a", "_a", ".a", " a", "a ", "a b", "a/b", "a:b", "caf\u00e9", "a\u0000",
        "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz012" /* 65 */, "\uFF41", "room\uD83D\uDE00",
        "dm:bob:alice", "dm:alice:alice", "dm:alice", "dm:", "dm::", "dm:alice:", "dm::bob", "dm:alice:bob:carol",
        "dm:Alice:bob", "dm:alice:Bob", "DM:alice:bob", "Dm:alice:bob", "dm:alice:bob ", "dm:alice: bob",
        "dm:abcdefghijklmnopqrstuvwxyz0123456:b", "dm:a:bcdefghijklmnopqrstuvwxyz01234567"})
    void invalidRooms(String room) {
        assertThat(Names.isValidRoom(room)).isFalse();
        assertThat(Names.dmParticipants(room)).isEmpty();
    }

    @Test
    void roomLengthBoundaries() {
        assertThat(Names.isPublicRoom("r".repeat(64))).isTrue();
        assertThat(Names.isPublicRoom("r".repeat(65))).isFalse();
    }

    @Test
    void publicRoomIdsAreNeverDmIds() {
        assertThat(Names.isPublicRoom("dm:alice:bob")).isFalse();
        assertThat(Names.isValidRoom("dm:alice:bob")).isTrue();
    }

    // ------------------------------------------------------------------------------------ DM rooms

    @Test
    void dmParticipantsOfAWellFormedRoom() {
        assertThat(Names.dmParticipants("dm:alice:bob")).contains(List.of("alice", "bob"));
        assertThat(Names.dmParticipants("dm:a:b")).contains(List.of("a", "b"));
        assertThat(Names.dmParticipants("dm:_:a")).contains(List.of("_", "a"));
        assertThat(Names.dmParticipants("dm:a:a.b")).contains(List.of("a", "a.b"));
        assertThat(Names.dmParticipants("dm:" + "a".repeat(32) + ":" + "b".repeat(32)))
            .contains(List.of("a".repeat(32), "b".repeat(32)));
    }

    @Test
    void dmParticipantsRequiresSortedDistinctValidUsers() {
        assertThat(Names.dmParticipants("dm:bob:alice")).isEmpty();
        assertThat(Names.dmParticipants("dm:alice:alice")).isEmpty();
        assertThat(Names.dmParticipants("dm:alice:Bob")).isEmpty();
        assertThat(Names.dmParticipants("dm:alice:b:c")).isEmpty();
        assertThat(Names.dmParticipants("general")).isEmpty();
        assertThat(Names.dmParticipants(null)).isEmpty();
    }

    @Test
    void dmRoomSortsTheTwoUsers() {
        assertThat(Names.dmRoom("alice", "bob")).isEqualTo("dm:alice:bob");
        assertThat(Names.dmRoom("bob", "alice")).isEqualTo("dm:alice:bob");
        assertThat(Names.dmRoom("b", "a.b")).isEqualTo("dm:a.b:b");
        assertThat(Names.dmRoom("a", "a.b")).isEqualTo("dm:a:a.b");
        assertThat(Names.dmRoom("a", "_")).isEqualTo("dm:_:a");
        assertThat(Names.dmRoom("z", "0")).isEqualTo("dm:0:z");
        assertThat(Names.dmRoom("carol", "bob")).isEqualTo("dm:bob:carol");
    }

    @Test
    void dmRoomNeedsTwoDifferentUsers() {
        assertThatThrownBy(() -> Names.dmRoom("alice", "alice")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void isDmRoomIsAboutThePrefixOnly() {
        assertThat(Names.isDmRoom("dm:alice:bob")).isTrue();
        assertThat(Names.isDmRoom("dm:bob:alice")).isTrue();
        assertThat(Names.isDmRoom("dm:")).isTrue();
        assertThat(Names.isDmRoom("dm")).isFalse();
        assertThat(Names.isDmRoom("general")).isFalse();
        assertThat(Names.isDmRoom(null)).isFalse();
    }

    // ------------------------------------------------------------------------------------ access

    @Test
    void everyoneMayAccessPublicRooms() {
        assertThat(Names.mayAccess("alice", "general")).isTrue();
        assertThat(Names.mayAccess("zed", "general")).isTrue();
        assertThat(Names.mayAccess("mallory", "dm")).isTrue();
    }

    @Test
    void onlyTheTwoParticipantsMayAccessADmRoom() {
        assertThat(Names.mayAccess("alice", "dm:alice:bob")).isTrue();
        assertThat(Names.mayAccess("bob", "dm:alice:bob")).isTrue();
        assertThat(Names.mayAccess("carol", "dm:alice:bob")).isFalse();
        assertThat(Names.mayAccess("alic", "dm:alice:bob")).isFalse();
        assertThat(Names.mayAccess("alice:bob", "dm:alice:bob")).isFalse();
        assertThat(Names.mayAccess("dm", "dm:alice:bob")).isFalse();
        assertThat(Names.mayAccess("", "dm:alice:bob")).isFalse();
    }

    @Test
    void nobodyMayAccessAMalformedDmRoom() {
        for (String room : List.of("dm:bob:alice", "dm:alice:alice", "dm:alice", "dm:", "dm:Alice:bob", "dm:alice:bob:carol")) {
            for (String user : List.of("alice", "bob", "carol", "Alice")) {
                assertThat(Names.mayAccess(user, room)).as("%s in %s", user, room).isFalse();
            }
        }
    }

    // ------------------------------------------------------------------------------------ properties

    @Provide
    Arbitrary<String> users() {
        return Arbitraries.strings().withChars(USER_CHARS.toCharArray()).ofMinLength(1).ofMaxLength(32);
    }

    @Property(tries = 1000)
    void dmRoomOfTwoValidUsersIsValidSymmetricAndOnlyForThem(
            @ForAll("users") String a, @ForAll("users") String b, @ForAll("users") String other) {
        Assume.that(!a.equals(b));
        String room = Names.dmRoom(a, b);
        assertThat(Names.dmRoom(b, a)).isEqualTo(room);
        assertThat(Names.isValidRoom(room)).isTrue();
        assertThat(Names.isPublicRoom(room)).isFalse();
        assertThat(Names.isDmRoom(room)).isTrue();
        Optional<List<String>> participants = Names.dmParticipants(room);
        assertThat(participants).isPresent();
        assertThat(participants.get()).containsExactlyInAnyOrder(a, b);
        assertThat(participants.get().get(0).compareTo(participants.get().get(1))).isNegative();
        assertThat(Names.mayAccess(a, room)).isTrue();
        assertThat(Names.mayAccess(b, room)).isTrue();
        assertThat(Names.mayAccess(other, room)).isEqualTo(other.equals(a) || other.equals(b));
        // the reversed spelling is never a valid room id
        List<String> p = participants.get();
        assertThat(Names.isValidRoom("dm:" + p.get(1) + ":" + p.get(0))).isFalse();
    }

    @Property(tries = 1000)
    void userValidityMatchesTheContractDefinition(@ForAll String s) {
        boolean expected = !s.isEmpty() && s.length() <= 32 && s.chars().allMatch(c -> USER_CHARS.indexOf(c) >= 0);
        assertThat(Names.isValidUser(s)).isEqualTo(expected);
    }

    @Property(tries = 1000)
    void publicRoomValidityMatchesTheContractDefinition(@ForAll("roomish") String s) {
        boolean expected = !s.isEmpty() && s.length() <= 64
            && "abcdefghijklmnopqrstuvwxyz0123456789".indexOf(s.charAt(0)) >= 0
            && s.chars().allMatch(c -> USER_CHARS.indexOf(c) >= 0);
        assertThat(Names.isPublicRoom(s)).isEqualTo(expected);
        if (expected) {
            assertThat(Names.isValidRoom(s)).isTrue();
            assertThat(Names.mayAccess("anyone", s)).isTrue();
        }
    }

    @Provide
    Arbitrary<String> roomish() {
        return Arbitraries.oneOf(
            Arbitraries.strings().withChars((USER_CHARS + "A:Z \u00e9").toCharArray()).ofMaxLength(70),
            Arbitraries.strings().withChars(USER_CHARS.toCharArray()).ofMinLength(60).ofMaxLength(70),
            Arbitraries.strings().ofMaxLength(70));
    }
}
