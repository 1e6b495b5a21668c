"""Broken submissions cost only the broken function's points, with a clear message."""
from __future__ import annotations

import re

import pytest

from autograder import engine
from conftest import make_submission

VAE_FUNCTIONS = {"reparameterize", "gaussian_kl", "negative_elbo", "iwae_bound"}


@pytest.fixture
def short_timeout_root(course_copy):
    yml = course_copy / "course.yml"
    yml.write_text(re.sub(r"timeout: \d+", "timeout: 4", yml.read_text()))
    return course_copy


def grade(root, folder, functions):
    report = engine.grade(root, "hw1_vae", folder, device="cpu", only=functions)
    return {r.name: r for r in report.results}


def by_function(results):
    outcome = {}
    for name, r in results.items():
        outcome.setdefault(name.split(":")[0], []).append(r.passed)
    return {f: all(v) for f, v in outcome.items()}


@pytest.mark.parametrize("fault,code,fragment", [
    ("infinite loop", "while True:\n        pass", "did not finish within 4 s"),
    ("sys.exit", "import sys\n    sys.exit(3)", "called sys.exit(3)"),
    ("os._exit", "import os\n    os._exit(7)", "exit code 7"),
    ("segfault", "import ctypes\n    ctypes.string_at(0)", "SIGSEGV"),
    ("exception", "raise ValueError('bad shapes')", "raised ValueError: bad shapes"),
    ("unprintable exception",
     "class E(Exception):\n        def __str__(self):\n            raise RuntimeError\n    raise E()",
     "could not be printed"),
    ("wrong return type", "return 'a string'", "is a string, expected a tensor"),
    ("prints to stdout", "print('x' * 100000)\n    return None", "is None, expected a tensor"),
])
def test_fault_in_one_function_costs_only_that_function(short_timeout_root, tmp_path, fault, code, fragment):
    source = f"def gaussian_kl(mu, logvar):\n    {code}\n"
    folder = make_submission(tmp_path / "s", vae={"gaussian_kl": source})
    results = grade(short_timeout_root, folder, {"gaussian_kl", "iwae_bound", "kl_univariate_gaussians"})
    outcome = by_function(results)
    assert outcome == {"gaussian_kl": False, "iwae_bound": True, "kl_univariate_gaussians": True}
    messages = [r.message for n, r in results.items() if n.startswith("gaussian_kl:") and not r.passed]
    assert any(fragment in m for m in messages), messages


def test_syntax_error_costs_only_its_file(tmp_path):
    folder = make_submission(tmp_path / "s")
    (folder / "vae.py").write_text((folder / "vae.py").read_text() + "\ndef broken(:\n")
    results = grade(engine_root(), folder, VAE_FUNCTIONS | {"kl_univariate_gaussians", "mc_amortization_gap"})
    outcome = by_function(results)
    assert not any(outcome[f] for f in VAE_FUNCTIONS)
    assert outcome["kl_univariate_gaussians"] and outcome["mc_amortization_gap"]
    message = results["iwae_bound: values and gradients"].message
    assert "importing vae.py failed with SyntaxError" in message and "vae.py, line" in message


def test_missing_function_and_missing_file(tmp_path):
    folder = make_submission(tmp_path / "s")
    source = (folder / "vae.py").read_text()
    (folder / "vae.py").write_text(source.replace("def iwae_bound(", "def iwae_bound_renamed("))
    (folder / "answers.py").unlink()
    results = grade(engine_root(), folder, {"iwae_bound", "gaussian_kl", "mc_amortization_gap"})
    assert by_function(results) == {"iwae_bound": False, "gaussian_kl": True, "mc_amortization_gap": False}
    assert "vae.py has no function iwae_bound()" in results["iwae_bound: values and gradients"].message
    assert "answers.py is missing from the submission" in results["mc_amortization_gap: answer key"].message


def test_hang_at_import_fails_the_file_once(short_timeout_root, tmp_path, monkeypatch):
    monkeypatch.setattr("autograder.runner.IMPORT_TIMEOUT", 3.0)
    folder = make_submission(tmp_path / "s")
    (folder / "answers.py").write_text("while True:\n    pass\n")
    results = grade(short_timeout_root, folder, {"mc_amortization_gap", "mc_marginal_likelihood", "iwae_bound"})
    assert by_function(results) == {"iwae_bound": True, "mc_amortization_gap": False, "mc_marginal_likelihood": False}
    assert "importing answers.py did not finish within 3 s" in results["mc_marginal_likelihood: answer key"].message


def engine_root():
    from conftest import ROOT

    return ROOT
