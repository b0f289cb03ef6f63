"""Running any code cell twice in a row prints what it printed the first time (timing aside)."""

from conftest import is_volatile, notebook_kernel, visible_outputs


def test_every_cell_prints_the_same_when_run_twice(tmp_path):
    changed = []
    with notebook_kernel(tmp_path) as live:
        for index, cell in live.code_cells():
            live.client.execute_cell(cell, index)
            first = visible_outputs(cell)
            live.client.execute_cell(cell, index)
            if visible_outputs(cell) != first and not is_volatile(cell):
                changed.append(f"{index}: {cell.source[:80]!r}")
    assert not changed, "cells that print something else when run again: " + ", ".join(changed)
