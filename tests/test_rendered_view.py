"""What readers see: the HTML export in a real headless Chromium, and the slide deck."""

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
    "--hide-scrollbars",
]
# Appended to a copy of the page: once everything has loaded, it writes what a reader would see
# (image sizes, headings, error traces) into the DOM, which Chromium then prints.
REPORT_SCRIPT = """
<script>
window.addEventListener("load", () => {
  const report = {
    images: [...document.images].map(img => [img.naturalWidth, img.naturalHeight]),
    headings: [...document.querySelectorAll("h1, h2")].map(h => h.textContent.replace("¶", "").trim()),
    stderr: document.querySelectorAll('[data-mime-type="application/vnd.jupyter.stderr"]').length,
    traceback: document.body.innerText.includes("Traceback (most recent call last)"),
  };
  const pre = document.createElement("pre");
  pre.id = "render-report";
  pre.textContent = JSON.stringify(report);
  document.body.appendChild(pre);
});
</script>
"""


def find_chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    message = "Chromium is not installed: `sudo apt-get install chromium` (Debian/Ubuntu) to run this test."
    if os.environ.get("CI") == "true":
        pytest.fail(message + " Under CI, .ci/run installs it first.")
    pytest.skip(message)


def export(to: str, *options: str) -> Path:
    """Run nbconvert from this Python (as `make html` / `make slides` do) into build/; return the file."""
    subprocess.run([sys.executable, "-m", "nbconvert", "--to", to, *options, "--output-dir", str(BUILD), str(NOTEBOOK)],
                   check=True, capture_output=True, timeout=300)
    return BUILD / NOTEBOOK.with_suffix(".slides.html" if to == "slides" else ".html").name


def notebook_headings(notebook_json) -> list[str]:
    sources = ["".join(c["source"]) for c in notebook_json["cells"] if c["cell_type"] == "markdown"]
    return [m.strip().strip("`") for s in sources for m in re.findall(r"^##? (.+)$", s, flags=re.MULTILINE)]


@pytest.fixture(scope="module")
def html_page() -> Path:
    return export("html", f"--TemplateExporter.extra_template_basedirs={ROOT / 'templates'}", "--template", "alt_text")


def test_html_export_renders_in_chromium(html_page, notebook_json, tmp_path):
    chromium = find_chromium()
    probe = tmp_path / "probe.html"
    probe.write_text(html_page.read_text(encoding="utf-8").replace("</body>", REPORT_SCRIPT + "</body>"))
    browser = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*browser, "--virtual-time-budget=10000", "--dump-dom", probe.as_uri()],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    found = re.search(r'<pre id="render-report">(.*?)</pre>', dom, flags=re.DOTALL)
    assert found, "the page never finished loading"
    report = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))

    assert len(report["images"]) >= 4, report["images"]
    assert all(width > 0 and height > 0 for width, height in report["images"]), report["images"]
    assert report["stderr"] == 0 and not report["traceback"]
    rendered = [re.sub(r"\s+", " ", h) for h in report["headings"]]
    for heading in notebook_headings(notebook_json):
        assert any(heading.replace("`", "") in h for h in rendered), heading

    screenshot = BUILD / "screenshots" / "notebook.png"
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([*browser, "--window-size=1280,2400", f"--screenshot={screenshot}", html_page.as_uri()],
                   capture_output=True, timeout=120, check=True)
    assert screenshot.stat().st_size > 10_000


def test_slides_build_with_one_slide_per_section(notebook_json):
    deck = export("slides").read_text(encoding="utf-8")
    slide_cells = [c for c in notebook_json["cells"]
                   if c["metadata"].get("slideshow", {}).get("slide_type") == "slide"]
    sections = [c for c in notebook_json["cells"]
                if c["cell_type"] == "markdown" and re.match(r"(<a id=\"[\w-]+\"></a>\s*)?##? ", "".join(c["source"]))]
    assert len(slide_cells) == len(sections)
    assert deck.count("<section") >= len(slide_cells)
    assert '<aside class="notes">' in deck
