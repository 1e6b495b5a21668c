"""What a wrong submission costs next to a right one: hw1_vae with one common mistake per function,
each caught by a property or a statistical check (whose failures hypothesis would shrink), against
the reference and the floor (starting Python and importing torch).

    python benchmarks/wrong_submission.py [--repeat 5]

Runs interleaved, prints medians and their ratio to the floor. Goal: wrong <= 1.5x right.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "benchmarks")]

from conftest import make_submission  # noqa: E402
from grading_time import interleaved, print_medians  # noqa: E402
from test_hw1_mutants import SIGNATURES, VAE_MUTANTS, body  # noqa: E402

MISTAKES = {"reparameterize": "logvar used as std", "gaussian_kl": "KL sign, caught by the property",
            "negative_elbo": "beta ignored", "iwae_bound": "1/K missing"}


def wrong_submission(folder: Path) -> Path:
    codes = {f: body(f, SIGNATURES[f], code) for f, mistake, code, *_ in VAE_MUTANTS if MISTAKES.get(f) == mistake}
    return make_submission(folder, vae=codes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp())
    grade = [sys.executable, "-m", "autograder", "grade", "hw1_vae"]
    commands = {
        "python -c 'import torch' (baseline)": [sys.executable, "-c", "import torch"],
        "grade the reference": [*grade, "solutions/hw1_vae", "--results", str(work / "right.json")],
        "grade a wrong submission": [*grade, str(wrong_submission(work / "wrong")), "--results", str(work / "wrong.json")],
    }
    print_medians(interleaved(commands, args.repeat), args.repeat)


if __name__ == "__main__":
    main()
