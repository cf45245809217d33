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
 * The browser chat (web-ui/, served by the node at /) driven in Debian's Chromium through Playwright:
 * two users in two browser contexts, presence, typing, scroll-back, a node restart mid-conversation,
 * and HTML in messages shown as text. Screenshots go to target/ui-screenshots/.
 */
class ChatUiTest extends ChatUiBase {

    // ------------------------------------------------------------------ tests

    @Test
    void twoUsersChatBothWaysWithTypingAndPresence() {
        Page alice = signIn("alice");
        Page bob = signIn("bob");
        assertThat(alice.locator(".node")).hasText(Pattern.compile("node 127\\.0\\.0\\.1:\\d+"));

        send(alice, "hi bob, how are you?");
        assertThat(message(bob, "hi bob, how are you?")).isVisible();
        assertThat(ownMessage(alice, "hi bob, how are you?")).hasAttribute("data-state", "acked");

        send(bob, "fine thanks\nand you?");
        Locator multiLine = alice.locator(".msg-text").filter(new Locator.FilterOptions().setHasText("fine thanks"));
        assertThat(multiLine).isVisible();
        assertThat(multiLine.evaluate("el => el.textContent")).isEqualTo("fine thanks\nand you?");
        send(bob, "second line from bob, grouped");
        assertThat(alice.locator(".msg.cont", new Page.LocatorOptions().setHasText("second line from bob"))).isVisible();

        // typing: bob types without sending
        bob.locator("#composer").pressSequentially("I am typing");
        assertThat(alice.locator(".typing")).hasText("bob is typing…");
        // Shift+Enter makes a newline, not a send
        bob.locator("#composer").press("Shift+Enter");
        assertThat(bob.locator("#composer")).hasValue("I am typing\n");

        // members: both online
        assertThat(member(alice, "bob")).hasAttribute("data-status", "online");
        shot(alice, "chat-desktop");

        // DM: alice opens a conversation with bob from the member list
        member(alice, "bob").locator("button").click();
        assertThat(alice.locator(".room-title")).hasText("bob");
        send(alice, "a private hello");
        bob.locator("#dm-user").fill("alice");
        bob.locator("#dm-user").press("Enter");
        assertThat(message(bob, "a private hello")).isVisible();

        // unread badge: bob writes in general while alice looks at the DM
        bob.locator(".room-link[data-room=general]").click();
        send(bob, "unread for alice");
        assertThat(alice.locator(".room-link[data-room=general] .badge")).hasText("1");
        shot(alice, "dm-and-unread");
        alice.locator(".room-link[data-room=general]").click();
        assertThat(alice.locator(".room-link[data-room=general] .badge")).hasCount(0);

        // presence: bob closes his browser; alice sees him offline with a last-seen time
        bob.context().close();
        assertThat(member(alice, "bob")).hasAttribute("data-status", "offline");
        assertThat(member(alice, "bob").locator(".member-status")).hasText(Pattern.compile("last seen"));
        shot(alice, "presence-offline");
    }

    @Test
    void aMessageThatMentionsTheReaderStandsOut() {
        Page alice = signIn("alice");
        Page bob = signIn("bob");
        send(alice, "@bob can you look?");
        send(alice, "a note for @carol");
        assertThat(message(bob, "@bob can you look?")).hasClass(Pattern.compile("\\bmentions-me\\b"));
        assertThat(message(bob, "a note for @carol")).not().hasClass(Pattern.compile("\\bmentions-me\\b"));
        assertThat(ownMessage(alice, "@bob can you look?")).not().hasClass(Pattern.compile("\\bmentions-me\\b"));
        send(bob, "on it, @alice.");
        assertThat(message(alice, "on it, @alice.")).hasClass(Pattern.compile("\\bmentions-me\\b"));
        shot(bob, "mention");
    }

    @Test
    void theMemberListShowsJoinsAndLeavesAsTheyHappen() {
        Page alice = signIn("alice");
        Page carol = signIn("carol"); // joins general, posts nothing
        assertThat(member(alice, "carol")).hasAttribute("data-status", "online");
        carol.locator(".room-link[data-room=general]").click();
        carol.locator(".leave-room").click();
        assertThat(carol.locator(".room-link[data-room=general]")).hasCount(0);
        assertThat(member(alice, "carol")).hasCount(0);
        assertThat(member(alice, "alice")).hasAttribute("data-status", "online");
    }

