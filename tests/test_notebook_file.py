"""Checks on the committed notebook file itself; no kernel needed."""

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
            assert re.search(r'save_and_show\(fig, "[\w-]+", alt=', source), source[:60]
            shown = [o for o in cell["outputs"] if o["output_type"] == "display_data"]
            assert len(shown) == 1, source[:60]
            assert len(shown[0]["metadata"]["image/png"]["alt"]) > 40, source[:60]


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
        saved.update(re.findall(r'save_and_show\(fig, "([\w-]+)"', "".join(cell["source"])))
    assert saved, "the notebook should save its figures"
    for name in saved:
        assert (ROOT / "images" / f"{name}.png").is_file(), name


def test_notebook_is_small():
    assert NOTEBOOK.stat().st_size < 2_000_000


def test_parameters_cell_is_tagged(notebook_json):
    tagged = [c for c in notebook_json["cells"] if "parameters" in c["metadata"].get("tags", [])]
    assert len(tagged) == 1
    assert "LEARNING_RATE =" in "".join(tagged[0]["source"])
