package dev.pulse.node.ui;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;

import com.microsoft.playwright.Locator;
import com.microsoft.playwright.Page;
import org.junit.jupiter.api.Test;

/** Issue 15: scrolling around one's own sends, and a composer that grows without hiding the conversation. */
class ChatUiScrollTest extends ChatUiBase {

    /** Whether the newest message's bottom edge is inside the message list's visible area. */
    private static final String NEWEST_IN_SIGHT = """
        () => {
          const list = document.querySelector('.messages');
          const newest = [...list.querySelectorAll('.msg')].pop();
          return newest.getBoundingClientRect().bottom <= list.getBoundingClientRect().bottom + 1;
        }""";

    @Test
    void ownSendsAlwaysScrollIntoViewAndNeverRaiseTheNewMessagesButton() {
        seed("general", 60);
        Page alice = signIn("alice");
        assertThat(alice.locator(".msg[data-seq='60']")).isInViewport();

        // scrolled up, reading older messages: what alice sends is shown to her anyway
        alice.locator(".messages").evaluate("el => el.scrollTop = 0");
        assertThat(alice.locator(".msg[data-seq='60']")).not().isInViewport();
        send(alice, "my own words");
        assertThat(ownMessage(alice, "my own words")).isInViewport();
        assertThat(ownMessage(alice, "my own words")).hasAttribute("data-state", "acked");

        // two tall messages in quick succession: the second is in sight, and no button for her own
        String tallA = "first tall\n" + "line\n".repeat(10) + "end of A";
        String tallB = "second tall\n" + "line\n".repeat(10) + "end of B";
        Locator composer = alice.locator("#composer");
        composer.fill(tallA);
        composer.press("Enter");
        composer.fill(tallB);
        composer.press("Enter");
        assertThat(ownMessage(alice, tallB)).hasAttribute("data-state", "acked");
        alice.waitForFunction(NEWEST_IN_SIGHT);
        assertThat(alice.locator(".new-below")).hasCount(0);

        // others' messages while she reads older ones still offer the jump
        alice.locator(".messages").evaluate("el => el.scrollTop = 0");
        seed("general", 1);
        assertThat(alice.locator(".new-below")).isVisible();
    }

    @Test
    void aLongPasteGrowsTheComposerToABoundAndKeepsTheNewestMessageInSight() {
        seed("general", 30);
        Page alice = signIn("alice", 390, 700);
        send(alice, "the newest message");
        assertThat(ownMessage(alice, "the newest message")).hasAttribute("data-state", "acked");
        alice.waitForFunction(NEWEST_IN_SIGHT);

        alice.locator("#composer").fill("pasted line\n".repeat(80));
        int composerHeight = ((Number) alice.locator("#composer").evaluate("el => el.offsetHeight")).intValue();
        assertThat(composerHeight).isLessThanOrEqualTo(210).isGreaterThan(100);
        alice.waitForFunction(NEWEST_IN_SIGHT);
        shot(alice, "phone-long-paste");
    }
}
