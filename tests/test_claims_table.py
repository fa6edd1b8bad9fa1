"""benchmarks/claims.py: one run per seed offset, and the spread of each claimed figure."""
import importlib.util
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("claims_table", ROOT / "benchmarks" / "claims.py")
claims_table = importlib.util.module_from_spec(spec)
spec.loader.exec_module(claims_table)


def test_spread_gives_the_range_of_each_number():
    figures = ["0.81 vs 0.50 (1,200 pairs)", "0.83 vs 0.50 (1,200 pairs)", "0.79 vs 0.50 (1,200 pairs)"]
    assert claims_table.spread(figures) == "0.79..0.83, 0.50, 1,200"
    assert claims_table.spread(["a 1", "b 1 2"]) == "a 1 | b 1 2"  # different shapes: shown as they are


def test_each_seed_offset_reaches_seed_everything(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 99 · Toy"), nbformat.v4.new_code_cell(
        "import torch\nfrom course import seed_everything\nfrom course.claims import claim\n"
        "seed_everything(0)\nx = torch.rand(()).item()\n"
        "claim('a uniform draw lies below 0.9', x < 0.9, f'{x:.4f}')")]
    path = tmp_path / "99_toy.ipynb"
    nbformat.write(nb, path)
    figures = []
    for offset in (0, 1):
        [(name, records, error, _)] = claims_table.run_once([path], True, offset, tmp_path)
        assert (name, error) == ("99_toy", "")
        figures.append(records[0]["figure"])
    assert figures[0] != figures[1]  # a different seed, a different draw
