"""The practical notebook of hw4_flows_autoregressive runs end to end on the CPU with the reference
autoregressive.py and flows.py (a real Jupyter kernel, a much smaller budget than the default, the
offline digits); its autograded quality cell is well-formed, passes for a causal model inside the
band and fails with a message for a too-good NLL, a too-bad one and a model that is not causal;
the stubs make the notebook stop with a message for the student."""
from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import nbformat
import pytest
import torch
import torch.nn.functional as F
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from conftest import assert_saved_clean, quality_cell
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
NAME = "hw4_flows_autoregressive"
ASSIGNMENT = ROOT / "assignments" / NAME
# A tiny budget: the notebook's code paths and plots, not its quality (the quality cell's band
# holds at the defaults only; here its causality test runs on the trained model).
SMALL = {"STEPS": 30, "CHANNELS": 8, "LAYERS": 2, "N_SAMPLES": 2, "FLOW_STEPS": 50, "FLOW_LAYERS": 4,
         "FLOW_HIDDEN": 16, "N_MOONS": 500, "DOWNLOAD": False, "DEVICE": "cpu"}
UNTRAINED = 784 * math.log(2)
GRADED = {"grade": True, "solution": False, "locked": True, "points": 2, "grade_id": "quality_pixelcnn",
          "schema_version": 3}


def load(folder: Path = ASSIGNMENT) -> nbformat.NotebookNode:
    return nbformat.read(folder / f"{NAME}.ipynb", as_version=4)


def band(source: str) -> tuple[float, float]:
    low, high = re.search(r"assert ([\d.]+) <= test_nll <= ([\d.]+)", source).groups()
    return float(low), float(high)


def copy_assignment(tmp_path: Path, replaced: tuple[str, ...]) -> Path:
    folder = tmp_path / NAME
    shutil.copytree(ASSIGNMENT, folder, ignore=shutil.ignore_patterns("data", "__pycache__", ".hypothesis"))
    for name in replaced:
        shutil.copy(ROOT / "solutions" / NAME / name, folder / name)
    return folder


def run_notebook(folder: Path, settings: dict) -> nbformat.NotebookNode:
    """Execute the notebook at `settings`. The quality cell runs last with test_nll set inside the
    band (the band holds at the default budget only), so that its causality test runs on the
    trained PixelCNN; a final cell prints what the test checks, as JSON."""
    notebook = load(folder)
    cell = quality_cell(notebook)
    low, high = band(cell.source)
    parameters = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    parameters.source += "\n" + "\n".join(f"{name} = {value!r}" for name, value in settings.items())
    notebook.cells.insert(notebook.cells.index(cell), nbformat.v4.new_code_cell(
        f"reached = test_nll\ntest_nll = {(low + high) / 2}"))
    # Sampling passes only the rows down to the current one: for a causal model, the same logits.
    notebook.cells.append(nbformat.v4.new_code_cell("""\
import json
with torch.no_grad():
    full = pixelcnn(samples)
    cropped = max((pixelcnn(samples[:, :, :i + 1])[:, :, i] - full[:, :, i]).abs().max().item() for i in range(28))
print(json.dumps({"test_nll": reached, "flow_test_nll": flow_test_nll, "cropped": cropped,
                  "samples": sorted(set(samples.flatten().tolist())), "shape": list(samples.shape)}))"""))
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()
    return notebook


def test_notebook_is_saved_clean_and_its_quality_cell_is_gradable():
    notebook = load()
    cell = assert_saved_clean(notebook, GRADED)
    low, high = band(cell.source)
    assert 0 < low < high < UNTRAINED
    # the markdown above the cell documents the same band
    above = notebook.cells[notebook.cells.index(cell) - 1]
    assert above.cell_type == "markdown" and f"between **{low:g} and {high:g} nats per image**" in above.source


def test_mnist_is_hw1s():
    # each assignment folder is released on its own, with its own copy
    assert (ASSIGNMENT / "mnist.py").read_text() == (ROOT / "assignments" / "hw1_vae" / "mnist.py").read_text()


# ------------------------------------------------- the quality cell, on stand-in models


