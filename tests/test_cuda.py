"""The GPU path, on a GPU: `python -m pytest -m cuda tests/test_cuda.py` (skipped without CUDA,
so CI, which has no GPU, stays green).

Each assignment is graded with device "cuda" as on Gradescope (run as root: the judge as root,
the worker as an unprivileged user, under bubblewrap when it is installed): the reference gets full marks, the
stub zero, and a submission of mutants (taken from the assignments' mutant tests where they
exist) loses the points of each mutated function, in the check that names the mistake: a tensor
hard-wired to the CPU, a tensor made on the CPU from values the function read (which only a run on
CUDA can catch: meta tensors have no values), wrong values, and an overflow in bfloat16."""
from __future__ import annotations

import os

import pytest
import torch

from autograder import cli, config, engine
from autograder.runner import Reference
from autograder.sandbox import Sandbox
from conftest import ASSIGNMENTS, ROOT, make_submission, read_results

pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (run with -m cuda on one)")]

CPU = "created on the CPU"


def grade(assignment: str, folder, only=None) -> dict:
    """{check name: CheckResult}, graded on CUDA."""
    report = engine.grade(ROOT, assignment, folder, device="cuda", only=only)
    return {r.name: r for r in report.results}


def definition(signatures: dict, function: str, code: str) -> str:
    code = code.strip("\n")
    return code if code.startswith("def ") else f"def {function}({signatures[function]}):\n    {code}\n"


def mutant(table, function: str, mistake: str) -> tuple[str, str, str]:
    """(code, failing check, message fragment) of a mutant of the assignments' own tests."""
    return next((code, check, fragment) for f, m, code, check, fragment in table if (f, m) == (function, mistake))


def assert_fails(results: dict, function: str, check: str, fragment: str) -> None:
    result = results[f"{function}: {check}"]
    assert not result.passed, f"{result.name} passed a wrong implementation"
    assert fragment in result.message, result.message


def test_the_judge_as_root_runs_the_worker_as_another_user():
    if os.geteuid() != 0:
        pytest.skip("as on Gradescope, the judge must run as root")
    sandbox = Sandbox()
    assert sandbox.switch_user, sandbox.missing()
    print("not in force:", sandbox.missing() or "nothing")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_reference_gets_full_marks_on_cuda(assignment, tmp_path):
    out = tmp_path / "results.json"
    assert cli.main(["--root", str(ROOT), "grade", assignment, str(ROOT / "solutions" / assignment),
                     "--device", "cuda", "--results", str(out)]) == 0
    results = read_results(out)
    failed = {t["name"]: t.get("output") for t in results["tests"] if t["status"] != "passed"}
    assert not failed and results["score"] == config.load(ROOT / "course.yml").assignment(assignment).max_points, failed
    if assignment == "hw2_contrastive":
        assert "contrastive_loss: finite in bfloat16 at large logits" in {t["name"] for t in results["tests"]}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_stub_gets_zero_on_cuda(assignment):
    results = grade(assignment, ROOT / "assignments" / assignment)
    assert results and sum(r.score for r in results.values()) == 0
    assert all(r.message for r in results.values())


def test_the_bfloat16_cases_are_prepared_on_cuda():
    suite = engine.load_suite(ROOT / "solutions" / "hw2_contrastive")
    check = next(c for c in suite.checks if c.name == "contrastive_loss: finite in bfloat16 at large logits")
    reference = Reference(ROOT / "solutions" / "hw2_contrastive", suite.files)
    prepared = check.prepare(reference, "cuda")
    assert {(case["args"][0]["device"], case["args"][0]["dtype"]) for case in prepared} == {("cuda:0", "bfloat16")}
    assert all(case["value"]["device"] == "cuda:0" for case in prepared)


def test_hw1_mutants_on_cuda(tmp_path):
    import test_hw1_mutants as hw1
    from test_fake_device import KL_READS_VALUES

    functions = {
        "reparameterize": mutant(hw1.VAE_MUTANTS, "reparameterize", "noise hard-wired to the CPU")[0],
        "negative_elbo": mutant(hw1.VAE_MUTANTS, "negative_elbo", "mean over pixels instead of sum")[0],
        "iwae_bound": "def iwae_bound(log_weights):\n"   # reads values, then makes a tensor on the CPU
                      "    k = torch.tensor([float(len(log_weights))] * log_weights.shape[-1])\n"
                      "    m = log_weights.max(0).values.tolist()\n"
                      "    return torch.logsumexp(log_weights, 0) - torch.log(k)\n",
        "gaussian_kl": KL_READS_VALUES}   # correct, and reads values: meta cannot probe it, CUDA can
    folder = make_submission(tmp_path / "s", vae={f: definition(hw1.SIGNATURES, f, c) for f, c in functions.items()})
    results = grade("hw1_vae", folder, set(functions))
    assert_fails(results, "reparameterize", "device probe", CPU)
    assert_fails(results, "negative_elbo", "values and gradients", "expected")
    assert_fails(results, "iwae_bound", "device probe", CPU)
    assert_fails(results, "iwae_bound", "values and gradients", "same device")   # on CUDA, it does not run
    kl = {n: r for n, r in results.items() if n.startswith("gaussian_kl:")}
    assert all(r.passed for r in kl.values()), {n: r.message for n, r in kl.items()}
    assert "checked on CUDA" in kl["gaussian_kl: device probe"].message


