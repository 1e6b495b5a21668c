"""The practical notebook of hw5_ebm_diffusion runs end to end on the CPU with the reference
diffusion.py and nce.py (a real Jupyter kernel, a much smaller budget than the default); its
autograded quality cell is well-formed, passes below the threshold and fails with a message that
quotes the value above it; the energy distance of practical.py is the textbook one; the stubs make
the notebook stop with a message for the student."""
from __future__ import annotations

import importlib.util
import json
import math
import re
import shutil
import sys
import types
from pathlib import Path

import nbformat
import pytest
import torch
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from conftest import assert_saved_clean, quality_cell

ROOT = Path(__file__).resolve().parents[1]
NAME = "hw5_ebm_diffusion"
ASSIGNMENT = ROOT / "assignments" / NAME
# A tiny budget: the notebook's code paths and plots, not its quality (the threshold holds at the
# defaults only: here the DDPM reaches about 0.03, as good as the Gaussian fit; untrained, about 150).
SMALL = {"STEPS": 300, "BATCH_SIZE": 256, "HIDDEN": 64, "N_MOONS": 2000, "N_SAMPLES": 500, "NCE_STEPS": 100,
         "NCE_HIDDEN": 32, "DEVICE": "cpu"}
GRADED = {"grade": True, "solution": False, "locked": True, "points": 2, "grade_id": "quality_ddpm",
          "schema_version": 3}


def load(folder: Path = ASSIGNMENT) -> nbformat.NotebookNode:
    return nbformat.read(folder / f"{NAME}.ipynb", as_version=4)


def threshold(source: str) -> float:
    return float(re.search(r"assert ddpm_energy_distance < ([\d.]+),", source).group(1))


def copy_assignment(tmp_path: Path, replaced: tuple[str, ...]) -> Path:
    folder = tmp_path / NAME
    shutil.copytree(ASSIGNMENT, folder, ignore=shutil.ignore_patterns("data", "__pycache__", ".hypothesis"))
    for name in replaced:
        shutil.copy(ROOT / "solutions" / NAME / name, folder / name)
    return folder


def run_notebook(folder: Path, settings: dict) -> nbformat.NotebookNode:
    """Execute the notebook at `settings`. The quality cell runs last with ddpm_energy_distance set
    below the threshold (which holds at the default budget only), so that it runs in the
    notebook's namespace; a final cell prints what the test checks, as JSON."""
    notebook = load(folder)
    cell = quality_cell(notebook)
    parameters = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    parameters.source += "\n" + "\n".join(f"{name} = {value!r}" for name, value in settings.items())
    notebook.cells.insert(notebook.cells.index(cell), nbformat.v4.new_code_cell(
        f"reached = ddpm_energy_distance\nddpm_energy_distance = {threshold(cell.source) / 2}"))
    notebook.cells.append(nbformat.v4.new_code_cell("""\
import json
print(json.dumps({"reached": reached, "gaussian": energy_distance(baseline_samples, moons_test),
                  "shape": list(ddpm_samples.shape), "states": sorted(states), "integral": integral,
                  "betas": [betas.dtype == torch.float64, len(betas)]}))"""))
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()
    return notebook


def test_notebook_is_saved_clean_and_its_quality_cell_is_gradable():
    notebook = load()
    cell = assert_saved_clean(notebook, GRADED)
    parameters = notebook.cells[1].source
    assert "N_SAMPLES = 2000" in parameters and "T = 1000" in parameters
    value = threshold(cell.source)
    assert 0 < value < 0.02   # a Gaussian fitted to the data scores about 0.03
    # the markdown above the cell documents the same threshold
    above = notebook.cells[notebook.cells.index(cell) - 1]
    assert above.cell_type == "markdown" and f"below **{value:g}**" in above.source


def test_the_quality_cell_passes_below_the_threshold():
    source = quality_cell(load()).source
    value = threshold(source)
    for reached in (-0.001, 0.0, value / 2, value - 1e-6):   # the unbiased estimate can be below 0
        exec(source, {"ddpm_energy_distance": reached})


@pytest.mark.parametrize("reached", [0.03, float("nan"), "threshold"])
def test_the_quality_cell_fails_above_the_threshold_quoting_the_value(reached):
    source = quality_cell(load()).source
    if reached == "threshold":
        reached = threshold(source)
    with pytest.raises(AssertionError, match=f"energy distance of {reached:.4f} (?s:.*)default settings"):
        exec(source, {"ddpm_energy_distance": reached})


# ------------------------------------------------- practical.py


def load_practical():
    """practical.py with stand-ins for the student's modules (it needs none of them here)."""
    spec = importlib.util.spec_from_file_location("hw5_practical", ASSIGNMENT / "practical.py")
    module = importlib.util.module_from_spec(spec)
    saved = {name: sys.modules.get(name) for name in ("diffusion", "nce")}
    sys.modules.update({name: type(sys)(name) for name in saved})
    try:
        spec.loader.exec_module(module)
    finally:
        for name, previous in saved.items():
            if previous is None:
                del sys.modules[name]
            else:
                sys.modules[name] = previous
    return module


