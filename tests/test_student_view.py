"""What students read from the package is true and gives nothing away: the local check's score is
grading's own (points that hidden checks decide are held back, and say so), a misspelt function
name lists the functions there are, every assignment's released folder and nbgrader release hold
no solution code, rubric, answer key, hidden check data or unreviewed hint (a scan), numbers as
students write them are read, a failing function names the graded helper whose failure it
inherits, and a shape that only broadcasts is called so."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import cli, engine, leaks, nbgrader, release, results
from conftest import ASSIGNMENTS, ROOT, grade_functions, make_submission

HW1, HW4, HW5 = "hw1_vae", "hw4_flows_autoregressive", "hw5_ebm_diffusion"
BIN = str(Path(sys.executable).parent)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_released_folder_and_the_nbgrader_release_hold_nothing_hidden(assignment, tmp_path):
    """Every file students get, through `course release` or nbgrader's generate_assignment, scanned
    for the hidden side: solution code, rubric sentences, hidden checks' data and answer keys, hints
    not reviewed as public-safe."""
    secrets = leaks.secrets(ROOT, assignment)
    kinds = {s.what.split(" of ")[0] for s in secrets}
    assert {"solution code", "hidden data"} <= kinds, kinds
    assert any(s.what.startswith("rubric text") for s in secrets), f"solutions/{assignment}/rubric.md is missing"
    assert cli.main(["--root", str(ROOT), "release", assignment, str(tmp_path / "released")]) == 0
    assert cli.main(["--root", str(ROOT), "nbgrader", assignment, str(tmp_path / "course")]) == 0
    subprocess.run(["nbgrader", "generate_assignment", assignment], cwd=tmp_path / "course", check=True,
                   capture_output=True, env={**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"})
    released = tmp_path / "course" / "release" / assignment
    assert (released / nbgrader.notebook_name(assignment)).is_file()
    for folder in (tmp_path / "released", released):
        assert leaks.scan(leaks.text_files(folder), secrets) == []


def test_release_and_nbgrader_refuse_rubric_text_a_key_and_an_unreviewed_hint(course_copy, tmp_path, capsys):
    readme = course_copy / "assignments" / HW5 / "README.md"
    original = readme.read_text()
    sentences = leaks.rubric(course_copy / "solutions" / HW5)
    rubric = sentences[len(sentences) // 2].text
    for planted, what in [(rubric, "rubric text of rubric.md"),
                          ("Var[x_2 | x_0] = 1 - (1 - beta_1)*(1 - beta_2)", "the answer key of 'marginal_variance"),
                          ("Hint: " + unreviewed_hint(HW5), "not reviewed as public-safe")]:
        readme.write_text(original + "\n" + planted + "\n")
        with pytest.raises(release.ReleaseError, match="nothing written") as refused:
            release.release(course_copy, HW5, tmp_path / "out")
        line = next(line for line in str(refused.value).splitlines() if line.strip().startswith("README.md: "))
        assert what in line, line
        assert not (tmp_path / "out").exists()
        assert cli.main(["--root", str(course_copy), "nbgrader", HW5, str(tmp_path / "nb")]) == 2
        assert what in capsys.readouterr().err
        assert not (tmp_path / "nb" / "source" / HW5 / "README.md").exists()


def unreviewed_hint(assignment: str) -> str:
    judge = engine.judge_for(ROOT, assignment, "cpu")
    return next(hint for entries in judge.reference.mistakes.values() for hint, _, safe in entries if not safe)


def test_a_key_judged_answer_s_points_are_held_back_locally_as_grading_withholds_them(tmp_path):
    """hw5's marginal_variance is judged by a hidden key; its public check of form passes a wrong
    formula. Locally it shows as passed with its points held back; grading gives it nothing."""
    folder = make_submission(tmp_path / "s", HW5, answers={"marginal_variance": (
        "def marginal_variance(beta_1, beta_2):\n    return beta_1 + beta_2\n")})
    local = engine.check_public(ROOT / "assignments" / HW5 / engine.PUBLIC_CHECKS_FILE, folder,
                                ROOT / "assignments" / HW5 / "properties.py", only={"marginal_variance"})
    (form,) = local.results
    assert form.held and form.score == 0 and local.score == 0 and results.all_passed(local)
    text = results.text(local)
    assert f"PASS  marginal_variance: a sympy expression of the arguments  0/0.5  ({results.HELD})" in text
    assert "Score: 0 / 0.5 points (0.5 held back" in text
    graded = grade_functions(folder, {"marginal_variance"}, HW5)
    assert graded["marginal_variance: a sympy expression of the arguments"].score == 0
    assert sum(r.score for r in graded.values()) == 0


def test_a_misspelt_function_names_the_graded_ones_and_exits_2(tmp_path, capsys):
    assert cli.main(["--root", str(ROOT), "check", HW4, str(ROOT / "solutions" / HW4), "planarr"]) == 2
    error = capsys.readouterr().err
    assert "'planarr' is not a graded function of hw4_flows_autoregressive; did you mean planar_flow?" in error
    assert "closest first: planar_flow, " in error
    folder = tmp_path / "released"
    assert cli.main(["--root", str(ROOT), "release", HW4, str(folder)]) == 0
    run = subprocess.run([sys.executable, "check.py", "planarr"], cwd=folder, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 2 and "did you mean planar_flow?" in run.stderr, run.stderr


@pytest.mark.parametrize("body", [
    "return [np.float64(-c / b - 1.0), np.float64(-c / b - 2.0)] if b > 0 else "
    "([np.int64(0), np.int64(1)] if b == 0 else [np.float64(-c / b + 1.0), np.float64(-c / b + 2.0)])",
    "return [np.array(x) for x in ([0.0, 1.0] if b == 0 else [-c / b - 1.0, -c / b - 2.0] if b > 0 "
    "else [-c / b + 1.0, -c / b + 2.0])]",
    "f = fractions.Fraction.from_float\n    return [f(0.0), f(1.0)] if b == 0 else ([f(-c / b - 1.0), f(-c / b - 2.0)] "
    "if b > 0 else [f(-c / b + 1.0), f(-c / b + 2.0)])",
    "edge = decimal.Decimal(-c / b) if b else decimal.Decimal(0)\n    step = decimal.Decimal(-1 if b > 0 else 1)\n"
    "    return [edge + step, edge + 2 * step]",
], ids=["np.float64 and np.int64", "0-d arrays", "Fraction", "Decimal"])
def test_numbers_as_students_write_them(body, tmp_path):
    """relu_collision asks for two real numbers: numpy scalars, 0-d arrays, Fractions and Decimals are."""
    source = f"import decimal\nimport fractions\nimport numpy as np\n\n\ndef relu_collision(a, b, c):\n    {body}\n"
    folder = make_submission(tmp_path / "s", HW4, answers={"relu_collision": source})
    graded = grade_functions(folder, {"relu_collision"}, HW4)
    assert graded and all(r.passed for r in graded.values()), {n: r.message for n, r in graded.items()}


@pytest.mark.parametrize("body,advice", [
    ("return [complex(0.0, 1.0), 2.0]", "a complex number is no real number: return a float where a real number is asked"),
    ("import numpy as np\n    return np.array([0.0, 1.0])", "or a list of numbers (x.tolist()) where numbers are"),
    ("import torch\n    return torch.tensor([0.0, 1.0])", "got a float32 tensor of shape (2,)"),
], ids=["complex", "ndarray", "a tensor where numbers are asked"])
def test_a_value_the_grader_cannot_read_says_what_to_return(tmp_path, body, advice):
    folder = make_submission(tmp_path / "s", HW4, answers={"relu_collision": f"def relu_collision(a, b, c):\n    {body}\n"})
    (message,) = {r.message for r in grade_functions(folder, {"relu_collision"}, HW4).values() if not r.passed}
    assert advice in message and "object at 0x" not in message, message


@pytest.fixture(scope="module")
def wrong_helpers(tmp_path_factory):
    """hw1 with a wrong gaussian_kl (averaged), hw5 with a wrong q_sample (noise and x0 exchanged) and,
    separately, a q_sample that never returns: the functions that call them are graded as written."""
    base = tmp_path_factory.mktemp("helpers")
    kl = make_submission(base / "kl", HW1, vae={"gaussian_kl": (
        "def gaussian_kl(mu, logvar):\n    return 0.5 * (mu**2 + logvar.exp() - 1 - logvar).mean(-1)\n")})
    sample = make_submission(base / "sample", HW5, diffusion={"q_sample": (
        "def q_sample(x0, t, noise, betas):\n    alpha_bar = torch.cumprod(1 - betas, 0)\n"
        "    return gather(alpha_bar.sqrt(), t, x0) * noise + gather((1 - alpha_bar).sqrt(), t, x0) * x0\n")})
    hang = make_submission(base / "hang", HW5, diffusion={"q_sample": (
        "def q_sample(x0, t, noise, betas):\n    while True:\n        pass\n")})
    return (grade_functions(kl, {"gaussian_kl", "negative_elbo"}, HW1),
            grade_functions(sample, {"q_sample", "ddpm_simple_loss"}, HW5),
            grade_functions(hang, {"q_sample", "ddpm_simple_loss"}, HW5))


def test_a_failing_function_names_the_failing_helper_it_calls(wrong_helpers):
    kl, sample, hang = wrong_helpers
    assert not kl["gaussian_kl: values and gradients"].passed
    elbo = kl["negative_elbo: values and gradients"]
    assert not elbo.passed and "uses your gaussian_kl, which fails its own checks: fix it first" in elbo.message
    assert elbo.failing_helpers == ["gaussian_kl"]
    assert all("uses your" not in r.message for r in kl.values() if r.name.startswith("gaussian_kl"))
    loss = sample["ddpm_simple_loss: values and gradients"]
    assert not loss.passed and "uses your q_sample, which fails its own checks: fix it first" in loss.message
    loss = hang["ddpm_simple_loss: values and gradients"]
    assert not loss.passed and "uses your q_sample, which did not finish in time: fix it first" in loss.message


def test_checking_one_function_checks_the_graded_helpers_it_calls(tmp_path):
    """`check.py ddpm_simple_loss` alone: q_sample, which it calls, is checked with it, so that its
    failure is named where the student looks."""
    folder = make_submission(tmp_path / "s", HW5, diffusion={"q_sample": (
        "def q_sample(x0, t, noise, betas):\n    alpha_bar = torch.cumprod(1 - betas, 0)\n"
        "    return gather(alpha_bar.sqrt(), t, x0) * noise + gather((1 - alpha_bar).sqrt(), t, x0) * x0\n")})
    course = ROOT / "assignments" / HW5
    local = engine.check_public(course / engine.PUBLIC_CHECKS_FILE, folder, course / "properties.py",
                                only={"ddpm_simple_loss"})
    assert {r.function for r in local.results} == {"ddpm_simple_loss", "q_sample"}
    loss = next(r for r in local.results if r.name == "ddpm_simple_loss: values and gradients")
    assert "uses your q_sample, which fails its own checks: fix it first" in loss.message


def test_a_helper_that_is_not_called_is_not_named(tmp_path):
    """negative_elbo written without gaussian_kl passes, whatever gaussian_kl does; the stub calls
    nothing."""
    folder = make_submission(tmp_path / "s", HW1, vae={
        "gaussian_kl": "def gaussian_kl(mu, logvar):\n    return mu.sum(-1)\n",
        "negative_elbo": (
            "def negative_elbo(x, x_logits, mu, logvar, beta=1.0):\n"
            "    rec = F.binary_cross_entropy_with_logits(x_logits, x, reduction='none').flatten(1).sum(1)\n"
            "    kl = 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(-1)\n    return (rec + beta * kl).mean()\n")})
    graded = grade_functions(folder, {"gaussian_kl", "negative_elbo"}, HW1)
    assert all(r.passed for n, r in graded.items() if n.startswith("negative_elbo")), graded
    stub = grade_functions(ROOT / "assignments" / HW1, {"gaussian_kl", "negative_elbo"}, HW1)
    assert all("uses your" not in r.message for r in stub.values())


def test_a_shape_that_broadcasts_is_named(tmp_path):
    """The posterior variance kept per row ([B, 1], as Ho et al.'s code keeps it) where the contract
    asks for x's shape."""
    folder = make_submission(tmp_path / "s", HW5, diffusion={"q_posterior_mean_variance": (
        "def q_posterior_mean_variance(x0, xt, t, betas):\n"
        "    alphas = 1 - betas\n    alpha_bar = torch.cumprod(alphas, 0)\n"
        "    prev = torch.cat([alpha_bar.new_ones(1), alpha_bar[:-1]])\n"
        "    variance = betas * (1 - prev) / (1 - alpha_bar)\n"
        "    log_variance = torch.log(torch.cat([variance[1:2], variance[1:]]))\n"
        "    mean = gather(betas * prev.sqrt() / (1 - alpha_bar), t, xt) * x0 + "
        "gather((1 - prev) * alphas.sqrt() / (1 - alpha_bar), t, xt) * xt\n"
        "    shape = (-1,) + (1,) * (xt.dim() - 1)\n"
        "    return mean, variance[t].to(xt.dtype).reshape(shape), gather(log_variance, t, xt)\n")})
    graded = grade_functions(folder, {"q_posterior_mean_variance"}, HW5)
    message = graded["q_posterior_mean_variance: values and gradients"].message
    assert "which broadcasts to the expected shape; the result must have x0's shape" in message, message
    assert "expand it (.expand_as(x0))" in message and "reduce over the wrong dimension" not in message
