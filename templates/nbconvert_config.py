"""nbconvert settings for `make html`, `make slides` and the rendered-view test.

Pages are written to build/ and load everything from ../node_modules (package-lock.json), so they
work with no network; the two templates next to this file add alt text and fit the slides.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def without_imports(css: str) -> str:
    """A stylesheet without its @import lines: reveal.js's themes import web fonts from Google."""
    return "".join(line for line in css.splitlines(keepends=True) if not line.startswith("@import url("))


c = get_config()  # noqa: F821 (nbconvert provides it)
c.TemplateExporter.extra_template_basedirs = [str(ROOT / "templates")]
c.TemplateExporter.extra_template_paths = [str(ROOT / "node_modules" / "reveal.js" / "dist" / "theme")]
c.TemplateExporter.filters = {"without_imports": without_imports}
c.HTMLExporter.template_name = "alt_text"
c.SlidesExporter.template_name = "deck"
c.HTMLExporter.require_js_url = "../node_modules/requirejs/require.js"
c.HTMLExporter.jquery_url = "../node_modules/jquery/dist/jquery.min.js"
c.HTMLExporter.mathjax_url = "../node_modules/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe"
c.SlidesExporter.reveal_url_prefix = "../node_modules/reveal.js"
c.SlidesExporter.font_awesome_url = "../node_modules/font-awesome/css/font-awesome.css"
# The deck's slide is a 1280x720 projector's screen, at scale 1 (templates/deck/index.html.j2 sets no margin).
c.SlidesExporter.reveal_width = "1280"
c.SlidesExporter.reveal_height = "720"
