package dev.pulse.node.auth;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PasswordHasherTest {

    private final PasswordHasher hasher = new PasswordHasher(PasswordHasher.Cost.DEFAULT);

    @Test
    void aHashIsArgon2idInPhcFormWithASaltOfItsOwnAndChecksOnlyItsPassword() {
        String hash = hasher.hash("correct horse battery");
        assertThat(hash).startsWith("$argon2id$v=19$m=19456,t=2,p=1$").doesNotContain("correct horse");
        assertThat(hasher.hash("correct horse battery")).as("salted").isNotEqualTo(hash);
        assertThat(hasher.verify("correct horse battery", hash)).isTrue();
        assertThat(hasher.verify("correct horse batterY", hash)).isFalse();
        assertThat(hasher.verify("", hash)).isFalse();
    }

    @Test
    void aHashKeepsTheCostItWasMadeWith() {
        String cheap = new PasswordHasher(new PasswordHasher.Cost(1024, 1, 1)).hash("a password");
        assertThat(cheap).contains("$m=1024,t=1,p=1$");
        assertThat(hasher.verify("a password", cheap)).isTrue();
    }

    @Test
    void noAccountAndBrokenHashesNeverMatch() {
        assertThat(hasher.verify("decoy password for unknown users", null)).as("the decoy itself").isFalse();
        assertThat(hasher.verify("x", "$argon2i$v=19$m=1024,t=1,p=1$AAAA$AAAA")).isFalse();
        assertThat(hasher.verify("x", "$argon2id$v=19$m=99999999,t=1,p=1$AAAA$AAAA")).isFalse();
        assertThat(hasher.verify("x", "not a hash")).isFalse();
    }
}