def test_hw2_mutants_on_cuda(tmp_path):
    import test_hw2_contrastive as hw2

    chosen = {("mse_loss", "zeros on the CPU"), ("contrastive_logits", "temperature missing"),
              ("contrastive_loss", "exponentials without the max trick, in bfloat16")}
    mutants = {f: mutant(hw2.MUTANTS, f, m) for f, m in chosen}
    folder = make_submission(tmp_path / "s", "hw2_contrastive",
                             losses={f: definition(hw2.SIGNATURES, f, code) for f, (code, _, _) in mutants.items()})
    results = grade("hw2_contrastive", folder, set(mutants))
    for function, (_, check, fragment) in mutants.items():
        assert_fails(results, function, check, fragment)
    assert "not stable in bfloat16" in results["contrastive_loss: finite in bfloat16 at large logits"].message


def test_hw3_mutants_on_cuda(tmp_path):
    import test_hw3_gans as hw3

    sign = mutant(hw3.MUTANTS, "generator_loss", "sign")
    functions = {"generator_loss": sign[0],
                 "discriminator_loss": "ones = torch.ones(real_logits.shape)\n"   # hard-wired to the CPU
                                       "    return (F.softplus(-real_logits) * ones).mean() + F.softplus(fake_logits).mean()"}
    folder = make_submission(tmp_path / "s", "hw3_gans",
                             gans={f: definition(hw3.SIGNATURES, f, c) for f, c in functions.items()})
    results = grade("hw3_gans", folder, set(functions))
    assert_fails(results, "generator_loss", sign[1], sign[2])
    assert_fails(results, "discriminator_loss", "device probe", CPU)
    assert_fails(results, "discriminator_loss", "values and gradients", "same device")


def test_hw4_mutants_on_cuda(tmp_path):
    """Networks and layers are rebuilt on CUDA in the worker; tensors left on the CPU fail."""
    import test_hw4_flows_autoregressive as hw4

    accumulator = mutant(hw4.MUTANTS, "flow_log_prob", "an accumulator on the CPU")
    conv = mutant(hw4.MUTANTS, "masked_conv2d", "the mask left on the CPU")
    folder = make_submission(tmp_path / "s", "hw4_flows_autoregressive",
                             flows={"flow_log_prob": definition(hw4.SIGNATURES, "flow_log_prob", accumulator[0])},
                             autoregressive={"masked_conv2d": definition(hw4.SIGNATURES, "masked_conv2d", conv[0])})
    results = grade("hw4_flows_autoregressive", folder, {"flow_log_prob", "masked_conv2d", "affine_coupling"})
    assert_fails(results, "flow_log_prob", "device probe", CPU)
    assert_fails(results, "flow_log_prob", "values and gradients", "same device")
    assert_fails(results, "masked_conv2d", "device probe", CPU)
    coupling = {n: r for n, r in results.items() if n.startswith("affine_coupling:")}
    assert all(r.passed for r in coupling.values()), {n: r.message for n, r in coupling.items()}


def test_hw5_schedule_on_the_cpu_with_data_on_cuda(tmp_path):
    """The contract lets betas stay on the CPU while x and t are on CUDA: the references gather
    there and pass; indexing the CPU schedule with CUDA timesteps fails the probe with the note."""
    import test_hw5_ebm_diffusion as hw5

    code, check, fragment = mutant(hw5.MUTANTS, "q_sample", "the schedule indexed on the CPU")
    folder = make_submission(tmp_path / "s", "hw5_ebm_diffusion",
                             diffusion={"q_sample": definition(hw5.SIGNATURES, "q_sample", code)})
    results = grade("hw5_ebm_diffusion", folder, {"q_sample", "p_sample", "vlb_term"})
    assert_fails(results, "q_sample", check, fragment)
    assert results["q_sample: values and gradients"].passed
    others = {n: r for n, r in results.items() if not n.startswith("q_sample:")}
    assert all(r.passed for r in others.values()), {n: r.message for n, r in others.items() if not r.passed}
