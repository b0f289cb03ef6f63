"""Running any code cell twice in a row prints what it printed the first time (timing aside)."""

from conftest import is_volatile


def test_every_cell_prints_the_same_when_run_twice(live_notebook):
    assert len(live_notebook.runs) == len(live_notebook.code_cells()), "the live kernel ran each cell only once"
    changed = [index for index, first, second in live_notebook.runs
               if first != second and not is_volatile(live_notebook.nb.cells[index])]
    assert not changed, "cells that print something else when run again: " + ", ".join(
        f"{i}: {live_notebook.nb.cells[i].source[:80]!r}" for i in changed)
