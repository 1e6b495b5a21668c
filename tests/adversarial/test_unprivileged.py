"""The same judge run as an ordinary user (nobody): the worker cannot switch users, and the
report says so, but bubblewrap (an unprivileged user namespace) still hides the references and
contains what the worker starts. The judge itself is started as nobody through bubblewrap, which
only makes the interpreter reachable (it may live in a folder only root can enter)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from autograder import sandbox
from conftest import ROOT, make_submission

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not sandbox.bubblewrap_works(True),
                                reason="needs root and bubblewrap to start a judge as nobody")


def grade_as_nobody(submission: Path) -> dict:
    public = Path(tempfile.mkdtemp(dir="/tmp", prefix="dgm-unprivileged-"))
    try:
        shutil.copytree(submission, public / "submission")
        (public / "results").mkdir()
        for path in (public, public / "results", *public.rglob("*")):
            path.chmod(0o777 if path.is_dir() else 0o644)
        needed = [Path(p).resolve() for p in (sys.executable, sys.prefix, sys.base_prefix, ROOT)]
        judge = ["bwrap", "--bind", "/", "/", "--dev-bind", "/dev", "/dev", *sandbox.reachable(needed),
                 "setpriv", f"--reuid={sandbox.NOBODY}", f"--regid={sandbox.NOBODY}", "--clear-groups", "--",
                 sys.executable, "-m", "autograder", "grade", "hw1_vae", str(public / "submission"),
                 "--results", str(public / "results" / "results.json")]
        run = subprocess.run(judge, cwd=ROOT, capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, run.stderr
        return json.loads((public / "results" / "results.json").read_text())
    finally:
        shutil.rmtree(public, ignore_errors=True)


def test_reference_full_marks_and_the_report_names_the_missing_protection(tmp_path):
    data = grade_as_nobody(make_submission(tmp_path / "s"))
    assert data["score"] == 38
    assert "Not in force: the worker runs as the grader's own user" in data["output"]
    assert "no bubblewrap" not in data["output"]


def test_world_readable_references_stay_hidden_and_signals_reach_nothing(tmp_path):
    body = ("import os, signal\ntry:\n    os.kill(-1, signal.SIGKILL)\nexcept OSError:\n    pass\n"
            f"open({str(ROOT / 'solutions' / 'hw1_vae' / 'vae.py')!r}).read()\n")
    folder = make_submission(tmp_path / "s", vae={"gaussian_kl": "def gaussian_kl(mu, logvar):\n" +
                                                  "".join(f"    {line}\n" for line in body.splitlines())})
    data = grade_as_nobody(folder)
    kl = [t for t in data["tests"] if t["name"].startswith("gaussian_kl:")]
    assert all(t["score"] == 0 for t in kl)
    assert any("FileNotFoundError" in t["output"] or "ended the Python process" in t["output"] for t in kl)
    untouched = [t for t in data["tests"] if not t["name"].startswith(("gaussian_kl:", "negative_elbo:"))]
    assert untouched and all(t["status"] == "passed" for t in untouched)   # negative_elbo calls gaussian_kl
