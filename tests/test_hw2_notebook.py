"""The practical notebook of hw2_contrastive runs end to end on the CPU with the reference losses
(a real Jupyter kernel, on a smaller dataset than the default), and the invariances it measures
for the three contrastive encoders agree with the answer key."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = ROOT / "assignments" / "hw2_contrastive"
# 80 contrastive steps per encoder: the least at which we measured the invariances reliably.
SMALL = {"N_TRAIN": 1024, "N_VAL": 256, "AE_EPOCHS": 1, "CONTRASTIVE_EPOCHS": 10, "DEVICE": "cpu"}


def run_notebook(folder: Path, settings: dict) -> nbformat.NotebookNode:
    notebook = nbformat.read(folder / "hw2_contrastive.ipynb", as_version=4)
    parameters = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    parameters.source += "\n" + "\n".join(f"{name} = {value!r}" for name, value in settings.items())
    notebook.cells.append(nbformat.v4.new_code_cell(
        "import json\nprint(json.dumps({'measured': measured, 'predicted': predicted}))"))
    NotebookClient(notebook, timeout=900, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()
    return notebook


def test_notebook_runs_and_measures_the_predicted_invariances(tmp_path):
    folder = tmp_path / "hw2_contrastive"
    shutil.copytree(ASSIGNMENT, folder)
    for name in ("losses.py", "answers.py"):
        shutil.copy(ROOT / "solutions" / "hw2_contrastive" / name, folder / name)

    notebook = run_notebook(folder, SMALL)

    tables = json.loads(notebook.cells[-1].outputs[-1]["text"])
    predicted = {name: {factor: verdict.lower() for factor, verdict in row.items()}
                 for name, row in tables["predicted"].items()}
    measured = {name: row for name, row in tables["measured"].items() if name in predicted}
    assert measured == predicted
    figures = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs
               if "image/png" in o.get("data", {})]
    # samples, 3 augmentation sets, reconstructions, 2 autoencoder NN plots, 3 contrastive NN plots, the table
    assert len(figures) == 11