    @Test
    void aDmArrivesWithABadgeOnEveryDeviceAndReadingItOnOneClearsTheOthers() {
        Page bobPhone = signIn("bob");
        Page bobLaptop = signIn("bob");
        Page alice = signIn("alice");
        alice.locator("#dm-user").fill("bob");
        alice.locator("#dm-user").press("Enter");
        send(alice, "psst, bob");
        send(alice, "@bob are you there?");

        // No click on bob's side: the DM is in his list, with its badge, on both devices.
        Locator dm = bobPhone.locator(".room-link[data-room='dm:alice:bob']");
        assertThat(dm.locator(".badge:not(.mention-badge)")).hasText("2");
        assertThat(dm.locator(".mention-badge")).hasText("@1");
        assertThat(bobLaptop.locator(".room-link[data-room='dm:alice:bob'] .badge:not(.mention-badge)")).hasText("2");
        assertThat(bobPhone).hasTitle(Pattern.compile("^\\(2\\) "));
        shot(bobPhone, "dm-arrived");

        // Reading on the phone moves the marker: the laptop's badge goes too.
        dm.click();
        assertThat(message(bobPhone, "psst, bob")).isVisible();
        assertThat(dm.locator(".badge")).hasCount(0);
        assertThat(bobLaptop.locator(".room-link[data-room='dm:alice:bob'] .badge")).hasCount(0);

        // A new browser of bob's shows the same list, read.
        Page bobTablet = signIn("bob");
        assertThat(bobTablet.locator(".room-link[data-room='dm:alice:bob']")).isVisible();
        assertThat(bobTablet.locator(".room-link[data-room='dm:alice:bob'] .badge")).hasCount(0);

        // Unread in a room opened later: the divider shows where the new messages start.
        send(alice, "one more thing");
        assertThat(bobLaptop.locator(".room-link[data-room='dm:alice:bob'] .badge")).hasText("1");
        bobLaptop.locator(".room-link[data-room='dm:alice:bob']").click();
        assertThat(bobLaptop.locator(".new-divider")).isVisible();
        assertThat(bobLaptop.locator(".new-divider + .msg, .new-divider ~ .msg").first()).containsText("one more thing");
    }

    @Test
    void browsingRoomsJoinsThemAndJoinOrCreateSaysWhich() {
        Page alice = signIn("alice");
        alice.locator("#join-room").fill("design");
        assertThat(alice.locator(".join-hint")).hasText("#design is new: it will be created");
        alice.locator("#join-room").press("Enter");
        assertThat(alice.locator(".room-link[data-room=design]")).isVisible();

        Page bob = signIn("bob");
        bob.locator("#join-room").fill("design");
        assertThat(bob.locator(".join-hint")).hasText("#design exists: 1 member");
        bob.locator("#join-room").fill("");
        bob.locator(".browse-rooms").click();
        Locator listed = bob.locator(".directory .directory-room");
        assertThat(listed).hasCount(2);
        assertThat(listed.first()).hasAttribute("data-room", "general"); // two members, then design's one
        shot(bob, "room-directory");
        bob.locator(".directory-room[data-room=design]").click();
        assertThat(bob.locator(".room-title")).hasText("# design");
        assertThat(member(alice, "bob")).isVisible();
    }

    @Test
    void linksCodeAndEmphasisAreElementsAndNothingElseIs() {
        Page alice = signIn("alice");
        Page bob = signIn("bob");
        send(alice, "docs at https://example.org/guide. and javascript:window.__pwned=3 too");
        Locator links = bob.locator(".messages .msg-text a");
        assertThat(links).hasCount(1);
        assertThat(links.first()).hasAttribute("href", "https://example.org/guide");
        assertThat(links.first()).hasAttribute("rel", "noopener noreferrer");
        assertThat(links.first()).hasAttribute("target", "_blank");

        send(alice, "run `<b>*not bold*</b>` then *ship it* _now_");
        assertThat(bob.locator(".messages .msg-text code")).hasText("<b>*not bold*</b>");
        assertThat(bob.locator(".messages .msg-text strong")).hasText("ship it");
        assertThat(bob.locator(".messages .msg-text em")).hasText("now");
        assertThat(bob.locator(".messages b")).hasCount(0);

        send(alice, "```\n<img src=x onerror=\"window.__pwned = 4\"> https://example.org/in-code\n```");
        assertThat(bob.locator(".messages .msg-text pre code")).containsText("<img src=x onerror=");
        assertThat(bob.locator(".messages img")).hasCount(0);
        assertThat(links).hasCount(1); // the URL inside the block is not a link
        assertThat(bob.evaluate("() => window.__pwned === undefined")).isEqualTo(true);
        shot(bob, "rich-text");
    }

