package dev.pulse.node.ui;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;

import com.microsoft.playwright.Locator;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.options.AriaRole;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Issue 15: the chat by keyboard, and its drawers on a phone-sized screen. */
class ChatUiKeyboardTest extends ChatUiBase {

    /** Whether the focused element is inside a closed drawer (the rooms sidebar or the members list). */
    private static final String FOCUS_IN_HIDDEN_DRAWER = """
        () => {
          const drawer = document.activeElement && document.activeElement.closest('.sidebar, .members');
          return drawer !== null && !drawer.closest('.nav-open .sidebar, .members-open .members');
        }""";

    @Test
    void onAPhoneHiddenDrawersAreOutOfTheTabOrderAndEscapeOrTheirOwnButtonClosesThem() {
        Page alice = signIn("alice", 390, 844);
        alice.locator("#composer").focus();
        for (int i = 0; i < 25; i++) {
            alice.keyboard().press("Tab");
            assertThat(alice.evaluate(FOCUS_IN_HIDDEN_DRAWER)).as("Tab %d walks into a hidden drawer", i + 1).isEqualTo(false);
        }

        // the members drawer: its own close button is above the backdrop and takes the focus
        Locator membersToggle = alice.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName(Pattern.compile("^Members, \\d+ online$")));
        membersToggle.click();
        Locator closeMembers = alice.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Close members"));
        assertThat(closeMembers).isFocused();
        assertThat(alice.locator(".members")).isInViewport();
        shot(alice, "phone-members");
        closeMembers.click(); // Playwright refuses to click what another element covers
        assertThat(alice.locator(".members")).not().isInViewport();

        membersToggle.click();
        assertThat(closeMembers).isFocused();
        alice.keyboard().press("Escape");
        assertThat(alice.locator(".members")).not().isInViewport();
        assertThat(membersToggle).isFocused();

        // the rooms drawer likewise
        Locator roomsToggle = alice.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Rooms").setExact(true));
        roomsToggle.click();
        assertThat(alice.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Close rooms"))).isFocused();
        assertThat(alice.locator(".sidebar")).isInViewport();
        alice.keyboard().press("Escape");
        assertThat(alice.locator(".sidebar")).not().isInViewport();
        assertThat(roomsToggle).isFocused();
    }

    @Test
    void ctrlKSwitchesRoomsByNameAndAltArrowsWalkTheSidebar() {
        Page alice = signIn("alice");
        for (String room : List.of("alpha", "beta")) {
            alice.locator("#join-room").fill(room);
            alice.locator("#join-room").press("Enter");
            assertThat(alice.locator(".room-title")).hasText("# " + room);
        }
        alice.locator("#dm-user").fill("bob");
        alice.locator("#dm-user").press("Enter");
        assertThat(alice.locator(".room-title")).hasText("bob");

        alice.locator("#composer").focus();
        alice.keyboard().press("Control+K");
        Locator switcher = alice.getByRole(AriaRole.DIALOG, new Page.GetByRoleOptions().setName("Go to a room"));
        assertThat(switcher).isVisible();
        assertThat(alice.locator("#switcher-input")).isFocused();
        alice.keyboard().type("alp");
        assertThat(switcher.getByRole(AriaRole.OPTION)).hasText(new String[] {"# alpha"});
        shot(alice, "quick-switcher");
        alice.keyboard().press("Enter");
        assertThat(switcher).not().isVisible();
        assertThat(alice.locator(".room-title")).hasText("# alpha");

        // people by name, chosen with the arrows; Escape closes without going anywhere
        alice.keyboard().press("Control+K");
        assertThat(alice.locator("#switcher-input")).isFocused();
        alice.keyboard().type("b");
        assertThat(switcher.getByRole(AriaRole.OPTION)).hasText(new String[] {"# beta", "bob"});
        alice.keyboard().press("ArrowDown");
        alice.keyboard().press("Enter");
        assertThat(alice.locator(".room-title")).hasText("bob");
        alice.keyboard().press("Control+K");
        assertThat(switcher).isVisible();
        alice.keyboard().press("Escape");
        assertThat(switcher).not().isVisible();
        assertThat(alice.locator(".room-title")).hasText("bob");

        // Alt+↑/↓ go to the room above or below in the sidebar
        List<String> order = alice.locator(".sidebar .room-link").evaluateAll("els => els.map(e => e.dataset.room)") instanceof List<?> l
            ? l.stream().map(String::valueOf).toList() : List.of();
        assertThat(order).hasSize(4);
        alice.locator(".room-link[data-room='" + order.get(1) + "']").click();
        alice.keyboard().press("Alt+ArrowDown");
        assertThat(alice.locator(".room-link[aria-current=page]")).hasAttribute("data-room", order.get(2));
        alice.keyboard().press("Alt+ArrowUp");
        alice.keyboard().press("Alt+ArrowUp");
        assertThat(alice.locator(".room-link[aria-current=page]")).hasAttribute("data-room", order.get(0));
    }
}
