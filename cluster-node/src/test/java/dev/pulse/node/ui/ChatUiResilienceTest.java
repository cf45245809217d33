package dev.pulse.node.ui;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;

import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.WebSocketRoute;
import com.microsoft.playwright.assertions.LocatorAssertions;
import com.typesafe.config.ConfigFactory;
import dev.pulse.node.TestNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;
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

    /**
     * A half-open connection: the node hears alice but she hears nothing back, and the browser sees no
     * network trouble. Her send lands on the node but its ack is lost; the page must notice within
     * seconds (not heartbeats), keep the message pending, and after reconnecting show it sent, once.
     */
    @Test
    void aConnectionThatGoesSilentIsNoticedInSecondsAndTheLostAckCostsNoDuplicate() {
        Page bob = signIn("bob");
        // Every socket of alice's passes through here (Playwright calls back on this thread): the one
        // in `silenced` hears nothing more, and while `holding` the others' frames wait in `held`, so
        // that the test sees the page between the two sockets however fast it reconnects.
        AtomicReference<WebSocketRoute> latest = new AtomicReference<>();
        AtomicReference<WebSocketRoute> silenced = new AtomicReference<>();
        AtomicBoolean holding = new AtomicBoolean(false);
        List<Runnable> held = new ArrayList<>();
        BrowserContext ctx = newContext(new Browser.NewContextOptions().setViewportSize(1280, 800));
        ctx.routeWebSocket(Pattern.compile("/ws\\?"), page -> {
            latest.set(page);
            WebSocketRoute node = page.connectToServer();
            page.onMessage(frame -> node.send(frame.text()));
            node.onMessage(frame -> {
                if (silenced.get() == page) return;
                if (holding.get()) held.add(() -> page.send(frame.text()));
                else page.send(frame.text());
            });
        });
        Page alice = signIn(ctx, "alice");
        send(alice, "before the silence");
        assertThat(message(bob, "before the silence")).isVisible();
        // acked before the silence: sends go one at a time, so an unacked one would hold the next back
        assertThat(ownMessage(alice, "before the silence")).hasAttribute("data-state", "acked");

        silenced.set(latest.get());
        holding.set(true);
        send(alice, "into the silence");
        assertThat(message(bob, "into the silence")).isVisible(); // the node has it
        assertThat(alice.locator(".banner")).isVisible(new LocatorAssertions.IsVisibleOptions().setTimeout(8_000));
        assertThat(ownMessage(alice, "into the silence")).hasAttribute("data-state", "pending");

        holding.set(false); // the next socket is heard
        held.forEach(Runnable::run);
        held.clear();
        assertThat(alice.locator(".banner")).hasCount(0);
        assertThat(ownMessage(alice, "into the silence")).hasAttribute("data-state", "acked");
        send(alice, "after the silence");
        assertThat(message(bob, "after the silence")).isVisible();
        for (Page p : List.of(alice, bob)) {
            assertThat(message(p, "into the silence")).hasCount(1);
            assertThat(p.locator(".msg").evaluateAll("els => els.map(e => e.dataset.seq).join(',')")).isEqualTo("1,2,3");
        }
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