    @Test
    void eachRoomKeepsItsDraftAndMessagesShowTheirDay() {
        Page alice = signIn("alice");
        send(alice, "a message of today");
        assertThat(alice.locator(".day-divider")).hasText("Today");
        send(alice, "and another, in the same group");
        // every message, also inside a group, has its full date and time on hover
        assertThat(ownMessage(alice, "and another, in the same group")).hasClass(Pattern.compile("\\bcont\\b"));
        assertThat(ownMessage(alice, "and another, in the same group"))
            .hasAttribute("title", Pattern.compile(String.valueOf(java.time.Year.now().getValue())));

        alice.locator("#composer").fill("half a thought for general");
        alice.locator("#join-room").fill("elsewhere");
        alice.locator("#join-room").press("Enter");
        assertThat(alice.locator(".room-title")).hasText("# elsewhere");
        assertThat(alice.locator("#composer")).hasValue("");
        alice.locator("#composer").fill("a draft of elsewhere");
        alice.locator(".room-link[data-room=general]").click();
        assertThat(alice.locator("#composer")).hasValue("half a thought for general");
        alice.locator(".room-link[data-room=elsewhere]").click();
        assertThat(alice.locator("#composer")).hasValue("a draft of elsewhere");
    }

    @Test
    void htmlInMessagesIsShownAsText() {
        Page alice = signIn("alice");
        Page bob = signIn("bob");
        String evil = "<script>window.__pwned = 1</script><img src=x onerror=\"window.__pwned = 2\"> <b>bold?</b>";
        send(alice, evil);
        Locator shown = message(bob, evil);
        assertThat(shown).isVisible();
        assertThat(shown.locator(".msg-text")).hasText(evil);
        assertThat(bob.locator(".messages img")).hasCount(0);
        assertThat(bob.locator(".messages script")).hasCount(0);
        assertThat(bob.locator(".messages b")).hasCount(0);
        assertThat(bob.evaluate("() => window.__pwned === undefined")).isEqualTo(true);
        assertThat(alice.evaluate("() => window.__pwned === undefined")).isEqualTo(true);
        shot(bob, "html-as-text");
    }

    @Test
    void scrollingUpLoadsOlderMessagesAndDoesNotYankTheReader() {
        seed("general", 130);
        Page alice = signIn("alice");
        assertThat(alice.locator(".msg[data-seq='130']")).isVisible();
        assertThat(alice.locator(".msg[data-seq='1']")).hasCount(0);
        int loaded = alice.locator(".msg").count();
        assertThat(loaded).isLessThan(130);

        // scroll to the top until the beginning of the room shows
        for (int i = 0; i < 10 && alice.locator(".beginning").count() == 0; i++) {
            int before = alice.locator(".msg").count();
            alice.locator(".messages").evaluate("el => el.scrollTop = 0");
            alice.waitForCondition(() -> alice.locator(".msg").count() > before || alice.locator(".beginning").count() > 0,
                new Page.WaitForConditionOptions().setTimeout(T.toMillis()));
        }
        assertThat(alice.locator(".beginning")).isVisible();
        assertThat(alice.locator(".msg")).hasCount(130);
        List<String> seqs = alice.locator(".msg").evaluateAll("els => els.map(e => e.dataset.seq)") instanceof List<?> l
            ? l.stream().map(String::valueOf).toList() : List.of();
        assertThat(seqs).hasSize(130);
        for (int i = 0; i < 130; i++) assertThat(seqs.get(i)).isEqualTo(String.valueOf(i + 1));
        shot(alice, "scroll-back");

        // a reader scrolled up is not pulled down by a new message; a button offers the jump
        alice.locator(".messages").evaluate("el => el.scrollTop = 0");
        seed("general", 1);
        assertThat(alice.locator(".new-below")).isVisible();
        assertThat(alice.locator(".messages").evaluate("el => el.scrollTop < 50")).isEqualTo(true);
        alice.locator(".new-below").click();
        assertThat(alice.locator(".msg[data-seq='131']")).isInViewport();
    }

