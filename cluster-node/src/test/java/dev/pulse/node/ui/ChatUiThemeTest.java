package dev.pulse.node.ui;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;

import com.microsoft.playwright.Browser;
import com.microsoft.playwright.Locator;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.options.AriaRole;
import com.microsoft.playwright.options.ColorScheme;
import org.junit.jupiter.api.Test;

/**
 * Issue 15: a dark theme that follows the system, a toggle that overrides it and is remembered, and
 * an automated accessibility check (axe-core: no serious or critical violation) of both themes, on a
 * desktop and a phone. Screenshots: theme-light, theme-dark, phone-dark, phone-dark-rooms.
 */
class ChatUiThemeTest extends ChatUiBase {

    private static final String LIGHT_PANEL = "rgb(255, 255, 255)";
    private static final String DARK_PANEL = "rgb(24, 27, 35)";

    @Test
    void bothThemesFollowTheSystemAndPassTheAccessibilityCheck() {
        Page light = signIn("alice", screen(ColorScheme.LIGHT, 1280, 800));
        Page dark = signIn("bob", screen(ColorScheme.DARK, 1280, 800));
        send(light, "a `code` word, *bold* and a link https://example.com/docs");
        send(dark, "hi @alice, have a look:\n```\nmvn -B verify\n```");
        assertThat(light.locator(".msg.mentions-me")).isVisible();
        light.locator("#dm-user").fill("bob");
        light.locator("#dm-user").press("Enter");
        send(light, "a direct word");
        light.locator(".room-link[data-room=general]").click();
        assertThat(dark.locator(".room-link[data-room='dm:alice:bob'] .badge")).isVisible();

        assertThat(panel(light)).isEqualTo(LIGHT_PANEL);
        assertThat(panel(dark)).isEqualTo(DARK_PANEL);
        assertAccessible(light, "the light theme");
        assertAccessible(dark, "the dark theme");
        shot(light, "theme-light");
        shot(dark, "theme-dark");

        Page phone = signIn("carol", screen(ColorScheme.DARK, 390, 844));
        send(phone, "from a phone at night");
        assertAccessible(phone, "the phone layout, dark");
        shot(phone, "phone-dark");
        phone.locator("button[aria-label='Rooms']").click();
        assertThat(phone.locator(".sidebar")).isInViewport();
        assertAccessible(phone, "the phone's rooms drawer, dark");
        shot(phone, "phone-dark-rooms");
    }

    @Test
    void theSignInPagePassesTheAccessibilityCheckInBothThemes() {
        for (ColorScheme scheme : new ColorScheme[] {ColorScheme.LIGHT, ColorScheme.DARK}) {
            com.microsoft.playwright.BrowserContext ctx = browser.newContext(screen(scheme, 1280, 800));
            contexts.add(ctx);
            Page page = watched(ctx.newPage(), "sign-in " + scheme);
            page.navigate(base());
            page.locator("#signin-name").fill("Not Valid!");
            page.locator("#signin-name").press("Enter");
            assertThat(page.locator(".error")).isVisible();
            assertAccessible(page, "the sign-in page, " + scheme);
            shot(page, "sign-in-" + scheme.name().toLowerCase());
        }
    }

    @Test
    void theToggleOverridesTheSystemThemeAndIsRemembered() {
        Page page = signIn("alice", screen(ColorScheme.LIGHT, 1280, 800));
        Locator toggle = page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Dark theme"));
        assertThat(toggle).hasAttribute("aria-pressed", "false");
        toggle.click();
        assertThat(toggle).hasAttribute("aria-pressed", "true");
        assertThat(panel(page)).isEqualTo(DARK_PANEL);

        page.reload();
        assertThat(page.locator(".me-name")).hasText("alice");
        assertThat(toggle).hasAttribute("aria-pressed", "true");
        assertThat(panel(page)).isEqualTo(DARK_PANEL);
        assertAccessible(page, "the dark theme chosen by the toggle");

        toggle.click();
        assertThat(toggle).hasAttribute("aria-pressed", "false");
        assertThat(panel(page)).isEqualTo(LIGHT_PANEL);
    }

    private static Browser.NewContextOptions screen(ColorScheme scheme, int width, int height) {
        return new Browser.NewContextOptions().setViewportSize(width, height).setColorScheme(scheme);
    }

    /** The background colour of the room panel, as the browser computed it. */
    private static String panel(Page page) {
        return (String) page.locator(".room").evaluate("el => getComputedStyle(el).backgroundColor");
    }
}
