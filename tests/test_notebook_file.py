"""Checks on the committed notebook file itself; no kernel needed."""

import base64
import itertools
import re

from conftest import NOTEBOOK, ROOT

IMAGE_LINK = re.compile(r"\]\((images/[^)\s]+)\)|src=\"(images/[^\"]+)\"")
MEMORY_ADDRESS = re.compile(r"0x[0-9a-fA-F]{6,}")


def code_cells(nb):
    return [cell for cell in nb["cells"] if cell["cell_type"] == "code"]


def output_texts(cell):
    for output in cell.get("outputs", []):
        if "text" in output:
            yield "".join(output["text"])
        for mime, value in output.get("data", {}).items():
            if mime.startswith("text/"):
                yield "".join(value)


def test_executed_once_top_to_bottom(notebook_json):
    counts = [cell["execution_count"] for cell in code_cells(notebook_json)]
    assert counts == list(range(1, len(counts) + 1))


def test_no_errors_or_stderr_stored(notebook_json):
    for index, cell in enumerate(code_cells(notebook_json), start=1):
        for output in cell["outputs"]:
            assert output["output_type"] != "error", f"code cell {index} stores an error"
            assert output.get("name") != "stderr", f"code cell {index} stores stderr output"


def test_each_cell_prints_in_one_piece(notebook_json):
    for index, cell in enumerate(code_cells(notebook_json), start=1):
        names = [o["name"] for o in cell["outputs"] if o["output_type"] == "stream"]
        assert len(names) == len(set(names)), f"code cell {index} stores its output in several pieces"


def test_no_memory_addresses_in_outputs(notebook_json):
    for index, cell in enumerate(code_cells(notebook_json), start=1):
        for text in output_texts(cell):
            assert not MEMORY_ADDRESS.search(text), f"code cell {index} prints a memory address"


def test_every_plot_is_saved_and_shown_with_alt_text(notebook_json):
    for cell in code_cells(notebook_json):
        source = "".join(cell["source"])
        if "plt.subplots(" in source:
            assert re.search(r'save_and_show(_animation)?\(.+, "[\w-]+", alt=', source), source[:60]
            shown = [o for o in cell["outputs"] if o["output_type"] == "display_data"]
            assert len(shown) == 1, source[:60]
            assert len(shown[0]["metadata"]["image/png"]["alt"]) > 40, source[:60]


def stored_figures(nb) -> dict[str, bytes]:
    """Each figure the notebook shows, by the file name save_and_show stored with it, as its bytes."""
    figures = {}
    for cell in code_cells(nb):
        for output in cell["outputs"]:
            name = output.get("metadata", {}).get("image/png", {}).get("file")
            if name:
                assert name not in figures, f"two figures are stored as {name}"
                figures[name] = base64.b64decode("".join(output["data"]["image/png"]))
    return figures


def test_images_folder_equals_the_figures_the_notebook_stores(notebook_json):
    figures = stored_figures(notebook_json)
    on_disk = {path.name: path.read_bytes() for path in (ROOT / "images").iterdir()}
    assert sorted(on_disk) == sorted(figures), "images/ and the notebook's figures differ: run `make run`"
    changed = [name for name in figures if figures[name] != on_disk[name]]
    assert not changed, f"these files in images/ differ from the figure the notebook shows: {changed}"


def test_the_animation_is_small(notebook_json):
    gif = stored_figures(notebook_json)["descent.gif"]
    assert gif.startswith(b"GIF89a") and len(gif) < 500_000, len(gif)


def test_referenced_images_exist(notebook_json):
    markdown = [ROOT.joinpath("README.md").read_text(encoding="utf-8")]
    markdown += ["".join(c["source"]) for c in notebook_json["cells"] if c["cell_type"] == "markdown"]
    referenced = {a or b for text in markdown for a, b in IMAGE_LINK.findall(text)}
    assert referenced, "the README should show at least one figure"
    missing = [path for path in referenced if not (ROOT / path).is_file()]
    assert not missing


def test_saved_figures_are_committed(notebook_json):
    saved = set()
    for cell in code_cells(notebook_json):
        source = "".join(cell["source"])
        saved.update(f"{name}.png" for name in re.findall(r'save_and_show\(fig, "([\w-]+)"', source))
        saved.update(f"{name}.gif" for name in re.findall(r'save_and_show_animation\(.+?, "([\w-]+)"', source))
    assert saved, "the notebook should save its figures"
    for name in saved:
        assert (ROOT / "images" / name).is_file(), name


