"""The catalogue of likely causes (autograder/checks/diagnoses.py) on results built from known
transformations of an expected one, and never a cause where none fits. The assignments' mutant
tables (test_hw*_mutants.py, test_hw2_contrastive.py, test_hw3_gans.py) state the cause each
mutant must get through every channel's grading; this file adds the cases they do not reach."""
from __future__ import annotations

import importlib
import math

import pytest
import torch

from autograder.checks.diagnoses import PREFIX, explain, explain_numbers
from conftest import ASSIGNMENTS, ROOT

# another CPU's kernels compute other last bits: CI runs these again under another kernel set
pytestmark = pytest.mark.float_sensitive


def seeded(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


MU, LOGVAR = seeded(7, 3), seeded(7, 3, seed=1)
INPUTS = {"mu": MU, "logvar": LOGVAR}
KL = 0.5 * (MU.pow(2) + LOGVAR.exp() - 1 - LOGVAR).sum(-1)
TERMS = 0.5 * (MU.pow(2) + LOGVAR.exp() - 1 - LOGVAR)


@pytest.mark.parametrize("actual,fragment", [
    (TERMS.mean(-1), "1/3 of the expected ones, and 3 is the size of the last dimension of mu: did you average"),
    (-KL, "opposite sign"),
    (-TERMS.mean(-1), "with the opposite sign, 1/3 of the expected ones"),
    (2 * KL, "twice the expected ones: a missing or extra factor ½?"),
    (KL * 0.75, "3/4 times the expected ones"),
    (KL * 0.7311, "0.7311 times the expected ones everywhere"),
    (KL + 0.5 * math.log(2 * math.pi), "½·log 2π above"),
    (KL - 3 / 2 * math.log(2 * math.pi), "3/2·log 2π below the expected ones, and 3 is the size of the last dimension"),
    (KL + math.log(7), "log 7 = 1.946 above the expected ones, and 7 is the size of dimension 0 of mu"),
    (KL + 1.25, "1.25 above the expected ones everywhere"),
    (TERMS, "your result summed over dimension 1 (of size 3) is the expected one: is that sum missing?"),
    (TERMS * 2, None),   # neither summed nor averaged is it the expected result
    (KL.sum(), "the expected one summed over dimension 0 (of size 7)"),
    (KL.unsqueeze(-1), "shaped (7, 1) instead of (7,)"),
    (torch.zeros(7, dtype=torch.float64), "0 everywhere"),
    (KL + seeded(7, seed=5), None),
    (KL.sqrt(), "the square roots of the expected ones: a square root too many"),
    (KL ** 2, "the squares of the expected ones: a square root missing"),
    (KL.flip(0), None),
])
def test_the_catalogue(actual, fragment):
    cause = explain(actual, KL, "float32", INPUTS)
    if fragment is None:
        assert cause == ""
    else:
        assert cause.startswith(PREFIX) and fragment in cause, cause


def test_a_scalar_gets_only_named_constants():
    loss = KL.mean()
    assert "7 times the expected ones, and 7 is the size of dimension 0 of mu" in explain(KL.sum(), loss, "float32", INPUTS)
    assert "twice" in explain(2 * loss, loss, "float32", INPUTS)
    assert explain(loss * 1.37, loss, "float32", INPUTS) == ""   # any wrong number is "a factor" of a scalar
    assert explain(loss + 0.3, loss, "float32", INPUTS) == ""
    assert "log 2 below the expected ones" in explain(loss - math.log(2), loss, "float32", INPUTS)
    assert explain(loss * 1.0003, loss, "float32", INPUTS) == ""   # near, not within tolerance: no factor


def test_an_argument_that_is_applied_twice_or_missing():
    z = seeded(4, 4)
    assert "and tau = 0.07: is it applied twice, or missing?" in explain(z / 0.07 ** 2, z / 0.07, "float32",
                                                                        {"z": z, "tau": 0.07})


def test_transpose_and_diagonal():
    logits = seeded(5, 5)
    assert "transpose" in explain(logits.T, logits, "float64", {"z": seeded(5, 3)})
    assert "the diagonal of the expected matrix" in explain(logits.diagonal(), logits, "float64", {})


def test_a_row_left_out():
    path = seeded(6, 2)
    assert "without its first row" in explain(path[1:], path, "float64", {})
    assert "without its last row" in explain(path[:-1], path, "float64", {})


def test_right_except_where_an_input_takes_a_value():
    t = torch.tensor([0, 3, 0, 5, 2, 1])
    expected = seeded(6, 4)
    actual = torch.where((t == 0)[:, None], expected * 1.5, expected)
    cause = explain(actual, expected, "float64", {"x": seeded(6, 4, seed=2), "t": t})
    assert "right except where t = 0" in cause


def test_right_except_at_the_largest_inputs():
    x = seeded(6, 4) * torch.tensor([1.0, 1, 30, 1, 1, 40])[:, None]
    expected = x.logsumexp(-1)
    actual = expected.clone()
    actual[[2, 5]] = float("nan")
    assert "largest |x|" in explain(actual, expected, "float32", {"x": x})


def test_right_in_some_rows_only():
    expected = seeded(6, 4)
    actual = expected.clone()
    actual[1] += 1.0
    actual[4, 2] -= 3.0
    assert "right in 4 of 6 rows, wrong in rows 1, 4" in explain(actual, expected, "float64", {"x": seeded(6, 4)})


def test_a_known_mistake_comes_first():
    mistake = ("the terms averaged", TERMS.mean(-1))
    cause = explain(TERMS.mean(-1), KL, "float32", INPUTS, mistakes=[mistake])
    assert "are those of a known mistake: the terms averaged" in cause
    assert explain(KL * 2, KL, "float32", INPUTS, mistakes=[mistake]).endswith("a missing or extra factor ½?")


def test_within_tolerance_of_the_dtype():
    noisy = TERMS.mean(-1) * (1 + 1e-6 * seeded(7, seed=9))
    assert "1/3 of the expected" in explain(noisy, KL, "float32", INPUTS)
    assert explain(noisy, KL, "float64", INPUTS) == ""   # float64 leaves no room for that noise


def test_not_a_tensor():
    assert explain(None, KL, "float32", INPUTS) == ""
    assert explain(KL, None, "float32", INPUTS) == ""


def test_expressions():
    points = [0.5, 1.3, 2.0, 3.7]
    want = [math.log(p) + p ** 2 for p in points]
    assert "½ above" in explain_numbers([w + 0.5 for w in want], want)
    assert "opposite sign" in explain_numbers([-w for w in want], want)
    assert explain_numbers([math.log10(p) + p ** 2 for p in points], want) == ""


def test_a_constant_expression_gets_only_a_sign():
    assert "opposite sign" in explain_numbers([1.0, 1.0, 1.0], [-1.0, -1.0, -1.0])
    assert explain_numbers([0.0, 0.0, 0.0], [-1.0, -1.0, -1.0]) == ""
    assert explain_numbers([2.0, 2.0, 2.0], [1.0, 1.0, 1.0]) == ""   # any number is "a factor" of a constant


def mutant_tables():
    """{assignment: (mutants as (function, mistake), CAUSES, NAMED_BY_THE_CHECK)}, from the DIAGNOSED
    table of each assignment's test file (every assignment of course.yml has one)."""
    tables = {}
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        if "\nDIAGNOSED = " in path.read_text():
            assignment, *table = importlib.import_module(path.stem).DIAGNOSED
            tables[assignment] = tuple(table)
    assert set(tables) == set(ASSIGNMENTS), f"a test file with DIAGNOSED is missing for {set(ASSIGNMENTS) - set(tables)}"
    return tables


def test_four_in_five_mutants_get_a_specific_diagnosis(capsys):
    """The share of the mutants whose feedback names the likely mistake: a likely cause (CAUSES;
    the mutant tests assert it, and that every other mutant gets none) or a check whose own message
    names it (NAMED_BY_THE_CHECK; the mutant tests assert that message)."""
    totals = [0, 0, 0]
    for assignment, (mutants, causes, named) in mutant_tables().items():
        assert set(causes) <= set(mutants) and set(named) <= set(mutants), "an entry for a mutant that is not in the table"
        assert not set(causes) & set(named)
        with_cause = sum(m in causes for m in mutants)
        specific = with_cause + sum(m in named for m in mutants)
        assert specific >= 0.8 * len(mutants), (assignment, specific, len(mutants))
        for i, n in enumerate((with_cause, specific, len(mutants))):
            totals[i] += n
        with capsys.disabled():
            print(f"\n{assignment}: {with_cause} of {len(mutants)} mutants get a likely cause, "
                  f"{specific} a specific diagnosis")
    assert totals[1] >= 0.8 * totals[2] and totals[0] >= 0.7 * totals[2], totals


def test_right_values_get_no_cause():
    """A failure for another reason (a dtype, say) is no wrong value to explain, and a known
    mistake that coincides with the expected result names nothing."""
    assert explain(KL.float(), KL, "float32", INPUTS) == ""
    assert explain(KL, KL, "float32", INPUTS, mistakes=[("the terms averaged", KL.clone())]) == ""


def test_float32_precision_in_a_float64_check_is_named():
    """A float64 result computed in float32 somewhere agrees only to about 1e-7; a result off by
    more, or a float32 check, gets no such cause."""
    expected = torch.linspace(1e-4, 0.02, 10, dtype=torch.float64)
    assert "only to float32's precision" in explain(torch.linspace(1e-4, 0.02, 10).double(), expected, "float64", {})
    assert "float32" not in explain(expected * 1.01, expected, "float64", {})
    assert explain(torch.linspace(1e-4, 0.02, 10).double(), expected, "float32", {}) == ""


def test_a_loose_tolerance_names_no_mistake_farther_than_the_expected_result():
    """bfloat16 allows about ±15 around 516: a mistake 15 away from the answer is within that,
    yet farther from it than the expected result, which is wrong by 6 in a small entry."""
    expected = torch.tensor([516.0, 10.0], dtype=torch.float64)
    answer = expected + torch.tensor([0.0, 6.0], dtype=torch.float64)
    farther = ("a mistake farther from it", answer + torch.tensor([15.0, 0.0], dtype=torch.float64))
    nearer = ("a mistake nearer to the answer", answer + torch.tensor([2.0, 0.0], dtype=torch.float64))
    assert explain(answer, expected, "bfloat16", {}, mistakes=[farther]) == ""
    assert "a mistake nearer" in explain(answer, expected, "bfloat16", {}, mistakes=[farther, nearer])


def test_rows_that_agree_by_coincidence_say_nothing():
    expected = seeded(3, 4)
    actual = expected.clone()
    actual[1] += 1.0
    assert explain(actual, expected, "float64", {"x": seeded(3, 4)}) == ""   # too few rows
    expected = seeded(6, 4)
    actual = expected.clone()
    actual[:3] += 1.0
    assert explain(actual, expected, "float64", {"x": seeded(6, 4)}) == ""   # half of them wrong
    x = seeded(6, 4) * torch.tensor([1.0, 1, 1.5, 1, 1, 1.6])[:, None]   # no clear gap in |x|
    actual = expected.clone()
    actual[[2, 5]] += 1.0
    cause = explain(actual, expected, "float64", {"x": x, "empty": torch.zeros(6, 0)})
    assert "largest" not in cause and "right in 4 of 6 rows, wrong in rows 2, 5" in cause


def test_an_argument_below_one():
    z = seeded(4, 4)
    missing = explain(z, z / 0.07, "float32", {"z": z, "tau": 0.07})
    assert "0.07 times the expected ones, and tau = 0.07" in missing, missing
    twice = explain(z / 0.07 ** 2, z / 0.07, "float32", {"z": z, "tau": 0.07})
    assert "1/0.07 = 14.29 times the expected ones" in twice, twice
    assert "1/5 of the expected ones, and beta = 5" in explain(z, 5 * z, "float32", {"z": z, "beta": 5.0})


def test_an_expression_undefined_where_it_fails_gets_no_factor():
    import sympy

    from autograder.checks.symbolic import _numbers_cause, make_symbols

    symbols = make_symbols({"x": "positive"})
    x = symbols["x"]
    expected = 2 * x
    doubled = 4 * x
    assert "twice" in _numbers_cause(doubled, expected, symbols, {"x": "positive"}, 0, {x: 1.0})
    # 4x, but 0/0 at the anchor x = 1 where the comparison fails
    undefined_there = sympy.Mul(4, x, sympy.Mul(x - 1, sympy.Pow(x - 1, -1, evaluate=False), evaluate=False),
                                evaluate=False)
    assert _numbers_cause(undefined_there, expected, symbols, {"x": "positive"}, 0, {x: 1.0}) == ""


def test_the_graders_own_failure_is_not_the_property_s():
    """A grader failure inside a property (a dead worker: GraderError, a RuntimeError) propagates
    instead of being blamed on the student's result."""
    from autograder.checks import properties
    from autograder.checks.properties import Property
    from autograder.runner import GraderError

    class DeadWorker:
        def call(self, *args, **kwargs):
            raise GraderError("the worker died")

    check = Property("gaussian_kl: a property", "vae", "gaussian_kl", property="kl_nonnegative_zero_at_prior")
    properties.bind([check], properties.load_library(ROOT / "assignments" / "hw1_vae" / "properties.py"), {}, "hw1")
    with pytest.raises(GraderError):
        check.run(DeadWorker(), None, "cpu")


def test_a_known_mistake_of_another_shape():
    summed_over_batch = ("the sum over the batch", TERMS.sum(0))
    cause = explain(TERMS.sum(0), KL, "float32", INPUTS, mistakes=[summed_over_batch])
    assert "known mistake: the sum over the batch" in cause
