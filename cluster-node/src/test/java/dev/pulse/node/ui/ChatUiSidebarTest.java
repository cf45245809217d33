package dev.pulse.node.ui;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;

import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.Locator;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.options.AriaRole;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Issue 15: what the sidebar tells at a glance: unread rooms in bold, rooms by recent activity (or
 * in join order, remembered), the presence of DM peers, and on a phone a mark on ☰.
 */
class ChatUiSidebarTest extends ChatUiBase {

    @Test
    void unreadRoomsAreBoldAndRoomsGoByRecentActivityOrJoinOrder() {
        Page alice = signIn("alice");
        for (String room : new String[] {"alpha", "beta"}) {
            alice.locator("#join-room").fill(room);
            alice.locator("#join-room").press("Enter");
            assertThat(alice.locator(".room-title")).hasText("# " + room);
        }
        Locator rooms = alice.locator(".sidebar .room-list").first().locator(".room-link");
        assertThat(rooms).hasCount(3);

        seed("alpha", 1);
        Locator alpha = alice.locator(".room-link[data-room=alpha]");
        assertThat(alpha).hasClass(Pattern.compile("\\bunread\\b"));
        assertThat(alpha.locator(".room-name").evaluate("el => getComputedStyle(el).fontWeight")).isEqualTo("700");
        assertThat(alice.locator(".room-link[data-room=general]").locator(".room-name").evaluate("el => getComputedStyle(el).fontWeight"))
            .isEqualTo("400");
        // the room with the newest message comes first
        assertThat(rooms.first()).hasAttribute("data-room", "alpha");

        send(alice, "beta is busy now");
        assertThat(rooms.first()).hasAttribute("data-room", "beta");
        alpha.click();
        assertThat(alpha).not().hasClass(Pattern.compile("\\bunread\\b"));

        // join order instead, remembered by the browser
        alice.locator("#room-order").selectOption("joined");
        String[] joinOrder = {"# general", "# alpha", "# beta"};
        assertThat(rooms.locator(".room-name")).hasText(joinOrder);
        alice.reload();
        assertThat(alice.locator(".me-name")).hasText("alice");
        assertThat(alice.locator("#room-order")).hasValue("joined");
        assertThat(alice.locator(".sidebar .room-list").first().locator(".room-name")).hasText(joinOrder);
    }

    @Test
    void aDmShowsThePeersPresenceAndMembersSayWhenTheyWereLastSeen() {
        Page alice = signIn("alice");
        Page bob = signIn("bob");
        alice.locator("#dm-user").fill("bob");
        alice.locator("#dm-user").press("Enter");
        Locator dm = alice.locator(".room-link[data-room='dm:alice:bob']");
        assertThat(dm.locator(".dot")).hasAttribute("data-status", "online");
        assertThat(dm).hasAccessibleName(Pattern.compile("^bob\\s*, online"));
        assertThat(alice.locator(".room-header .peer-status")).hasText("online");

        BrowserContext bobs = bob.context();
        contexts.remove(bobs);
        bobs.close();
        assertThat(dm.locator(".dot")).hasAttribute("data-status", "offline");
        assertThat(member(alice, "bob").locator(".member-status")).hasText("last seen just now");
        assertThat(alice.locator(".room-header .peer-status")).hasText("last seen just now");
        assertThat(dm).hasAccessibleName(Pattern.compile("^bob\\s*, last seen just now"));
    }

    @Test
    void onAPhoneTheRoomsButtonIsMarkedWhileAnotherRoomHasUnreadMessages() {
        Page alice = signIn("alice", 390, 844);
        Locator menu = alice.locator("button.only-narrow");
        menu.click();
        alice.locator("#join-room").fill("elsewhere");
        alice.locator("#join-room").press("Enter");
        assertThat(alice.locator(".room-title")).hasText("# elsewhere");
        menu.click();
        alice.locator(".room-link[data-room=general]").click();
        assertThat(alice.locator(".room-title")).hasText("# general");
        assertThat(menu).not().hasClass(Pattern.compile("has-unread"));

        seed("elsewhere", 2);
        assertThat(menu).hasClass(Pattern.compile("\\bhas-unread\\b"));
        assertThat(alice.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Rooms, unread messages"))).isVisible();
        shot(alice, "phone-unread-mark");
        menu.click();
        alice.locator(".room-link[data-room=elsewhere]").click();
        assertThat(menu).not().hasClass(Pattern.compile("has-unread"));
    }
}
