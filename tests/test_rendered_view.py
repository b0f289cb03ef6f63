"""What readers and teachers see, offline: the HTML page and the slide deck in headless Chromium (Playwright).

Chromium runs with every host name unresolvable and writes its own network log: a page may ask for no host that
Chromium does not also ask for on a blank page, measured the same way (a failed CSS @import shows there, not in
the page's performance entries). The deck is read one press of the clicker at a time on a 1280x720 projector,
the page on a 390 px phone; screenshots land in build/screenshots/.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from conftest import NOTEBOOK, ROOT
from playwright.sync_api import Page, sync_playwright

BUILD = ROOT / "build"
SCREENSHOTS = BUILD / "screenshots"
PROJECTOR = {"width": 1280, "height": 720}
PHONE = {"width": 390, "height": 844}

# Shared by the probes below: the text a pre shows past its visible right edge, and line breaks inside a word.
HELPERS = r"""
const shown = el => el.getClientRects().length > 0;
// The right edge of what el shows: its content box (inner) or border box, cut by any box around it that clips or
// scrolls (that box's padding box). Lengths from CSS are scaled as reveal scales the slide.
function visibleRight(el, inner) {
  const cs = getComputedStyle(el), r = el.getBoundingClientRect(), k = r.width / el.offsetWidth || 1;
  let right = inner ? r.right - (parseFloat(cs.borderRightWidth) + parseFloat(cs.paddingRight)) * k : r.right;
  for (let a = el.parentElement; a; a = a.parentElement) {
    if (!a.clientWidth || getComputedStyle(a).overflowX === "visible") continue;
    const box = a.getBoundingClientRect();
    right = Math.min(right, box.left + (a.clientLeft + a.clientWidth) * (box.width / a.offsetWidth));
  }
  return Math.min(right, innerWidth);
}
// For a pre: how many glyphs end past its visible right edge, and each wrap between two letters or digits.
function readPre(pre) {
  const right = visibleRight(pre, true), walker = document.createTreeWalker(pre, NodeFilter.SHOW_TEXT);
  const range = document.createRange(), text = pre.textContent;
  let clipped = 0, prev = null, space = false, at = 0;
  const midWord = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (let i = 0; i < node.length; i++, at++) {
      const ch = node.data[i];
      if (/\s/.test(ch)) { space = true; continue; }
      range.setStart(node, i); range.setEnd(node, i + 1);
      const box = range.getClientRects()[0];
      if (!box) continue;
      if (box.right > right + 0.5) clipped++;
      if (prev && !space && box.top > prev.box.top + box.height / 2 && /[\w.]/.test(prev.ch) && /[\w.]/.test(ch))
        midWord.push(text.slice(Math.max(0, at - 12), at) + "⏎" + text.slice(at, at + 12));
      prev = {ch, box}; space = false;
    }
  }
  return {clipped, midWord, output: !!pre.closest(".jp-OutputArea")};
}
"""
# One state per press of the clicker (Reveal.next: fragments, then slides), from the first slide to the last.
DECK_PROBE = HELPERS + r"""
() => {
  Reveal.configure({transition: "none", backgroundTransition: "none"});
  Reveal.slide(0, 0, -1);
  const images = [...document.querySelectorAll(".reveal img")], states = [];
  for (let press = 0; press < 10000; press++) {
    const section = Reveal.getCurrentSlide(), at = Reveal.getIndices();
    let bottom = 0, right = 0;
    for (const el of section.querySelectorAll("*")) {
      if (!shown(el)) continue;
      const r = el.getBoundingClientRect();
      bottom = Math.max(bottom, r.bottom); right = Math.max(right, r.right);
    }
    const pres = [...section.querySelectorAll("pre")].filter(shown).map(readPre);
    const figures = [...section.querySelectorAll("img")].filter(shown).map(img => {
      const r = img.getBoundingClientRect(), k = Math.min(r.width / img.naturalWidth, r.height / img.naturalHeight);
      const [width, height] = [img.naturalWidth * k, img.naturalHeight * k];  // object-fit: contain, centre top
      const left = r.left + (r.width - width) / 2;
      return {image: images.indexOf(img), natural: [img.naturalWidth, img.naturalHeight], drawn: [width, height],
              box: {left, right: left + width, top: r.top, bottom: r.top + height}};
    });
    // Text lines and figures under reveal's arrows
    const arrows = [...document.querySelectorAll(".reveal .controls button")].filter(shown).map(b => b.getBoundingClientRect());
    const under = r => arrows.some(a => r.right > a.left && r.left < a.right && r.bottom > a.top && r.top < a.bottom);
    const walker = document.createTreeWalker(section, NodeFilter.SHOW_TEXT), range = document.createRange();
    let covered = figures.filter(f => under(f.box)).length;
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!node.data.trim()) continue;
      range.selectNodeContents(node);
      covered += [...range.getClientRects()].filter(under).length;
    }
    const code = section.querySelector(".jp-CodeCell");
    states.push({at: [at.h, at.v ?? 0, at.f ?? -1], bottom, right, figures, covered,
                 cell: code ? code.id.replace("cell-id=", "") : null,
                 first: ((code ? code.querySelector("pre")?.textContent : section.innerText) ?? "").trim().split("\n")[0],
                 clipped: pres.reduce((n, p) => n + p.clipped, 0),
                 midWord: pres.filter(p => p.output).flatMap(p => p.midWord)});
    Reveal.next();
    if (JSON.stringify(Reveal.getIndices()) === JSON.stringify(at)) break;
  }
  return {states, slides: Reveal.getTotalSlides(), images: images.length,
          notes: document.querySelectorAll("aside.notes").length};
}
"""
PAGE_PROBE = HELPERS + r"""
() => ({
  width: innerWidth,
  documentWidth: document.documentElement.scrollWidth,
  pres: [...document.querySelectorAll("pre")].filter(shown).map(pre => {
    const before = pre.scrollLeft;
    pre.scrollLeft = 50;
    const scrolls = pre.scrollLeft > before;
    pre.scrollLeft = before;
    return {...readPre(pre), text: pre.textContent.slice(0, 60), fits: pre.scrollWidth <= pre.clientWidth + 1,
            overflowX: getComputedStyle(pre).overflowX, scrolls,
            beyond: pre.getBoundingClientRect().right - visibleRight(pre, false)};
  }),
})
"""
PAGE_CONTENT = """() => ({
  images: [...document.images].map(img => [img.naturalWidth, img.naturalHeight, img.alt.length]),
  headings: [...document.querySelectorAll("h1, h2, h3, h4")].map(h => h.textContent.replace("¶", "").trim()),
  stderr: document.querySelectorAll('[data-mime-type="application/vnd.jupyter.stderr"]').length,
  traceback: document.body.innerText.includes("Traceback (most recent call last)"),
  rawMath: document.body.innerText.includes("$$"),
})"""
REVEAL_READY = """() => new Promise(done => require(["../node_modules/reveal.js/dist/reveal.js"], Reveal => {
  window.Reveal = Reveal;
  const typeset = () => MathJax.Hub.Queue(done);
  Reveal.isReady() ? typeset() : Reveal.on("ready", typeset);
}))"""


def find_chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    message = "Chromium is not installed: `sudo apt-get install chromium` (Debian/Ubuntu) to run this test."
    if os.environ.get("CI") == "true":
        pytest.fail(message + " Under CI, .ci/run installs it first.")
    pytest.skip(message)


def export(to: str) -> Path:
    """Run nbconvert from this Python, with the settings `make html` / `make slides` use, into build/.

    Each pytest-xdist worker writes its own file, next to the one `make` writes, so relative links still work.
    """
    if not (ROOT / "node_modules" / "reveal.js").is_dir():
        pytest.fail("The offline assets are missing: run `npm ci` (make test does it).")
    name = f"rendered-view-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    subprocess.run([sys.executable, "-m", "nbconvert", "--config", str(ROOT / "templates" / "nbconvert_config.py"),
                    "--to", to, "--output-dir", str(BUILD), "--output", name, str(NOTEBOOK)],
                   check=True, capture_output=True, timeout=300)
    return BUILD / f"{name}.{'slides.html' if to == 'slides' else 'html'}"


@pytest.fixture(scope="module")
def html_page() -> Path:
    return export("html")


@pytest.fixture(scope="module")
def slide_deck() -> Path:
    return export("slides")


@contextmanager
def browser_page(viewport: dict[str, int], net_log: Path | None = None) -> Iterator[Page]:
    """A page in headless Chromium with every host name unresolvable, optionally writing a network log."""
    args = ["--no-sandbox", "--disable-quic", "--host-resolver-rules=MAP * ~NOTFOUND"]
    if net_log:
        args.append(f"--log-net-log={net_log}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=find_chromium(), args=args)
        try:
            yield browser.new_page(viewport=viewport)
        finally:
            browser.close()  # Chromium finishes the network log as it exits


def hosts_in(net_log: Path) -> set[str]:
    """Every host named in the events of a Chromium network log: in URLs, and as `host` parameters."""
    found: set[str] = set()

    def walk(value: Any, key: str = "") -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, list):
            for v in value:
                walk(v, key)
        elif isinstance(value, str):
            found.update(m.lower() for m in re.findall(r"\b[a-z][a-z0-9+.-]*://\[?([a-zA-Z0-9.~-]+)", value))
            if key == "host" and "://" not in value:
                found.add(value.rsplit(":", 1)[0].lower())

    walk(json.loads(net_log.read_text(encoding="utf-8"))["events"])
    return found - {"~notfound"}  # where --host-resolver-rules sends every name


def blank_page_hosts(tmp_path: Path, seconds: float) -> set[str]:
    """What Chromium asks for on its own (sign-in, updates...): about:blank, open as long as the page was."""
    with browser_page(PROJECTOR, tmp_path / "blank.json") as page:
        page.goto("about:blank")
        page.wait_for_timeout(seconds * 1000)
    return hosts_in(tmp_path / "blank.json")


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / name)


def record_errors(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("requestfailed", lambda request: errors.append(f"{request.url[:120]} failed: {request.failure}"))
    return errors


def notebook_headings(notebook_json) -> list[str]:
    sources = ["".join(c["source"]) for c in notebook_json["cells"] if c["cell_type"] == "markdown"]
    return [m.strip().strip("`") for s in sources for m in re.findall(r"^#{1,4} (.+)$", s, flags=re.MULTILINE)]


def test_html_page_renders_offline(html_page, notebook_json, tmp_path):
    started = time.monotonic()
    with browser_page({"width": 1280, "height": 800}, tmp_path / "page.json") as page:
        errors = record_errors(page)
        page.goto(html_page.as_uri(), wait_until="load")
        page.evaluate("() => new Promise(done => MathJax.Hub.Queue(done))")
        result = page.evaluate(PAGE_CONTENT)
        page.set_viewport_size({"width": 1280, "height": 2400})
        screenshot(page, "notebook.png")
    asked = hosts_in(tmp_path / "page.json") - blank_page_hosts(tmp_path, time.monotonic() - started)
    assert asked == set(), f"the page asked the network for {sorted(asked)}"
    assert errors == []
    assert len(result["images"]) >= 4, result["images"]
    assert all(width > 0 and height > 0 and alt > 20 for width, height, alt in result["images"]), result["images"]
    assert result["stderr"] == 0 and not result["traceback"]
    assert not result["rawMath"], "MathJax did not typeset the formulas"
    rendered = [re.sub(r"\s+", " ", h) for h in result["headings"]]
    for heading in notebook_headings(notebook_json):
        assert any(heading.replace("`", "") in h for h in rendered), heading


@pytest.fixture(scope="module")
def phone_view(html_page) -> list[dict[str, Any]]:
    """Every code and output block of the page at 390 px."""
    with browser_page(PHONE) as page:
        page.goto(html_page.as_uri(), wait_until="load")
        page.evaluate("() => new Promise(done => MathJax.Hub.Queue(done))")
        result = page.evaluate(PAGE_PROBE)
        screenshot(page, "page-390.png")
        page.locator(".jp-CodeCell").nth(2).scroll_into_view_if_needed()
        screenshot(page, "page-390-code.png")
    assert result["documentWidth"] <= result["width"], "the page itself scrolls sideways"
    assert len(result["pres"]) > 20
    return result["pres"]


def test_phone_scrolls_long_lines_sideways(phone_view):
    """A line longer than the screen scrolls inside its own box, which ends within the screen."""
    cut = [p["text"] for p in phone_view if not (p["fits"] or (p["overflowX"] in ("auto", "scroll") and p["scrolls"]))]
    assert cut == [], f"{len(cut)} of {len(phone_view)} code or output blocks are cut, with no sideways scroll: {cut[:5]}"
    beyond = [p["text"] for p in phone_view if p["beyond"] > 0.5]
    assert beyond == [], f"blocks whose box runs past the screen or a box around them: {beyond[:5]}"


def test_phone_breaks_no_output_inside_a_word(phone_view):
    broken = [w for p in phone_view if p["output"] for w in p["midWord"]]
    assert broken == [], f"outputs broken inside a word or number: {broken[:5]}"


def test_slide_deck_renders_offline(slide_deck, tmp_path):
    started = time.monotonic()
    with browser_page(PROJECTOR, tmp_path / "deck.json") as page:
        errors = record_errors(page)
        page.goto(slide_deck.as_uri(), wait_until="load")
        page.evaluate(REVEAL_READY)
        slides = page.evaluate("() => Reveal.getTotalSlides()")
        notes = page.evaluate("() => document.querySelectorAll('aside.notes').length")
    asked = hosts_in(tmp_path / "deck.json") - blank_page_hosts(tmp_path, time.monotonic() - started)
    assert asked == set(), f"the deck asked the network for {sorted(asked)}"
    assert errors == []
    assert slides > 20 and notes > 5


@pytest.fixture(scope="module")
def deck_clicks(slide_deck) -> dict[str, Any]:
    """The deck at 1280x720, one state per press of the clicker; screenshots of a few."""
    with browser_page(PROJECTOR) as page:
        page.goto(slide_deck.as_uri(), wait_until="load")
        page.evaluate(REVEAL_READY)
        deck = page.evaluate(DECK_PROBE)
        shots = {(0, 0, -1)}
        if figures := [s for s in deck["states"] if s["figures"]]:
            first = figures[0]["at"]  # and the click before it, its code; then the widest figure
            widest = max(figures, key=lambda s: s["figures"][0]["natural"][0] / s["figures"][0]["natural"][1])
            shots |= {tuple(first), (*first[:2], max(first[2] - 1, -1)), tuple(widest["at"])}
        for h, v, f in sorted(shots):
            page.evaluate(f"() => Reveal.slide({h}, {v}, {f})")
            page.wait_for_timeout(300)  # the fragment fades in
            screenshot(page, f"deck-{h}-{v}-{f}.png")
    assert len({tuple(s["at"][:2]) for s in deck["states"]}) == deck["slides"] > 20 and deck["notes"] > 5
    return deck


def test_no_slide_runs_below_the_fold(deck_clicks):
    """Every press of the clicker shows a whole slide: nothing below 720 px or right of 1280 px."""
    states = deck_clicks["states"]
    over = [s for s in states if s["bottom"] > PROJECTOR["height"] + 0.5 or s["right"] > PROJECTOR["width"] + 0.5]
    print(f"\n{deck_clicks['slides']} slides, {len(states)} clicks")
    too_large = [f"slide {s['at']}: {s['bottom']:.0f} px high, cell {s['cell']}: {s['first'][:80]}" for s in over]
    assert too_large == [], "slides larger than the screen (split the cell in the notebook):\n" + "\n".join(too_large)


def test_no_letter_is_cut_off_on_a_slide(deck_clicks):
    clipped = [(s["at"], s["first"][:60]) for s in deck_clicks["states"] if s["clipped"]]
    assert clipped == [], f"slides where letters are cut off at the right edge of a code box: {clipped}"


def test_nothing_is_under_the_arrows(deck_clicks):
    """reveal's navigation arrows cover no text and no figure."""
    covered = [(s["at"], s["first"][:60]) for s in deck_clicks["states"] if s["covered"]]
    assert covered == [], f"slides with text or a figure under reveal's arrows: {covered}"


def test_no_output_on_a_slide_breaks_inside_a_word(deck_clicks):
    broken = [(s["at"], w) for s in deck_clicks["states"] for w in s["midWord"]]
    assert broken == [], f"outputs broken inside a word or number: {broken}"


def test_every_figure_is_shown_at_least_at_its_own_size(deck_clicks):
    """Each figure comes on some click, at its own size or larger, or nearly as wide as the screen."""
    states = deck_clicks["states"]
    assert deck_clicks["images"] > 0
    assert {f["image"] for s in states for f in s["figures"]} == set(range(deck_clicks["images"])), "a figure never shows"
    small = [(s["at"], f) for s in states for f in s["figures"]
             if f["drawn"][0] < min(f["natural"][0], 0.9 * PROJECTOR["width"]) - 1]
    assert small == [], f"figures drawn smaller than their own size: {small}"


def test_every_section_starts_a_slide(notebook_json):
    for cell in notebook_json["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown" and re.match(r'<a id="[\w-]+"></a>\s*#{1,4} ', source):
            assert cell["metadata"].get("slideshow", {}).get("slide_type") == "slide", source[:60]
