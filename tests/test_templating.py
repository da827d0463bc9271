"""Templates.render_variant remembers a render per language and values, and nothing else."""

from __future__ import annotations

from bot.i18n import LANGUAGE_NAMES, create_i18n
from bot.templating import Templates


def test_render_variant_is_render_per_language_and_values() -> None:
    i18n = create_i18n("ru")
    templates = Templates(i18n)
    with i18n.context():
        for locale in ("ru", "be", "en"):
            with i18n.use_locale(locale):
                for returning in (True, False):
                    context = {"returning": returning, "language_name": LANGUAGE_NAMES[locale]}
                    expected = templates.render("onboarding/start.html.j2", **context)
                    assert templates.render_variant("onboarding/start.html.j2", **context) == (
                        expected
                    )
                    # Remembered: the second call gives the same text.
                    assert templates.render_variant("onboarding/start.html.j2", **context) == (
                        expected
                    )
        with i18n.use_locale("en"):
            new = templates.render_variant(
                "onboarding/start.html.j2", returning=False, language_name="English"
            )
            back = templates.render_variant(
                "onboarding/start.html.j2", returning=True, language_name="English"
            )
    assert "Hello" in new and "Welcome back" in back