    @Test
    void pageRecoversByItselfFromANodeRestartWithoutLosingOrDuplicatingMessages() {
        Page alice = signIn("alice");
        Page bob = signIn("bob");
        send(alice, "before restart 1");
        send(bob, "before restart 2");
        assertThat(message(alice, "before restart 2")).isVisible();
        assertThat(message(bob, "before restart 1")).isVisible();

        int port = node.httpPort();
        node.close();
        node = null;
        assertThat(alice.locator(".banner")).isVisible();
        assertThat(alice.locator(".banner")).hasAttribute("data-state", Pattern.compile("reconnecting|offline"));
        // written while the node is down: shown pending, sent after the reconnect with the same id
        send(alice, "written during the outage");
        assertThat(ownMessage(alice, "written during the outage")).hasAttribute("data-state", "pending");
        shot(alice, "reconnecting");

        node = TestNode.start(data, Map.of("PULSE_HTTP_PORT", String.valueOf(port)),
            ConfigFactory.parseString("pulse.limits.send-burst = 500"));
        // messages written on the new node by another client while the pages reconnect
        seed("general", 3);

        assertThat(alice.locator(".banner")).hasCount(0, new LocatorAssertions.HasCountOptions().setTimeout(30_000));
        assertThat(bob.locator(".banner")).hasCount(0, new LocatorAssertions.HasCountOptions().setTimeout(30_000));
        assertThat(ownMessage(alice, "written during the outage")).hasAttribute("data-state", "acked");
        assertThat(message(bob, "written during the outage")).isVisible();

        send(bob, "after restart");
        assertThat(message(alice, "after restart")).isVisible();

        // every message exactly once, seq 1..7 without gaps, the same on both pages
        for (Page p : List.of(alice, bob)) {
            assertThat(p.locator(".msg")).hasCount(7);
            Object seqs = p.locator(".msg").evaluateAll("els => els.map(e => e.dataset.seq).join(',')");
            assertThat(seqs).isEqualTo("1,2,3,4,5,6,7");
            assertThat(message(p, "written during the outage")).hasCount(1);
            assertThat(message(p, "before restart 1")).hasCount(1);
        }
        shot(alice, "after-restart");
    }

    /**
     * Accounts (PULSE_AUTH=accounts, a real node's default): create one in the form, chat over a socket
     * opened with a single-use ticket (never the token in the URL), sign out for good (the token is
     * refused by the node afterwards), and sign in again with the password only.
     */
    @Test
    void anAccountIsCreatedUsedAndSignedOutOfForGood(@TempDir Path accountsData) {
        node.close();
        node = TestNode.start(accountsData, Map.of("PULSE_AUTH", "accounts"));
        BrowserContext ctx = browser.newContext(new Browser.NewContextOptions().setViewportSize(1280, 800));
        contexts.add(ctx);
        Page page = watched(ctx.newPage(), "erin");
        List<String> socketUrls = new CopyOnWriteArrayList<>();
        page.onWebSocket(ws -> socketUrls.add(ws.url()));
        page.navigate(base());
        Locator error = page.locator(".signin .error");

        page.locator("#signin-name").fill("erin");
        page.locator("#signin-name").press("Enter");
        assertThat(error).hasText("Enter your password.");
        page.locator("#signin-password").fill("short");
        page.locator("#signin-create").click();
        assertThat(error).hasText("Choose a password of at least 8 characters.");
        page.locator("#signin-password").fill("erin's long password");
        page.locator("#signin-create").click();
        assertThat(page.locator(".me-name")).hasText("erin");
        assertThat(page.locator(".history-edge")).not().hasText("Loading…");
        send(page, "hello as erin");
        assertThat(ownMessage(page, "hello as erin")).hasAttribute("data-state", "acked");
        org.assertj.core.api.Assertions.assertThat(socketUrls).isNotEmpty()
            .allSatisfy(url -> org.assertj.core.api.Assertions.assertThat(url).contains("ticket=").doesNotContain("token="));
        String token = (String) page.evaluate("() => JSON.parse(sessionStorage.getItem('pulse.session')).token");

        page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Sign out")).click();
        assertThat(page.locator("#signin-name")).isVisible();
        awaitUntil("the signed-out token is refused by the node", T, () -> {
            try {
                node.client().connect(token).close();
                return false;
            } catch (PulseClient.HttpFailure refused) {
                return refused.status() == 401;
            }
        });

        page.locator("#signin-name").fill("erin");
        page.locator("#signin-password").fill("not erin's password");
        page.locator("#signin-password").press("Enter");
        assertThat(error).hasText("Wrong name or password.");
        page.locator("#signin-create").click();
        assertThat(error).hasText("That name is taken. Pick another, or sign in if it is yours.");
        page.locator("#signin-password").fill("erin's long password");
        page.locator("#signin-password").press("Enter");
        assertThat(page.locator(".me-name")).hasText("erin");
        assertThat(message(page, "hello as erin")).isVisible();
        shot(page, "account-signed-in-again");
    }

