package dev.pulse.node.ui;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;
import static dev.pulse.node.testkit.Wire.awaitUntil;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.BrowserType;
import com.microsoft.playwright.Locator;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Playwright;
import com.microsoft.playwright.assertions.LocatorAssertions;
import com.microsoft.playwright.options.AriaRole;
import com.microsoft.playwright.options.ScreenshotAnimations;
import com.microsoft.playwright.assertions.PlaywrightAssertions;
import com.typesafe.config.ConfigFactory;
import dev.pulse.node.TestNode;
import dev.pulse.protocol.ClientFrame;
import dev.pulse.protocol.ServerFrame;
import dev.pulse.protocol.client.PulseClient;
import dev.pulse.protocol.client.PulseConnection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the browser tests share: a node (send burst 500), Debian's Chromium through Playwright, one
 * browser context per signed-in user, and helpers to sign in, send, find messages and take
 * screenshots (target/ui-screenshots/). Every page is watched for Content-Security-Policy refusals.
 */
abstract class ChatUiBase {

    protected static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    protected static final Path SHOTS = Path.of("target", "ui-screenshots");
    protected static final Duration T = Duration.ofSeconds(10);

    @TempDir
    Path data;

    protected TestNode node;
    protected Playwright playwright;
    protected Browser browser;
    protected final List<BrowserContext> contexts = new ArrayList<>();

    @BeforeAll
    static void chromium() throws Exception {
        // A missing browser fails the build rather than skipping silently; skipping takes a decision.
        assumeFalse(Boolean.getBoolean("pulse.skipBrowserTests"), "browser tests skipped by -Dpulse.skipBrowserTests=true");
        assertThat(CHROMIUM).as("browser tests need Debian's Chromium: apt-get install -y chromium "
            + "(.ci/run installs it), or run with -Dpulse.skipBrowserTests=true").isExecutable();
        Files.createDirectories(SHOTS);
        PlaywrightAssertions.setDefaultAssertionTimeout(15_000);
    }

    /** Console reports of the Content-Security-Policy refusing something, over the test. */
    protected final List<String> cspViolations = new java.util.concurrent.CopyOnWriteArrayList<>();

    @BeforeEach
    void start() {
        node = TestNode.start(data, Map.of(), ConfigFactory.parseString("pulse.limits.send-burst = 500"));
        playwright = Playwright.create();
        browser = playwright.chromium().launch(new BrowserType.LaunchOptions()
            .setExecutablePath(CHROMIUM)
            .setHeadless(true)
            .setArgs(List.of("--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync")));
    }

    @AfterEach
    void stop(TestInfo info) {
        for (BrowserContext c : contexts) {
            try {
                c.close();
            } catch (RuntimeException ignored) {
                // already closed by the test
            }
        }
        if (browser != null) browser.close();
        if (playwright != null) playwright.close();
        if (node != null) node.close();
        org.assertj.core.api.Assertions.assertThat(cspViolations).as("what the Content-Security-Policy refused in %s",
            info.getDisplayName()).isEmpty();
    }

    // ------------------------------------------------------------------ helpers

    /**
     * Logs the page's errors, and collects what the node's Content-Security-Policy made the browser
     * refuse (Chromium reports each on the console): the UI must work under it untouched.
     */
    protected Page watched(Page page, String who) {
        page.onPageError(err -> System.err.println("[" + who + "] page error: " + err));
        page.onConsoleMessage(message -> {
            if (message.text().contains("Content Security Policy")) {
                cspViolations.add("[" + who + "] " + message.text());
            }
        });
        return page;
    }

    protected String base() {
        return "http://127.0.0.1:" + node.httpPort() + "/";
    }

    protected Page signIn(String user) {
        return signIn(user, 1280, 800);
    }

    protected Page signIn(String user, int width, int height) {
        return signIn(user, new Browser.NewContextOptions().setViewportSize(width, height));
    }

    /** Signs {@code user} in, in a browser context of its own made with {@code options} (size, colour scheme). */
    protected Page signIn(String user, Browser.NewContextOptions options) {
        return signIn(newContext(options), user);
    }

    /** A browser context closed after the test. */
    protected BrowserContext newContext(Browser.NewContextOptions options) {
        BrowserContext ctx = browser.newContext(options);
        contexts.add(ctx);
        return ctx;
    }

    /** Signs {@code user} in on a new page of {@code ctx}. */
    protected Page signIn(BrowserContext ctx, String user) {
        Page page = watched(ctx.newPage(), user);
        page.navigate(base());
        page.locator("#signin-name").fill(user);
        page.locator("#signin-name").press("Enter");
        assertThat(page.locator(".node")).hasText(Pattern.compile("^node "));
        assertThat(page.locator(".history-edge")).not().hasText("Loading…");
        return page;
    }

    protected static void send(Page page, String text) {
        Locator composer = page.locator("#composer");
        composer.fill(text);
        composer.press("Enter");
        assertThat(composer).hasValue("");
    }

    protected static Locator message(Page page, String text) {
        return page.locator(".msg").filter(new Locator.FilterOptions().setHas(
            page.locator(".msg-text").filter(new Locator.FilterOptions().setHasText(Pattern.compile("^" + jsRegexQuote(text) + "$")))));
    }

    /** Pattern.quote's \\Q…\\E does not survive the trip to the browser's RegExp. */
    protected static String jsRegexQuote(String text) {
        return text.replaceAll("[.*+?^${}()|\\[\\]\\\\/]", "\\\\$0");
    }

    protected static Locator ownMessage(Page page, String text) {
        return message(page, text).and(page.locator(".msg.mine"));
    }

    protected static Locator member(Page page, String user) {
        return page.locator(".member[data-user='" + user + "']");
    }

    /** Messages written by another client (carol) over the Java protocol client. */
    protected void seed(String room, int count) {
        try (PulseConnection carol = node.client().connectAs("carol")) {
            carol.await(ServerFrame.Welcome.class, T);
            for (int i = 0; i < count; i++) {
                carol.send(new ClientFrame.Send("s" + i, room, "seed-" + System.nanoTime() + "-" + i, "seeded message " + i));
            }
            for (int i = 0; i < count; i++) carol.await(ServerFrame.Ack.class, T);
        }
    }

    /** axe-core, from web-ui's dev dependencies (the web-ui build installs them). */
    private static final Path AXE = Path.of("..", "web-ui", "node_modules", "axe-core", "axe.min.js");

    /**
     * Runs axe-core in the page as it is now and fails on any serious or critical violation (contrast,
     * names, roles...). Evaluated over DevTools, as the page's own Content-Security-Policy allows no
     * script but its own.
     */
    protected static void assertAccessible(Page page, String where) {
        if (!Boolean.TRUE.equals(page.evaluate("() => typeof window.axe === 'object'"))) {
            try {
                page.evaluate(Files.readString(AXE));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException("axe-core is missing: run npm install in web-ui", e);
            }
        }
        Object found = page.evaluate("""
            async () => (await axe.run(document, { resultTypes: ['violations'] })).violations
              .filter(v => v.impact === 'serious' || v.impact === 'critical')
              .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 5).map(n => n.target.join(' ')).join(' | '))""");
        assertThat((List<?>) found).as("serious or critical accessibility violations (axe-core) in %s", where).isEmpty();
    }

    protected static void shot(Page page, String name) {
        page.screenshot(new Page.ScreenshotOptions().setPath(SHOTS.resolve(name + ".png"))
            .setAnimations(ScreenshotAnimations.DISABLED));
    }
}
