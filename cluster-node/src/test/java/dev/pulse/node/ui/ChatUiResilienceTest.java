package dev.pulse.node.ui;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;

import com.microsoft.playwright.Page;
import com.microsoft.playwright.assertions.LocatorAssertions;
import com.typesafe.config.ConfigFactory;
import dev.pulse.node.TestNode;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15: sends that survive a Wi-Fi drop and a rate limit, in Chromium. What is written is
 * delivered exactly once and in the order written, and is never shown failed for a reason that
 * passes by itself.
 */
class ChatUiResilienceTest extends ChatUiBase {

    @Test
    void aMessageWrittenOfflineIsPendingThenDeliveredExactlyOnceWhenTheNetworkIsBack() {
        Page alice = signIn("alice");
        Page bob = signIn("bob");
        send(alice, "before the drop");
        assertThat(message(bob, "before the drop")).isVisible();

        alice.context().setOffline(true);
        // the browser knows at once, so the page says so within seconds (not after heartbeats)
        assertThat(alice.locator(".banner")).hasAttribute("data-state", "offline",
            new LocatorAssertions.HasAttributeOptions().setTimeout(5_000));
        // nobody's presence is known while disconnected: not shown online as it was
        assertThat(member(alice, "bob")).hasAttribute("data-status", "unknown");
        send(alice, "written on a train");
        assertThat(ownMessage(alice, "written on a train")).hasAttribute("data-state", "pending");
        shot(alice, "offline");

        alice.context().setOffline(false);
        assertThat(alice.locator(".banner")).hasCount(0);
        assertThat(member(alice, "bob")).hasAttribute("data-status", "online");
        assertThat(ownMessage(alice, "written on a train")).hasAttribute("data-state", "acked");
        assertThat(message(bob, "written on a train")).isVisible();

        // once, on both pages and in the room's sequence: a later message lands right after it
        send(alice, "after the drop");
        assertThat(message(bob, "after the drop")).isVisible();
        for (Page p : List.of(alice, bob)) {
            assertThat(p.locator(".msg")).hasCount(3);
            assertThat(p.locator(".msg").evaluateAll("els => els.map(e => e.dataset.seq).join(',')")).isEqualTo("1,2,3");
            assertThat(message(p, "written on a train")).hasCount(1);
        }
        assertThat(alice.locator(".msg[data-state=failed]")).hasCount(0);
    }

    @Test
    void quickSendsPastTheRateLimitArriveInTheOrderTypedAndNoneFails(@TempDir Path limitedData) {
        node.close();
        node = TestNode.start(limitedData, Map.of(),
            ConfigFactory.parseString("pulse.limits.send-burst = 3\npulse.limits.send-window = 1s"));
        Page alice = signIn("alice");
        Page bob = signIn("bob");

        List<String> typed = IntStream.rangeClosed(1, 15).mapToObj(i -> "quick " + i).toList();
        for (String text : typed) send(alice, text);

        assertThat(alice.locator(".msg.mine[data-state=acked]")).hasCount(typed.size(),
            new LocatorAssertions.HasCountOptions().setTimeout(30_000));
        assertThat(alice.locator(".msg[data-state=failed]")).hasCount(0);
        assertThat(bob.locator(".msg")).hasCount(typed.size());
        assertThat(bob.locator(".msg-text").allTextContents()).containsExactlyElementsOf(typed);
        assertThat(alice.locator(".msg-text").allTextContents()).containsExactlyElementsOf(typed);
    }
}
