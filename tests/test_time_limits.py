"""A hanging function costs its own points, not the whole run: one timeout per function (its other
checks fail at once with the same message), per-call limits that follow the reference's speed, and a
budget for the whole run after which the remaining checks fail and a valid results.json is written.
How long such a grading takes is measured in benchmarks/hanging_submission.py, not here."""
from __future__ import annotations

import re

from autograder import engine, results, runner
from conftest import ROOT, make_submission, read_results

# Three ways to hang; the second also ignores the signals a grader might send before SIGKILL.
HANGS = [
    "while True:\n        pass",
    "import signal\n    for s in (signal.SIGTERM, signal.SIGALRM, signal.SIGINT):\n        signal.signal(s, signal.SIG_IGN)\n"
    "    while True:\n        pass",
    "import time\n    time.sleep(10 ** 6)",
]
SIGNATURES = {"reparameterize": "mu, logvar", "gaussian_kl": "mu, logvar",
              "negative_elbo": "x, x_logits, mu, logvar, beta=1.0", "iwae_bound": "log_weights"}


def hanging(function: str, number: int) -> str:
    return f"def {function}({SIGNATURES[function]}):\n    {HANGS[number % len(HANGS)]}\n"


def test_per_call_limit_follows_the_reference_within_floor_and_cap():
    assert runner.time_limit(0.0, 60) == runner.FLOOR_SECONDS
    assert runner.time_limit(0.5, 60) == 0.5 * runner.SLOWDOWN
    assert runner.time_limit(10.0, 60) == 60
    assert runner.time_limit(0.0, 2) == 2


def test_hanging_functions_time_out_once_each_and_cost_only_their_checks(tmp_path):
    functions = sorted(SIGNATURES)
    folder = make_submission(tmp_path / "s", vae={f: hanging(f, i) for i, f in enumerate(functions)})
    report = engine.grade(ROOT, "hw1_vae", folder, device="cpu")
    for result in report.results:
        function = result.name.split(":")[0]
        if function in SIGNATURES:
            assert result.score == 0 and f"{function}() did not finish within" in result.message, result
        else:
            assert result.passed, result   # the answers, graded after the hangs, are untouched
    for function in functions:   # only the first check of each hanging function waited for it
        messages = [r.message for r in report.results if r.name.startswith(f"{function}:")]
        limit = float(re.search(r"within ([\d.]+) s", messages[0])[1])
        assert limit == runner.FLOOR_SECONDS, messages[0]   # the reference is fast: the floor applies
        assert "its other checks were not run" in messages[0]
    # four timeouts at the floor, four worker restarts and the rest of the grading, far below the
    # 60 s per call of course.yml times the 21 checks involved
    assert report.execution_time < 60 * 21 / 4


def test_a_spent_time_budget_fails_the_remaining_checks_and_still_writes_results(course_copy, tmp_path):
    """Four functions hang for the 5 s floor each: a budget of 16 s is spent by them (and the
    worker's start, which the budget counts), yet the first one, met while up to 11 s of budget
    are left even on a slow machine, still times out on its own."""
    yml = course_copy / "course.yml"
    yml.write_text(yml.read_text().replace("timeout: 60\n", "timeout: 60\n    time_budget: 16\n", 1))
    folder = make_submission(tmp_path / "s", vae={f: hanging(f, i) for i, f in enumerate(sorted(SIGNATURES))})
    report = engine.grade(course_copy, "hw1_vae", folder, device="cpu")
    assert len(report.results) == len(engine.load_suite(course_copy / "solutions" / "hw1_vae").checks)
    spent = [r for r in report.results if "grading used up its time budget" in r.message]
    assert spent and all(r.score == 0 for r in spent)
    assert report.results[-1] in spent   # the hidden answers, graded last
    assert "reparameterize() did not finish within" in report.results[0].message, report.results[0]
    path = tmp_path / "results.json"
    results.write_json(results.gradescope(report), path)
    data = read_results(path)
    assert len(data["tests"]) == len(report.results) and data["score"] == report.score


def test_a_hang_met_in_a_hidden_check_does_not_show_in_public_ones(tmp_path):
    """iwae_bound hangs only on the hidden check's K = 9: the public checks, listed after that hidden
    one, still run (public checks run first) and pass."""
    source = ("def iwae_bound(log_weights):\n    while log_weights.shape[0] == 9:\n        pass\n"
              "    return torch.logsumexp(log_weights, 0) - math.log(log_weights.shape[0])\n")
    folder = make_submission(tmp_path / "s", vae={"iwae_bound": source})
    report = engine.grade(ROOT, "hw1_vae", folder, device="cpu", only={"iwae_bound"})
    names = [r.name for r in report.results]
    assert names.index("iwae_bound: more inputs") < names.index("iwae_bound: K = 1 gives the log-weight")
    for r in report.results:
        assert r.passed == (r.visibility == "public"), r   # the hidden ones meet the hang


def test_a_function_that_ends_the_worker_twice_is_not_called_again(tmp_path):
    folder = make_submission(tmp_path / "s", vae={"iwae_bound": "def iwae_bound(log_weights):\n    import os\n    os._exit(7)\n"})
    report = engine.grade(ROOT, "hw1_vae", folder, device="cpu", only={"iwae_bound"})
    assert all(r.score == 0 for r in report.results)
    assert any(f"did so {runner.DEATHS_PER_FUNCTION} times, its other checks were not run" in r.message
               for r in report.results)


def test_a_failing_property_shrinks_within_a_bounded_number_of_examples():
    """hypothesis would shrink a counterexample through hundreds of calls of the student's
    function; past SHRINK_EXAMPLES examples the smallest failure found is the verdict. The same
    verdict every time (derandomized), and still a failure that names the property."""
    from autograder import wire
    from autograder.checks import properties
    from autograder.checks.properties import SHRINK_EXAMPLES, Property

    class NegatedKL:
        calls = 0

        def call(self, module, function, args, kwargs=None, **options):
            NegatedKL.calls += 1
            mu, logvar = args
            value = -0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(-1)
            return runner.Result(wire.TensorInfo(value, str(value.dtype)[6:], tuple(value.shape), "cpu"), None)

    check = Property("gaussian_kl: a property", "vae", "gaussian_kl", property="kl_nonnegative_zero_at_prior")
    properties.bind([check], properties.load_library(ROOT / "assignments" / "hw1_vae" / "properties.py"), {}, "hw1")
    verdicts = []
    for _ in range(2):
        NegatedKL.calls = 0
        verdicts.append(check.run(NegatedKL(), None, "cpu"))
    assert not verdicts[0].passed and "never negative" in verdicts[0].message
    assert verdicts[0].message == verdicts[1].message
    assert NegatedKL.calls <= 3 * (25 + SHRINK_EXAMPLES + 1), NegatedKL.calls
