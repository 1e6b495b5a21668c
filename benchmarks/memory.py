"""Peak memory of one grading: the summed PSS of every process it runs (judge, bubblewrap, worker).

    python benchmarks/memory.py [--assignment hw1_vae ...] [--repeat 3]

PSS (proportional set size) shares each page among the processes that map it, so the sum counts a
page once, as the container's cgroup does; Gradescope's default container has 768 MB. The process
tree is sampled from /proc every 20 ms. Printed per command: the median over runs of the peak sum,
split into anonymous memory (heap, copied pages: what the kernel cannot take back) and file pages
(shared libraries as mapped from disk: clean, so the kernel can drop them under pressure and read
them again). `python -c "import torch"` is the baseline.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIELDS = ("Pss:", "Pss_Anon:", "Pss_File:")


def tree(root: int) -> list[int]:
    """`root` and its descendants."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack += children.get(pid, [])
    return found


def pss(pid: int) -> dict[str, int]:
    """KiB by field of smaps_rollup; empty for a process gone (or not readable)."""
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:
        return {}
    return {parts[0]: int(parts[1]) for parts in (line.split() for line in lines) if parts and parts[0] in FIELDS}


def peak(command: list[str]) -> dict[str, float]:
    """MiB at the moment the summed PSS of the command's process tree was highest."""
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    best = {field: 0 for field in FIELDS}
    while process.poll() is None:
        rows = [pss(pid) for pid in tree(process.pid)]
        total = {field: sum(r.get(field, 0) for r in rows) for field in FIELDS}
        if total["Pss:"] > best["Pss:"]:
            best = total
        time.sleep(0.02)
    return {field: kib / 1024 for field, kib in best.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", nargs="+", default=["hw1_vae", "hw2_contrastive", "hw3_gans"])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    results = Path(tempfile.mkdtemp()) / "results.json"
    commands = {"python -c 'import torch' (baseline)": [sys.executable, "-c", "import torch; import time; time.sleep(0.5)"]}
    for assignment in args.assignment:
        commands[f"grade the reference of {assignment}"] = [
            sys.executable, "-m", "autograder", "grade", assignment, f"solutions/{assignment}", "--results", str(results)]
        commands[f"local check of the {assignment} stub"] = [
            sys.executable, "-m", "autograder", "check", assignment, f"assignments/{assignment}"]
    peaks = {name: [] for name in commands}
    for _ in range(args.repeat):
        for name, command in commands.items():
            peaks[name].append(peak(command))
    print(f"peak summed PSS, MiB, median of {args.repeat}")
    print(f"{'what':<46} {'PSS':>6} {'anon':>6} {'file':>6}")
    for name, values in peaks.items():
        row = [statistics.median(v[field] for v in values) for field in FIELDS]
        print(f"{name:<46} {row[0]:6.0f} {row[1]:6.0f} {row[2]:6.0f}")


if __name__ == "__main__":
    main()