def raster_mask(k: int, kind: str) -> torch.Tensor:
    """A PixelCNN mask ("A", "B"), or a wrong one: "none" (all ones), "transposed" (column order)."""
    mask = torch.ones(k, k)
    if kind in ("A", "B", "transposed"):
        mask[k // 2 + 1:] = 0
        mask[k // 2, k // 2 + (kind != "A"):] = 0
    return mask.T.contiguous() if kind == "transposed" else mask


class StandIn(nn.Module):
    """A small PixelCNN with its own masked convolutions, masks (first, rest), and tanh (no dead units)."""

    def __init__(self, first: str = "A", rest: str = "B", channels: int = 4):
        super().__init__()
        torch.manual_seed(0)
        self.convs = nn.ModuleList([nn.Conv2d(1, channels, 5, padding=2),
                                    nn.Conv2d(channels, channels, 3, padding=1)])
        self.masks = [raster_mask(5, first), raster_mask(3, rest)]
        self.out = nn.Conv2d(channels, 1, 1)

    def forward(self, x):
        for conv, mask in zip(self.convs, self.masks):
            x = torch.tanh(F.conv2d(x, conv.weight * mask.to(conv.weight), conv.bias, padding=conv.padding))
        return self.out(x)


def run_quality_cell(model: nn.Module, value: float) -> None:
    """The cell needs nothing but the two variables it grades."""
    exec(quality_cell(load()).source, {"pixelcnn": model, "test_nll": value})


def test_the_quality_cell_passes_for_a_causal_model_inside_the_band():
    low, high = band(quality_cell(load()).source)
    for value in (low, (low + high) / 2, high):
        run_quality_cell(StandIn(), value)
    model = StandIn().double()
    run_quality_cell(model, low)   # a float64 model, too
    assert next(model.parameters()).dtype == torch.float64   # the cell probes a copy: the model is untouched


@pytest.mark.parametrize("where", ["below", "above", "nan"])
def test_the_quality_cell_fails_outside_the_band_quoting_the_value(where):
    low, high = band(quality_cell(load()).source)
    value = {"below": low - 0.5, "above": high + 0.5, "nan": float("nan")}[where]
    hint = {"below": "settings are not the defaults, or some pixel sees itself or later pixels", "above": "default settings", "nan": "default settings"}
    with pytest.raises(AssertionError, match=f"test NLL of {value:.2f} nats per image(?s:.*){hint[where]}"):
        run_quality_cell(StandIn(), value)


@pytest.mark.parametrize("first, rest, seen", [
    # type "B" in the first layer: the pixel sees itself, and only itself
    ("B", "B", r"1 input pixel at or after \(14, 14\) in raster order, \(row, column\) = \[\(14, 14\)\]"),
    ("none", "none", r"= \[\(14, 14\), \(14, 15\), \(14, 16\)"),      # no mask at all
    ("A", "none", r"= \[\(14, 14\), \(14, 15\), \(14, 16\)"),         # only the first layer masked
    ("transposed", "transposed", r"= \[\(14, 14\), \(15, "),         # in column order: it sees pixels below
])
def test_the_quality_cell_catches_a_model_that_is_not_causal(first, rest, seen):
    low, high = band(quality_cell(load()).source)
    with pytest.raises(AssertionError, match=f"is not causal(?s:.*){seen}"):
        run_quality_cell(StandIn(first, rest), (low + high) / 2)


def test_the_quality_cell_catches_a_model_that_sees_nothing_or_diverged():
    low, high = band(quality_cell(load()).source)
    blind = StandIn()
    blind.masks = [torch.zeros(5, 5), torch.zeros(3, 3)]
    with pytest.raises(AssertionError, match="does not depend on any input pixel"):
        run_quality_cell(blind, high + 100)
    diverged = StandIn()
    with torch.no_grad():
        diverged.out.weight.fill_(float("nan"))
    with pytest.raises(AssertionError, match="not finite(?s:.*)test NLL nan"):
        run_quality_cell(diverged, float("nan"))


# ------------------------------------------------- the notebook, run


def test_notebook_runs_and_plots_with_the_reference(tmp_path):
    notebook = run_notebook(copy_assignment(tmp_path, ("autoregressive.py", "flows.py")), SMALL)

    values = json.loads(notebook.cells[-1].outputs[-1]["text"])
    assert 0 < values["test_nll"] < UNTRAINED + 50
    assert math.isfinite(values["flow_test_nll"]) and values["flow_test_nll"] < 5
    assert values["cropped"] < 1e-4
    assert values["samples"] == [0.0, 1.0] and values["shape"] == [2, 1, 28, 28]
    figures = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs
               if "image/png" in o.get("data", {})]
    # training images, PixelCNN loss, dependence, pixel probabilities, samples, RealNVP loss, moons/density/samples
    assert len(figures) == 7
    text = "".join(o.get("text", "") for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs)
    assert "offline" in text and "test NLL" in text and "RealNVP test NLL" in text


def flows_without_affine_coupling(folder: Path) -> None:
    """The reference flows.py, but affine_coupling still the stub (flow_log_prob calls it)."""
    reference = (ROOT / "solutions" / NAME / "flows.py").read_text()
    (folder / "flows.py").write_text(reference + "\n\ndef affine_coupling(x, mask, s_net, t_net, reverse=False):\n"
                                     "    raise NotImplementedError\n")


@pytest.mark.parametrize("replaced, missing", [
    ((), "autoregressive.masked_conv2d"),
    (("autoregressive.py",), "flows.flow_log_prob"),
    (("autoregressive.py", "flows.py"), "flows.affine_coupling"),
])
def test_the_stubs_stop_the_notebook_with_a_message(tmp_path, replaced, missing):
    folder = copy_assignment(tmp_path, replaced)
    if missing == "flows.affine_coupling":
        flows_without_affine_coupling(folder)
    with pytest.raises(CellExecutionError, match=f"{re.escape(missing)}.* is not implemented yet"):
        run_notebook(folder, dict(SMALL, STEPS=2, N_SAMPLES=1))