def test_notebook_is_small():
    assert NOTEBOOK.stat().st_size < 2_000_000


def test_parameters_cell_is_tagged(notebook_json):
    tagged = [c for c in notebook_json["cells"] if "parameters" in c["metadata"].get("tags", [])]
    assert len(tagged) == 1
    assert "LEARNING_RATE =" in "".join(tagged[0]["source"])


def markdown_words(source: str) -> int:
    """Words a reader sees in a markdown cell: folded <details> blocks and anchors do not count."""
    visible = re.sub(r"<details>.*?</details>", "", source, flags=re.DOTALL)
    return len(re.sub(r'<a id="[\w-]+"></a>', "", visible).split())


def code_lines(source: str) -> int:
    return sum(1 for line in source.splitlines() if line.strip())


def part_one(nb) -> list[dict]:
    """The cells from the title to the start of Part 2, teaching notes left out."""
    cells = []
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown" and 'id="why-it-works"' in source:
            return cells
        if cell["metadata"].get("slideshow", {}).get("slide_type") != "notes":
            cells.append(cell)
    raise AssertionError("the notebook has no Part 2 anchor")


def words_and_lines(cells: list[dict]) -> tuple[int, int]:
    """Words of markdown a reader sees, and non-blank lines of code, in these cells."""
    words = sum(markdown_words("".join(c["source"])) for c in cells if c["cell_type"] == "markdown")
    return words, sum(code_lines("".join(c["source"])) for c in cells if c["cell_type"] == "code")


def test_part_one_fits_the_length_of_the_official_guide(notebook_json):
    words, lines = words_and_lines(part_one(notebook_json))
    assert words <= 1000, f"Part 1 has {words} words of markdown; the budget is 1,000"
    assert lines <= 150, f"Part 1 has {lines} lines of code; the budget is 150"
    sources = ["".join(c["source"]) for c in part_one(notebook_json) if c["cell_type"] == "code"]
    keys = ("assign_sub", "np.polyfit", 'save_and_show(fig, "trained"')
    first = {key: [i for i, s in enumerate(sources) if key in s][:1] for key in keys}
    assert all(first.values()), f"Part 1 should hold code with each of {keys}; missing: {[k for k in keys if not first[k]]}"
    trained, checked, plotted = (first[key][0] for key in keys)
    assert trained < checked < plotted, "Part 1 should train, then check against least squares, then plot (the whole game)"


def part_three(nb) -> list[dict]:
    """The cells of Part 3, teaching notes left out."""
    sources = ["".join(cell["source"]) for cell in nb["cells"]]
    start = next(i for i, s in enumerate(sources) if 'id="grow-it"' in s)
    end = next(i for i, s in enumerate(sources) if 'id="speed-and-scale"' in s)
    return [c for c in nb["cells"][start:end] if c["metadata"].get("slideshow", {}).get("slide_type") != "notes"]


def test_part_three_grew_by_at_most_a_quarter(notebook_json):
    """Part 3 had 1,400 words and 258 lines of code before its rework; it may grow by a quarter."""
    words, lines = words_and_lines(part_three(notebook_json))
    assert words <= 1750, f"Part 3 has {words} words of markdown; the budget is 1,750"
    assert lines <= 322, f"Part 3 has {lines} lines of code; the budget is 322"


def test_code_before_the_data_is_short(notebook_json):
    lines = 0
    for cell in code_cells(notebook_json):
        source = "".join(cell["source"])
        if "stateless_normal" in source:
            break
        lines += code_lines(source)
    assert lines <= 40, f"{lines} lines of code stand before the data; the budget is 40"


def test_teaching_notes_are_folded_for_teachers(notebook_json):
    for cell in notebook_json["cells"]:
        source = "".join(cell["source"])
        is_note = cell["metadata"].get("slideshow", {}).get("slide_type") == "notes"
        assert is_note == source.startswith("<details><summary>For teachers</summary>"), source[:60]
        if cell["cell_type"] == "markdown" and not is_note:
            assert "teaching note" not in source.lower(), source[:60]