def test_energy_distance_is_the_textbook_estimate():
    practical = load_practical()
    generator = torch.Generator().manual_seed(0)
    x, y = torch.randn(7, 2, generator=generator), torch.randn(5, 2, generator=generator) + 1

    def mean_distance(a, b, skip_same):
        pairs = [(i, j) for i in range(len(a)) for j in range(len(b)) if not (skip_same and i == j)]
        return sum((a[i] - b[j]).norm().item() for i, j in pairs) / len(pairs)

    expected = 2 * mean_distance(x, y, False) - mean_distance(x, x, True) - mean_distance(y, y, True)
    assert practical.energy_distance(x, y) == pytest.approx(expected, rel=1e-6)
    assert practical.energy_distance(x, y) == pytest.approx(practical.energy_distance(y, x))
    # two samples of the moons are close, the moons and their Gaussian fit are not
    moons = practical.two_moons(2000, seed=1)
    assert abs(practical.energy_distance(practical.two_moons(2000, seed=2), moons)) < 0.003
    assert practical.energy_distance(practical.gaussian_fit(practical.two_moons(8000), 2000), moons) > 0.02


def test_the_moons_are_standardised_and_the_noise_density_is_normalised():
    practical = load_practical()
    moons = practical.two_moons(20_000, seed=3)
    assert moons.mean(0).abs().max() < 0.03 and (moons.std(0) - 1).abs().max() < 0.03
    noise = practical.GaussianNoise(1.3)
    x = torch.randn(4, 2)
    expected = torch.distributions.MultivariateNormal(torch.zeros(2), 1.3**2 * torch.eye(2)).log_prob(x)
    assert torch.allclose(noise.log_prob(x), expected, atol=1e-5)


def test_the_schedule_is_checked_before_it_is_used():
    practical = load_practical()

    def stub(T, beta_start=1e-4, beta_end=0.02):
        raise NotImplementedError

    for schedule, message in [
        (stub, r"diffusion.linear_beta_schedule is not implemented yet: fill it in"),
        (lambda T: torch.linspace(1e-4, 0.02, T + 1, dtype=torch.float64), r"shape \(10,\).*shape \(11,\)"),
        (lambda T: torch.linspace(0.0, 0.02, T, dtype=torch.float64), r"values in \(0, 1\).*from 0 to 0.02"),
        (lambda T: [0.01] * T, "it returned a list"),
    ]:
        practical.diffusion = types.SimpleNamespace(linear_beta_schedule=schedule)
        with pytest.raises((ValueError, NotImplementedError), match=message):
            practical.linear_schedule(10)
    # a float32 schedule is accepted (its values are right), as float64
    practical.diffusion = types.SimpleNamespace(linear_beta_schedule=lambda T: torch.linspace(1e-4, 0.02, T))
    betas = practical.linear_schedule(10)
    assert betas.dtype == torch.float64 and betas.shape == (10,)


# ------------------------------------------------- the notebook, run


def test_notebook_runs_and_plots_with_the_reference(tmp_path):
    notebook = run_notebook(copy_assignment(tmp_path, ("diffusion.py", "nce.py")), SMALL)

    values = json.loads(notebook.cells[-1].outputs[-1]["text"])
    assert math.isfinite(values["reached"]) and values["reached"] < 0.1
    assert 0.01 < values["gaussian"] < 0.1
    assert values["shape"] == [SMALL["N_SAMPLES"], 2] and values["states"] == [0, 100, 250, 500, 750, 1000]
    assert values["betas"] == [True, 1000]
    assert 0.2 < values["integral"] < 5     # an NCE model after 100 steps is roughly normalised already
    figures = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs
               if "image/png" in o.get("data", {})]
    # forward process, DDPM loss, reverse process, samples, NCE loss, learned density
    assert len(figures) == 6
    text = "".join(o.get("text", "") for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs)
    assert "energy distance to 500 held-out moons" in text and "integral of exp(-E - c)" in text


def reference_with_a_stub(folder: Path, stub: str) -> None:
    """The reference diffusion.py, but the function `stub` still the stub."""
    reference = (ROOT / "solutions" / NAME / "diffusion.py").read_text()
    signature = re.search(rf"^def {stub}\(.*?\):$", reference, re.M).group(0)
    (folder / "diffusion.py").write_text(reference + f"\n\n{signature}\n    raise NotImplementedError\n")


@pytest.mark.parametrize("replaced, stub, missing", [
    ((), None, "diffusion.linear_beta_schedule"),
    (("nce.py",), "ddpm_simple_loss", "diffusion.ddpm_simple_loss (or q_sample or gather, which it may call)"),
    (("nce.py",), "p_sample", "diffusion.p_sample (or p_mean_from_eps or gather, which it may call)"),
    (("diffusion.py",), None, "nce.nce_loss"),
])
def test_the_stubs_stop_the_notebook_with_a_message(tmp_path, replaced, stub, missing):
    folder = copy_assignment(tmp_path, replaced)
    if stub:
        reference_with_a_stub(folder, stub)
    with pytest.raises(CellExecutionError, match=f"{re.escape(missing)} is not implemented yet"):
        run_notebook(folder, dict(SMALL, T=100, STEPS=2, N_MOONS=500, N_SAMPLES=200, NCE_STEPS=2))