    /**
     * Issue 15: alice signs out and carol signs in in the same tab. Carol must see nothing of alice
     * (rooms, DM, messages, title) and her client must not join alice's rooms on the server.
     */
    @Test
    void signingOutForgetsTheUserAndTheNextUserInTheSameTabStartsClean() {
        Page page = signIn("alice");
        page.locator("#join-room").fill("secret-plans");
        page.locator("#join-room").press("Enter");
        assertThat(page.locator(".room-title")).hasText("# secret-plans");
        send(page, "alice's secret plan");
        assertThat(ownMessage(page, "alice's secret plan")).hasAttribute("data-state", "acked");
        page.locator("#dm-user").fill("bob");
        page.locator("#dm-user").press("Enter");
        assertThat(page.locator(".room-title")).hasText("bob");
        send(page, "private note to bob");
        assertThat(ownMessage(page, "private note to bob")).hasAttribute("data-state", "acked");
        page.locator("#composer").fill("an unsent draft for bob");
        assertThat(page.evaluate("() => localStorage.getItem('pulse.rooms.alice')")).asString().contains("secret-plans");

        // every frame the page sends from now on (carol's socket is opened after this)
        List<String> sent = new CopyOnWriteArrayList<>();
        page.onWebSocket(ws -> ws.onFrameSent(frame -> sent.add(frame.text())));

        page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Sign out")).click();
        assertThat(page.locator("#signin-name")).isVisible();
        assertThat(page).hasTitle("Pulse");
        assertThat(page.evaluate("() => localStorage.getItem('pulse.rooms.alice')")).isNull();
        assertThat(page.evaluate("() => sessionStorage.getItem('pulse.session')")).isNull();

        page.locator("#signin-name").fill("carol");
        page.locator("#signin-name").press("Enter");
        assertThat(page.locator(".node")).hasText(Pattern.compile("^node "));
        assertThat(page.locator(".me-name")).hasText("carol");

        // carol's list holds her default room only, and nothing of alice is on the page
        assertThat(page.locator(".room-link")).hasCount(1);
        assertThat(page.locator(".room-link[data-room=general]")).isVisible();
        assertThat(page.locator(".history-edge")).not().hasText("Loading…");
        shot(page, "signed-out-then-carol");
        assertThat(page.locator(".room-title")).hasText("# general");
        assertThat(page.locator("#composer")).hasValue("");
        String shown = (String) page.evaluate("() => document.body.innerText");
        assertThat(shown).doesNotContain("secret", "private note", "draft for bob");

        // carol chats normally; frames reach the listener in the order sent, so once her message is
        // seen every join her client sent at welcome has been seen too
        send(page, "hello from carol");
        assertThat(ownMessage(page, "hello from carol")).hasAttribute("data-state", "acked");
        page.waitForCondition(() -> sent.stream().anyMatch(f -> f.contains("hello from carol")),
            new Page.WaitForConditionOptions().setTimeout(T.toMillis()));
        assertThat(sent).noneMatch(f -> f.contains("secret-plans") || f.contains("dm:alice:bob") || f.contains("draft"));
        assertThat(sent.stream().filter(f -> f.contains("\"type\":\"join\"")).toList())
            .singleElement().asString().contains("\"room\":\"general\"");

        // and the server agrees: carol is no member of alice's room
        try (PulseConnection dave = node.client().connectAs("dave")) {
            dave.await(ServerFrame.Welcome.class, T);
            dave.send(new ClientFrame.Join("d1", "secret-plans", null));
            ServerFrame.Joined joined = dave.await(ServerFrame.Joined.class, T);
            assertThat(joined.members()).extracting(ServerFrame.Member::user).doesNotContain("carol");
        }
    }

    @Test
    void phoneSizedLayout() {
        Page alice = signIn("alice", 390, 844);
        send(alice, "hello from a phone");
        assertThat(ownMessage(alice, "hello from a phone")).hasAttribute("data-state", "acked");
        assertThat(alice.locator(".sidebar")).not().isInViewport();
        shot(alice, "phone-chat");
        alice.locator("button[aria-label='Rooms']").click();
        assertThat(alice.locator(".sidebar")).isInViewport();
        shot(alice, "phone-rooms");
        // keyboard only: join a room from the sidebar form
        alice.locator("#join-room").focus();
        alice.keyboard().type("Random Stuff");
        alice.keyboard().press("Enter");
        assertThat(alice.locator(".room-title")).hasText("# random-stuff");
    }

    @Test
    void signInPage() {
        BrowserContext ctx = browser.newContext();
        contexts.add(ctx);
        Page page = watched(ctx.newPage(), "sign-in");
        page.navigate(base());
        assertThat(page.locator("#signin-name")).isFocused();
        page.locator("#signin-name").fill("Not Valid!");
        page.locator("#signin-name").press("Enter");
        assertThat(page.locator(".error")).isVisible();
        shot(page, "sign-in");
    }
}
