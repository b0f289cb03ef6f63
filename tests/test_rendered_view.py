"""What readers and teachers see, offline: the HTML page and the slide deck in headless Chromium.

Chromium runs with every host name unresolvable, and each page reports every resource it loaded:
anything that is not a local file fails the test.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import NOTEBOOK, ROOT

BUILD = ROOT / "build"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--host-resolver-rules=MAP * ~NOTFOUND",
]
SLIDE_HEIGHT = 700  # reveal.js's slide in nbconvert's template, shown at about scale 1 on 1280x720
# Appended to a copy of a page: once it has loaded, it writes a JSON report into the DOM for Chromium to print.
REPORT_SCRIPT = """
<script>
window.__errors = [];
window.addEventListener("error", e => window.__errors.push(String(e.message || e)));
function writeReport(extra) {
  const report = Object.assign({
    errors: window.__errors,
    resources: performance.getEntriesByType("resource").map(r => r.name),
  }, extra);
  const pre = document.createElement("pre");
  pre.id = "render-report";
  pre.textContent = JSON.stringify(report);
  document.body.appendChild(pre);
}
%s
</script>
"""
PAGE_PROBE = """
window.addEventListener("load", () => setTimeout(() => writeReport({
  images: [...document.images].map(img => [img.naturalWidth, img.naturalHeight, img.alt.length]),
  headings: [...document.querySelectorAll("h1, h2, h3, h4")].map(h => h.textContent.replace("¶", "").trim()),
  stderr: document.querySelectorAll('[data-mime-type="application/vnd.jupyter.stderr"]').length,
  traceback: document.body.innerText.includes("Traceback (most recent call last)"),
  rawMath: document.body.innerText.includes("$$"),
}), 2000));
"""
DECK_PROBE = """
window.addEventListener("load", () => setTimeout(() => require(["../node_modules/reveal.js/dist/reveal.js"], Reveal => {
  const slides = Reveal.getSlides().map(section => {
    const at = Reveal.getIndices(section);
    Reveal.slide(at.h, at.v);
    return {at: [at.h, at.v], height: section.scrollHeight, cells: section.querySelectorAll(".jp-Cell").length,
            overflow: getComputedStyle(section).overflowY,
            cut: [...section.querySelectorAll("pre")].filter(p => p.scrollWidth > p.clientWidth + 1).length};
  });
  writeReport({slides, notes: document.querySelectorAll("aside.notes").length});
}), 2000));
"""


def find_chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    message = "Chromium is not installed: `sudo apt-get install chromium` (Debian/Ubuntu) to run this test."
    if os.environ.get("CI") == "true":
        pytest.fail(message + " Under CI, .ci/run installs it first.")
    pytest.skip(message)


def export(to: str) -> Path:
    """Run nbconvert from this Python, with the settings `make html` / `make slides` use, into build/."""
    if not (ROOT / "node_modules" / "reveal.js").is_dir():
        pytest.fail("The offline assets are missing: run `npm ci` (make test does it).")
    subprocess.run([sys.executable, "-m", "nbconvert", "--config", str(ROOT / "templates" / "nbconvert_config.py"),
                    "--to", to, "--output-dir", str(BUILD), str(NOTEBOOK)], check=True, capture_output=True, timeout=300)
    return BUILD / NOTEBOOK.with_suffix(".slides.html" if to == "slides" else ".html").name


def report(page: Path, probe: str, tmp_path: Path, window: str) -> dict:
    """Open a copy of page (next to it, so relative links work) in offline Chromium; return its report."""
    copy = page.with_name("probe-" + page.name)
    copy.write_text(page.read_text(encoding="utf-8").replace("</body>", REPORT_SCRIPT % probe + "</body>"))
    browser = [find_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", f"--window-size={window}"]
    dom = subprocess.run([*browser, "--virtual-time-budget=20000", "--dump-dom", copy.as_uri()],
                         capture_output=True, text=True, timeout=180, check=True).stdout
    found = re.search(r'<pre id="render-report">(.*?)</pre>', dom, flags=re.DOTALL)
    assert found, "the page never finished loading"
    result = json.loads(found.group(1).replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">")
                        .replace("&amp;", "&"))
    assert result["errors"] == [], result["errors"]
    leaving = [url for url in result["resources"] if not url.startswith(("file:", "data:"))]
    assert leaving == [], f"requests that would leave the machine: {leaving}"
    return result


def notebook_headings(notebook_json) -> list[str]:
    sources = ["".join(c["source"]) for c in notebook_json["cells"] if c["cell_type"] == "markdown"]
    return [m.strip().strip("`") for s in sources for m in re.findall(r"^#{1,4} (.+)$", s, flags=re.MULTILINE)]


def test_html_page_renders_offline(notebook_json, tmp_path):
    page = export("html")
    result = report(page, PAGE_PROBE, tmp_path, "1280,800")
    assert len(result["images"]) >= 4, result["images"]
    assert all(width > 0 and height > 0 and alt > 20 for width, height, alt in result["images"]), result["images"]
    assert result["stderr"] == 0 and not result["traceback"]
    assert not result["rawMath"], "MathJax did not typeset the formulas"
    rendered = [re.sub(r"\s+", " ", h) for h in result["headings"]]
    for heading in notebook_headings(notebook_json):
        assert any(heading.replace("`", "") in h for h in rendered), heading

    screenshot = BUILD / "screenshots" / "notebook.png"
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([find_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'shot'}", "--window-size=1280,2400",
                    f"--screenshot={screenshot}", page.as_uri()], capture_output=True, timeout=120, check=True)
    assert screenshot.stat().st_size > 10_000


def test_slide_deck_fits_the_projector_offline(tmp_path):
    result = report(export("slides"), DECK_PROBE, tmp_path, "1280,720")
    slides = result["slides"]
    assert len(slides) > 20 and result["notes"] > 5
    assert sum(s["cut"] for s in slides) == 0, "code lines are cut at the right edge"
    tall = [s for s in slides if s["height"] > SLIDE_HEIGHT]
    # A slide may be taller than the screen only to keep one cell whole, and then it scrolls.
    assert all(s["cells"] <= 1 and s["overflow"] in ("auto", "scroll") for s in tall), tall
    print(f"\n{len(slides)} slides, {len(tall)} taller than {SLIDE_HEIGHT} px (one cell each, scrolling), "
          f"tallest {max(s['height'] for s in slides)} px")


def test_every_section_starts_a_slide(notebook_json):
    for cell in notebook_json["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown" and re.match(r'<a id="[\w-]+"></a>\s*#{1,4} ', source):
            assert cell["metadata"].get("slideshow", {}).get("slide_type") == "slide", source[:60]