def test_no_exercise_check_stands_above_an_exercise(notebook_json):
    """Each check cell (tag ending in -check) comes after every exercise it checks: the last tag is a check."""
    tags = [tag for cell in notebook_json["cells"] for tag in cell["metadata"].get("tags", [])
            if tag.startswith("exercise-") or tag.endswith("-check")]
    assert tags and tags[-1].endswith("-check"), tags
    exercises_before_first_check = tags[:next(i for i, tag in enumerate(tags) if tag.endswith("-check"))]
    assert len(exercises_before_first_check) == 3, tags
    assert tags[-2:] == ["exercise-bughunt", "bughunt-check"], tags


def test_multi_worker_files_are_the_ones_the_notebook_writes(notebook_json):
    """The notebook writes multi_worker/*.py itself (so that it runs alone, in Colab too); `make run` refreshes them."""
    written = {}
    for cell in code_cells(notebook_json):
        lines = "".join(cell["source"]).split("\n")
        if lines[:1] == ["%%capture"] and lines[1].startswith("%%writefile {SCRIPTS_DIR}/"):
            written[lines[1].rsplit("/", 1)[1]] = "\n".join(lines[2:]) + "\n"
    on_disk = {path.name: path.read_text(encoding="utf-8") for path in (ROOT / "multi_worker").glob("*.py")}
    step = on_disk.pop("train_step.py")  # written from Part 3's functions, so each must stand in a cell as it is here
    assert written and sorted(written) == sorted(on_disk), (sorted(written), sorted(on_disk))
    assert all(written[name] == on_disk[name] for name in written), "multi_worker/ is out of date: run `make run`"
    functions = ["def " + part.rstrip("\n") for part in step.split("\n\n\ndef ")[1:]]  # a cell may end with one
    cells = ["".join(cell["source"]) for cell in code_cells(notebook_json)]
    assert [name.split("(")[0] for name in functions] == ["def squared_errors", "def average_loss", "def make_train_step"]
    assert all(any(function in cell for cell in cells) for function in functions), "train_step.py is out of date"


def test_the_class_plan_follows_the_notebook(notebook_json):
    """Each route of the README's class plan visits sections in the order the notebook and its deck show them."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    plan = readme[readme.index("| Minutes | Part |"):readme.index("Homework:")]
    headings = [re.sub(r"^#+ ", "", line).strip() for c in notebook_json["cells"] if c["cell_type"] == "markdown"
                for line in "".join(c["source"]).splitlines() if re.match(r"#{1,4} ", line)]
    routes: list[list[int]] = [[]]
    for row in plan.strip().splitlines()[2:]:
        minutes, part = (cell.strip() for cell in row.split("|")[1:3])
        if minutes.startswith("**"):  # "**Part 2**", "**or Part 4**": a route begins
            routes.append([])
            continue
        name = re.split(r";| \(", part)[0].split(",")[0].strip()
        found = [i for i, h in enumerate(headings) if h.startswith(name) or name.startswith(h)]
        assert found, f"the plan's row {part!r} names no section of the notebook"
        routes[-1].append(found[0])
    for route in routes[1:]:
        assert route == sorted(route), f"the plan visits sections out of the notebook's order: {route}"
        assert routes[0] + route == sorted(routes[0] + route), "each route should start after Part 1"


def test_no_predict_shares_a_slide_with_its_answer(notebook_json):
    """In the deck, the cell after a Predict starts a slide of its own, so the answer comes a key press later."""
    shown = [c for c in notebook_json["cells"]
             if c["metadata"].get("slideshow", {}).get("slide_type") not in ("notes", "skip")]
    for cell, following in itertools.pairwise(shown):
        if cell["cell_type"] == "markdown" and "**Predict:**" in "".join(cell["source"]):
            slide_type = following["metadata"].get("slideshow", {}).get("slide_type")
            assert slide_type in ("slide", "subslide"), "".join(cell["source"])[:80]


def test_cells_you_may_skip_in_part_one_are_short(notebook_json):
    """A folded cell, or one the text says to run without reading, holds at most 10 lines: machinery stays small."""
    told_to_skip = False  # the code cells after a text that says "without reading" or "unread", up to the next text
    for cell in part_one(notebook_json):
        if cell["cell_type"] == "markdown":
            told_to_skip = any(words in "".join(cell["source"]) for words in ("without reading", "unread"))
        elif told_to_skip or cell["metadata"].get("jupyter", {}).get("source_hidden"):
            source = "".join(cell["source"])
            assert code_lines(source) <= 10, f"a cell you may skip has {code_lines(source)} lines: {source[:60]!r}"
