package dev.pulse.node.ui;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;

import com.microsoft.playwright.Locator;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.options.AriaRole;
import dev.pulse.node.testkit.Wire;
import dev.pulse.protocol.ClientFrame;
import dev.pulse.protocol.ServerFrame;
import dev.pulse.protocol.client.PulseConnection;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Issue 14 in the browser: edit in place (↑ in an empty box edits one's last message), the "edited"
 * mark, delete after a confirmation ("message deleted" for everyone), reactions from a small picker
 * with counts that say who reacted, and search whose results open the room at the message.
 */
class ChatUiMessageActionsTest extends ChatUiBase {

    @Test
    void editReactAndDeleteReachTheOtherBrowserAsTheyHappen() {
        Page alice = signIn("alice");
        Page bob = signIn("bob");
        send(alice, "helo wrold");
        assertThat(message(bob, "helo wrold")).isVisible();

        // ↑ in the empty message box edits the last own message, in place
        alice.locator("#composer").press("ArrowUp");
        Locator editor = alice.locator("#edit-message");
        assertThat(editor).isFocused();
        assertThat(editor).hasValue("helo wrold");
        editor.fill("hello world");
        editor.press("Enter");
        assertThat(editor).not().isVisible();
        for (Page page : new Page[] {alice, bob}) {
            Locator edited = page.locator(".msg").filter(new Locator.FilterOptions().setHasText("hello world"));
            assertThat(edited.locator(".edited")).hasText("(edited)");
            assertThat(page.locator(".msg-text", new Page.LocatorOptions().setHasText("helo wrold"))).hasCount(0);
        }

        // bob reacts from the picker; alice adds hers by clicking his
        Locator bobsMessage = bob.locator(".msg").filter(new Locator.FilterOptions().setHasText("hello world"));
        bobsMessage.hover();
        bobsMessage.getByRole(AriaRole.BUTTON, new Locator.GetByRoleOptions().setName("Add a reaction")).click();
        bobsMessage.getByRole(AriaRole.BUTTON, new Locator.GetByRoleOptions().setName("React with 👍")).click();
        Locator bobsThumb = bobsMessage.locator(".reaction:not(.add)");
        assertThat(bobsThumb).hasText("👍 1");
        assertThat(bobsThumb).hasAttribute("aria-pressed", "true");
        Locator alicesThumb = alice.locator(".msg").filter(new Locator.FilterOptions().setHasText("hello world"))
            .locator(".reaction:not(.add)");
        assertThat(alicesThumb).hasText("👍 1");
        assertThat(alicesThumb).hasAttribute("title", "bob");
        assertThat(alicesThumb).hasAttribute("aria-pressed", "false");
        alicesThumb.click();
        assertThat(alicesThumb).hasText("👍 2");
        assertThat(bobsThumb).hasAttribute("title", "bob, alice");
        assertAccessible(alice, "a message with reactions");
        shot(alice, "message-actions");

        // delete, after a confirmation: the text is gone for both, a placeholder stays
        alice.onceDialog(dialog -> dialog.accept());
        Locator alicesMessage = alice.locator(".msg").filter(new Locator.FilterOptions().setHasText("hello world"));
        alicesMessage.hover();
        alicesMessage.getByRole(AriaRole.BUTTON, new Locator.GetByRoleOptions().setName("Delete message")).click();
        for (Page page : new Page[] {alice, bob}) {
            assertThat(page.locator(".msg.deleted .msg-text")).hasText("message deleted");
            assertThat(page.locator(".msg.deleted .reaction")).hasCount(0);
            assertThat(page.locator(".msg-text", new Page.LocatorOptions().setHasText("hello world"))).hasCount(0);
        }
        // a new browser sees the history as it is now
        Page later = signIn("carol");
        assertThat(later.locator(".msg.deleted .msg-text")).hasText("message deleted");
    }

    @Test
    void aDeleteThatIsNotConfirmedDeletesNothingAndOthersCannotEditOrDelete() {
        Page alice = signIn("alice");
        Page bob = signIn("bob");
        send(alice, "keep this");
        alice.onceDialog(dialog -> dialog.dismiss());
        Locator mine = alice.locator(".msg").filter(new Locator.FilterOptions().setHasText("keep this"));
        mine.hover();
        mine.getByRole(AriaRole.BUTTON, new Locator.GetByRoleOptions().setName("Delete message")).click();
        Locator theirs = bob.locator(".msg").filter(new Locator.FilterOptions().setHasText("keep this"));
        assertThat(theirs).isVisible();
        assertThat(theirs.getByRole(AriaRole.BUTTON, new Locator.GetByRoleOptions().setName("Edit message"))).hasCount(0);
        assertThat(theirs.getByRole(AriaRole.BUTTON, new Locator.GetByRoleOptions().setName("Delete message"))).hasCount(0);
        assertThat(mine).not().hasClass(Pattern.compile("\\bdeleted\\b"));
    }

    @Test
    void aSearchResultOpensItsRoomAtTheMessageLoadingOlderPagesForIt() {
        Page alice = signIn("alice");
        alice.locator("#join-room").fill("ops");
        alice.locator("#join-room").press("Enter");
        assertThat(alice.locator(".room-title")).hasText("# ops");
        try (PulseConnection carol = node.client().connectAs("carol")) {
            carol.await(ServerFrame.Welcome.class, T);
            carol.send(new ClientFrame.Send("s0", "ops", "needle", "the wombat deploy is done"));
            carol.await(ServerFrame.Ack.class, T);
            carol.send(new ClientFrame.Send("g0", "general", "general-wombat", "a wombat in general"));
            carol.await(ServerFrame.Ack.class, T);
        }
        seed("ops", 120); // the result is now older than the newest page
        alice.locator(".room-link[data-room=general]").click();
        assertThat(alice.locator(".room-title")).hasText("# general");

        // the index is written just after each commit: wait until it holds both (carol is in both rooms)
        try (PulseConnection carol = node.client().connectAs("carol")) {
            carol.await(ServerFrame.Welcome.class, T);
            Wire.awaitUntil("both messages are indexed", T, () -> {
                carol.send(new ClientFrame.Search("q", "wombat", null, 20));
                return carol.await(ServerFrame.Search.class, T).results().size() == 2;
            });
        }

        alice.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Search messages")).click();
        Locator panel = alice.getByRole(AriaRole.DIALOG, new Page.GetByRoleOptions().setName("Search messages"));
        assertThat(panel).isVisible();
        Locator input = alice.locator("#search-input");
        assertThat(input).isFocused();
        input.fill("wombat");
        input.press("Enter");
        Locator results = panel.locator(".search-results .result");
        assertThat(results).hasCount(2);
        assertThat(results.first()).containsText("a wombat in general"); // newest first
        assertThat(results.nth(1)).containsText("the wombat deploy is done");
        assertAccessible(alice, "search results");
        shot(alice, "search-results");

        results.nth(1).click();
        assertThat(panel).not().isVisible();
        assertThat(alice.locator(".room-title")).hasText("# ops");
        Locator found = alice.locator(".msg.highlight");
        assertThat(found).containsText("the wombat deploy is done");
        assertThat(found).isInViewport();
    }
}
