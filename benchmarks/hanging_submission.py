"""How long grading a submission whose every graded function loops forever takes, next to the
floor (starting Python and importing torch) and to grading the reference.

    python benchmarks/hanging_submission.py [--repeat 3] [--assignment hw1_vae]

Each function hangs differently (a Python loop, a loop that ignores SIGTERM, SIGALRM and SIGINT,
a long sleep). Goal: well under two minutes on the 2-core development machine, below Gradescope's
default limit of ten minutes, with a valid results.json.
"""
from __future__ import annotations

import argparse
import ast
import json
import sys
import tempfile
from pathlib import Path

from grading_time import interleaved, print_medians   # a sibling script in benchmarks/

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
HANGS = ["while True:\n        pass",
         "import signal\n    for s in (signal.SIGTERM, signal.SIGALRM, signal.SIGINT):\n"
         "        signal.signal(s, signal.SIG_IGN)\n    while True:\n        pass",
         "import time\n    time.sleep(10 ** 6)"]


def hanging_submission(assignment: str, folder: Path) -> Path:
    """The reference with the body of every graded function replaced by a hang."""
    from autograder import engine

    suite = engine.load_suite(ROOT / "solutions" / assignment)
    graded = {c.function for c in suite.checks}
    folder.mkdir(parents=True)
    number = 0
    for name in suite.files:
        source = (ROOT / "solutions" / assignment / name).read_text()
        lines = source.splitlines(keepends=True)
        nodes = [n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef) and n.name in graded]
        for node in sorted(nodes, key=lambda n: -n.lineno):
            signature = ast.unparse(node.args)
            lines[node.lineno - 1 - len(node.decorator_list):node.end_lineno] = [
                f"def {node.name}({signature}):\n    {HANGS[number % len(HANGS)]}\n"]
            number += 1
        (folder / name).write_text("".join(lines))
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--assignment", default="hw1_vae")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp())
    submission = hanging_submission(args.assignment, work / "hanging")
    results = work / "results.json"
    grade = [sys.executable, "-m", "autograder", "grade", args.assignment]
    commands = {
        "python -c 'import torch' (baseline)": [sys.executable, "-c", "import torch"],
        "grade the reference": grade + [f"solutions/{args.assignment}", "--results", str(work / "ref.json")],
        "grade: every function hangs": grade + [str(submission), "--results", str(results)],
    }
    print_medians(interleaved(commands, args.repeat), args.repeat)
    data = json.loads(results.read_text())
    print(f"hanging submission: {data['score']:g} points, {len(data['tests'])} checks in results.json")


if __name__ == "__main__":
    main()
