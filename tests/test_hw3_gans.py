"""hw3_gans: every check catches realistic mistakes, and differently written correct answers
get full marks (sympy forms, matrices as lists, eigenvals() dicts, answers derived in sympy,
Python numbers, other torch calls, float64 intermediates, in-place ops on copies, clamping that
changes nothing on valid inputs). The variants are graded in rounds (conftest's VariantRounds):
one submission holds the k-th variant of every function."""
from __future__ import annotations

import pytest

from conftest import VariantRounds, assert_caught, assert_full_marks, grade_functions, make_submission

# another CPU's kernels compute other last bits: CI runs these again under another kernel set
pytestmark = pytest.mark.float_sensitive

HW3 = "hw3_gans"
SIGNATURES = {
    "gda_matrix": "alpha", "gda_eigenvalues": "alpha", "gda_stationary_point": "", "gda_long_run": "",
    "dirac_gan_jacobian": "gamma", "dirac_gan_eigenvalues": "gamma", "dirac_gan_stability_without_r1": "",
    "dirac_gan_stability_with_r1": "", "optimal_discriminator": "p0, p1", "density_from_discriminator": "f0, d",
    "mc_false_proposition": "", "mc_non_saturating_loss": "", "mc_train_test_gap": "",
    "discriminator_loss": "real_logits, fake_logits", "generator_loss": "fake_logits",
    "gda_trajectory": "d0, g0, alpha, steps", "jsd_estimate": "d_on_p1, d_on_p0",
}
GANS_FILE = {"discriminator_loss", "generator_loss", "gda_trajectory", "jsd_estimate"}

# (function, mistake, body, failing check, message fragment)
MUTANTS = [
    ("gda_matrix", "signs swapped (same eigenvalues)", "return sympy.Matrix([[1, -alpha], [alpha, 1]])", "equals A", "entry [0, 1]"),
    ("gda_matrix", "alternating updates", "return sympy.Matrix([[1, alpha], [-alpha, 1 - alpha**2]])", "equals A", "entry [1, 1]"),
    ("gda_matrix", "descent on both players", "return [[1, -alpha], [-alpha, 1]]", "equals A", "differs"),
    ("gda_matrix", "identity missing", "return [[0, alpha], [-alpha, 0]]", "equals A", "entry [0, 0]"),
    ("gda_matrix", "wrong shape", "return [1, alpha, -alpha, 1]", "is a 2×2 matrix", "expected a 2x2 matrix"),
    ("gda_eigenvalues", "real eigenvalues", "return [1 + alpha, 1 - alpha]", "equal the eigenvalues of A", "should be"),
    ("gda_eigenvalues", "real eigenvalues, by the property", "return [1 + alpha, 1 - alpha]",
     "modulus above 1 for every alpha > 0", "do not all have modulus above 1"),
    ("gda_eigenvalues", "a missing eigenvalue", "return [1 + sympy.I * alpha]", "well-formed", "expected 2 eigenvalues"),
    ("gda_eigenvalues", "unit modulus", "return [sympy.exp(sympy.I * alpha), sympy.exp(-sympy.I * alpha)]",
     "modulus above 1 for every alpha > 0", "modulus above 1"),
    ("gda_stationary_point", "wrong point", "return [1, 1]", "answer key", "entry [0, 0]"),
    ("gda_stationary_point", "one coordinate", "return [0]", "answer key", "expected 2 entries"),
    ("gda_stationary_point", "not a point", "return 0", "answer key", "expected a 2 matrix"),
    ("dirac_gan_jacobian", "gamma ignored", "return sympy.Matrix([[0, 0, -sympy.S.Half], [0, -sympy.S.Half, 0], [sympy.S.Half, 0, 0]])",
     "equals the Jacobian", "entry [0, 0]"),
    ("dirac_gan_jacobian", "penalty sign", "return sympy.Matrix([[gamma, 0, -sympy.S.Half], [0, -sympy.S.Half, 0], [sympy.S.Half, 0, 0]])",
     "equals the Jacobian", "entry [0, 0]"),
    ("dirac_gan_jacobian", "generator velocity not negated", "return [[-gamma, 0, -0.5], [0, -0.5, 0], [-0.5, 0, 0]]",
     "equals the Jacobian", "entry [2, 0]"),
    ("dirac_gan_jacobian", "sigma'(0) = 1 instead of 1/4", "return [[-gamma, 0, -1], [0, -2, 0], [1, 0, 0]]",
     "equals the Jacobian", "differs"),
    ("dirac_gan_eigenvalues", "gamma ignored", "return [-sympy.S.Half, sympy.I / 2, -sympy.I / 2]",
     "equal the eigenvalues of the Jacobian", "should be"),
    ("dirac_gan_eigenvalues", "the -1/2 forgotten", "return [(-gamma + sympy.sqrt(gamma**2 - 1)) / 2, (-gamma - sympy.sqrt(gamma**2 - 1)) / 2]",
     "well-formed", "expected 3 eigenvalues"),
    ("dirac_gan_eigenvalues", "sign of gamma", "return [-sympy.S.Half, (gamma + sympy.sqrt(gamma**2 - 1)) / 2, (gamma - sympy.sqrt(gamma**2 - 1)) / 2]",
     "equal the eigenvalues of the Jacobian", "should be"),
    ("optimal_discriminator", "D* for the wrong class", "return p0 / (p0 + p1)", "equals D*", "the correct value is"),
    ("optimal_discriminator", "a density ratio", "return p1 / p0", "equals D*", "the correct value is"),
    ("optimal_discriminator", "a number", "return 0.5", "equals D*", "the correct value is"),
    ("density_from_discriminator", "inverted ratio", "return f0 * (1 - d) / d", "equals f1", "the correct value is"),
    ("density_from_discriminator", "the ratio alone", "return d / (1 - d)", "equals f1", "the correct value is"),
    ("density_from_discriminator", "f0 * d", "return f0 * d", "equals f1", "the correct value is"),
    ("discriminator_loss", "sign flipped", "return F.softplus(real_logits).mean() + F.softplus(-fake_logits).mean()",
     "values and gradients", "expected"),
    ("discriminator_loss", "sign flipped, by the property", "return F.softplus(real_logits).mean() + F.softplus(-fake_logits).mean()",
     "equals 2 log 2 - 2 JSD at the optimal discriminator", "should be 2 log 2 - 2 JSD"),
    ("discriminator_loss", "log of sigmoid", "return -torch.log(torch.sigmoid(real_logits)).mean() - torch.log(1 - torch.sigmoid(fake_logits)).mean()",
     "finite at extreme logits", "not stable in float32"),
    ("discriminator_loss", "sums instead of means", "return F.softplus(-real_logits).sum() + F.softplus(fake_logits).sum()",
     "values and gradients", "expected"),
    ("generator_loss", "saturating loss", "return -F.softplus(fake_logits).mean()", "values and gradients", "expected"),
    ("generator_loss", "log of sigmoid", "return -torch.log(torch.sigmoid(fake_logits)).mean()", "finite at extreme logits", "not stable in float32"),
    ("generator_loss", "sign", "return F.softplus(fake_logits).mean()", "values and gradients", "expected"),
    ("generator_loss", "sum instead of mean", "return F.softplus(-fake_logits).sum()", "values and gradients", "expected"),
    ("gda_trajectory", "alternating updates",
     "rows = [[d0, g0]]\n    for _ in range(steps):\n        d = rows[-1][0] + alpha * rows[-1][1]\n        rows.append([d, rows[-1][1] - alpha * d])\n    return torch.tensor(rows)",
     "values", "expected"),
    ("gda_trajectory", "alternating updates, by the property",
     "rows = [[d0, g0]]\n    for _ in range(steps):\n        d = rows[-1][0] + alpha * rows[-1][1]\n        rows.append([d, rows[-1][1] - alpha * d])\n    return torch.tensor(rows)",
     "norm grows by sqrt(1 + alpha^2) per step", "are both updates simultaneous?"),
    ("gda_trajectory", "g ascends too",
     "rows = [[d0, g0]]\n    for _ in range(steps):\n        d, g = rows[-1]\n        rows.append([d + alpha * g, g + alpha * d])\n    return torch.tensor(rows)",
     "values", "expected"),
    ("gda_trajectory", "initial point left out",
     "rows, d, g = [], d0, g0\n    for _ in range(steps):\n        d, g = d + alpha * g, g - alpha * d\n        rows.append([d, g])\n    return torch.tensor(rows).reshape(-1, 2)",
     "values", "shape"),
    ("jsd_estimate", "log 2 missing", "return 0.5 * torch.log(d_on_p1).mean() + 0.5 * torch.log(1 - d_on_p0).mean()",
     "matches the JSD of two Gaussians", "should be close to the JSD"),
    ("jsd_estimate", "samples swapped", "return math.log(2) + 0.5 * torch.log(d_on_p0).mean() + 0.5 * torch.log(1 - d_on_p1).mean()",
     "values and gradients", "expected"),
    ("jsd_estimate", "the mean over p1 missing", "return math.log(2) + 0.5 * torch.log(d_on_p1) + 0.5 * torch.log1p(-d_on_p0).mean()",
     "matches the JSD of two Gaussians", "is its shape or type the one asked for?"),
    ("jsd_estimate", "log D on both", "return math.log(2) + 0.5 * torch.log(d_on_p1).mean() + 0.5 * torch.log(d_on_p0).mean()",
     "values and gradients", "expected"),
]
CHOICE_KEYS = {"gda_long_run": "c", "dirac_gan_stability_without_r1": "b", "dirac_gan_stability_with_r1": "a",
               "mc_false_proposition": "c", "mc_non_saturating_loss": "b", "mc_train_test_gap": "b"}
MUTANTS += [(function, f"answers {wrong}", f'return {{"{wrong}"}}', "answer key", "not the key")
            for function, key in CHOICE_KEYS.items() for wrong in "abcd" if wrong != key]

# The likely cause (checks/diagnoses.py) each mutant must get, by (function, mistake); a mutant
# not listed must get none (its checks' own messages say what is wrong, or nothing fits).
CAUSES = {
    ("gda_matrix", "signs swapped (same eigenvalues)"): "opposite sign",
    ("gda_matrix", "descent on both players"): "opposite sign",
    ("dirac_gan_jacobian", "penalty sign"): "opposite sign",
    ("dirac_gan_jacobian", "generator velocity not negated"): "opposite sign",
    ("optimal_discriminator", "D* for the wrong class"): "known mistake: the optimum for the other class",
    ("optimal_discriminator", "a density ratio"): "known mistake: the density ratio p1 / p0",
    ("density_from_discriminator", "inverted ratio"): "known mistake: the odds inverted",
    ("density_from_discriminator", "the ratio alone"): "known mistake: the odds d / (1 - d) alone",
    ("density_from_discriminator", "f0 * d"): "known mistake: f0 · d",
    ("discriminator_loss", "sign flipped"): "known mistake: the labels swapped",
    ("discriminator_loss", "sign flipped, by the property"): "known mistake: the labels swapped",
    ("discriminator_loss", "sums instead of means"): "known mistake: sums over the samples",
    ("generator_loss", "saturating loss"): "known mistake: the saturating loss",
    ("generator_loss", "sign"): "known mistake: softplus(fake_logits), which is -log(1 - D)",
    ("generator_loss", "sum instead of mean"): "did you sum where a mean is asked for?",
    ("gda_trajectory", "alternating updates"): "known mistake: alternating updates",
    ("gda_trajectory", "alternating updates, by the property"): "known mistake: alternating updates",
    ("gda_trajectory", "g ascends too"): "known mistake: g ascending too",
    ("gda_trajectory", "initial point left out"): "without its first row",
    ("jsd_estimate", "log 2 missing"): "log 2 below the expected ones",
    ("jsd_estimate", "samples swapped"): "known mistake: the samples swapped",
    ("jsd_estimate", "log D on both"): "known mistake: log D on both sample sets",
    ("jsd_estimate", "the mean over p1 missing"): "averaged over dimension 0 (of size 9) is the expected one",
    ("gda_matrix", "alternating updates"): "known mistake: alternating updates",
    ("gda_matrix", "identity missing"): "known mistake: the increment alone",
    ("gda_eigenvalues", "real eigenvalues"): "known mistake: 1 ± alpha, real",
    ("gda_eigenvalues", "real eigenvalues, by the property"): "known mistake: 1 ± alpha, real",
    ("gda_eigenvalues", "unit modulus"): "known mistake: e^(±i·alpha)",
    ("dirac_gan_jacobian", "gamma ignored"): "known mistake: the Jacobian without R1",
    ("dirac_gan_eigenvalues", "gamma ignored"): "known mistake: the eigenvalues without R1",
    ("dirac_gan_eigenvalues", "sign of gamma"): "known mistake: the sign of gamma",
    ("discriminator_loss", "log of sigmoid"): "not stable in float32 at |real_logits| up to",
    ("generator_loss", "log of sigmoid"): "not stable in float32 at |fake_logits| up to",
}
# Mutants without a likely cause whose failing check names the mistake itself (the table's
# fragment): the form of an answer.
NAMED_BY_THE_CHECK = {
    ("gda_matrix", "wrong shape"), ("gda_eigenvalues", "a missing eigenvalue"),
    ("gda_stationary_point", "one coordinate"), ("gda_stationary_point", "not a point"),
    ("dirac_gan_eigenvalues", "the -1/2 forgotten")}

VARIANTS = [
    ("gda_matrix", "return [[1, alpha], [-alpha, 1]]"),
    ("gda_matrix", "return sympy.eye(2) + alpha * sympy.Matrix([[0, 1], [-1, 0]])"),
    ("gda_matrix", "return [[1.0, alpha], [-alpha, 1.0]]"),   # Python floats
    ("gda_matrix", "d, g = sympy.symbols('d g')\n    return sympy.Matrix([d + alpha * g, g - alpha * d]).jacobian([d, g])"),
    ("gda_eigenvalues", "return sympy.Matrix([[1, alpha], [-alpha, 1]]).eigenvals()"),
    ("gda_eigenvalues", "return [1 + sympy.sqrt(-alpha**2), 1 - sympy.sqrt(-alpha**2)]"),
    ("gda_eigenvalues", "return list(sympy.Matrix([[1, alpha], [-alpha, 1]]).eigenvals())[::-1]"),
    ("gda_eigenvalues", "return [1 + 1j * alpha, 1 - 1j * alpha]"),   # Python complex numbers
    ("gda_stationary_point", "return (0, 0)"),
    ("gda_stationary_point", "return sympy.Matrix([0.0, 0.0])"),
    ("gda_stationary_point", "return sympy.zeros(1, 2)"),
    ("dirac_gan_jacobian", "return [[-gamma, 0, -0.5], [0, -0.5, 0], [0.5, 0, 0]]"),
    ("dirac_gan_jacobian", "h = sympy.Rational(1, 2)\n    return sympy.Matrix([[-gamma, 0, -h], [0, -h, 0], [h, 0, 0]])"),
    ("dirac_gan_jacobian", "return -gamma * sympy.diag(1, 0, 0) + sympy.Matrix([[0, 0, -1], [0, -1, 0], [1, 0, 0]]) / 2"),
    ("dirac_gan_eigenvalues", "return sympy.Matrix([[-gamma, 0, -0.5], [0, -0.5, 0], [0.5, 0, 0]]).eigenvals()"),
    ("dirac_gan_eigenvalues", "return [-gamma / 2 + sympy.sqrt(gamma**2 / 4 - 0.25), -0.5, -gamma / 2 - sympy.sqrt(gamma**2 / 4 - 0.25)]"),
    ("dirac_gan_eigenvalues", "root = sympy.I * sympy.sqrt(1 - gamma**2)\n"
                              "    return [(-gamma + root) / 2, (-gamma - root) / 2, -sympy.S.Half]"),
    ("dirac_gan_eigenvalues", "lam = sympy.Symbol('lam')\n"   # the roots of the characteristic polynomial
                              "    j = sympy.Matrix([[-gamma, 0, -sympy.S.Half], [0, -sympy.S.Half, 0], [sympy.S.Half, 0, 0]])\n"
                              "    return sympy.roots(j.charpoly(lam).as_expr(), lam)"),
    ("optimal_discriminator", "return 1 / (1 + p0 / p1)"),
    ("optimal_discriminator", "return p1 / (p1 + p0)"),
    ("optimal_discriminator", "return 1 / (1 + sympy.exp(sympy.log(p0) - sympy.log(p1)))"),   # a sigmoid of the log-ratio
    ("optimal_discriminator", "d = sympy.Symbol('D', positive=True)\n"   # derived in sympy
                              "    return sympy.solve(sympy.diff(p1 * sympy.log(d) + p0 * sympy.log(1 - d), d), d)[0]"),
    ("density_from_discriminator", "return d * f0 / (1 - d)"),
    ("density_from_discriminator", "return f0 / (1 / d - 1)"),
    ("density_from_discriminator", "return -f0 * d / (d - 1)"),
    ("density_from_discriminator", "f1 = sympy.Symbol('f1', positive=True)\n"   # derived in sympy
                                   "    return sympy.solve(sympy.Eq(d, f1 / (f0 + f1)), f1)[0]"),
    ("discriminator_loss", "return -F.logsigmoid(real_logits).mean() - F.logsigmoid(-fake_logits).mean()"),
    ("discriminator_loss", "bce = F.binary_cross_entropy_with_logits\n    return bce(real_logits, torch.ones_like(real_logits)) + bce(fake_logits, torch.zeros_like(fake_logits))"),
    ("discriminator_loss", "loss = F.softplus(-real_logits.double()).mean() + F.softplus(fake_logits.double()).mean()\n"
                           "    return loss.to(real_logits.dtype)"),   # float64, cast back
    ("discriminator_loss", "return torch.logaddexp(torch.zeros_like(real_logits), -real_logits).mean()"
                           " + torch.logaddexp(torch.zeros_like(fake_logits), fake_logits).mean()"),
    ("discriminator_loss", "real = torch.distributions.Bernoulli(logits=real_logits)\n"   # torch.distributions
                           "    fake = torch.distributions.Bernoulli(logits=fake_logits)\n"
                           "    return -real.log_prob(torch.ones_like(real_logits)).mean() - fake.log_prob(torch.zeros_like(fake_logits)).mean()"),
    ("discriminator_loss", "t = real_logits.clone()\n    t.neg_()\n"   # in-place ops on a copy
                           "    loss = F.softplus(t).mean()\n    loss += F.softplus(fake_logits).mean()\n    return loss"),
    ("generator_loss", "return -F.logsigmoid(fake_logits).mean()"),
    ("generator_loss", "return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))"),
    ("generator_loss", "return F.softplus(-fake_logits.double()).mean().to(fake_logits.dtype)"),   # float64, cast back
    ("generator_loss", "return torch.logaddexp(torch.zeros_like(fake_logits), -fake_logits).mean()"),
    ("generator_loss", "return -torch.distributions.Bernoulli(logits=fake_logits).log_prob(torch.ones_like(fake_logits)).mean()"),
    ("generator_loss", "t = fake_logits.clone()\n    t.neg_()\n    return F.softplus(t).mean()"),   # in place on a copy
    ("gda_trajectory", "a = torch.tensor([[1.0, alpha], [-alpha, 1.0]])\n    x = torch.tensor([float(d0), float(g0)])\n"
                       "    rows = [x]\n    for _ in range(steps):\n        rows.append(a @ rows[-1])\n    return torch.stack(rows)"),
    ("gda_trajectory", "out = torch.zeros(steps + 1, 2, dtype=torch.float64)\n    out[0, 0], out[0, 1] = d0, g0\n"
                       "    for k in range(steps):\n        out[k + 1, 0] = out[k, 0] + alpha * out[k, 1]\n"
                       "        out[k + 1, 1] = out[k, 1] - alpha * out[k, 0]\n    return out"),
    # closed form: d_k + i g_k = (1 - i alpha)^k (d0 + i g0), vectorised in complex numbers
    ("gda_trajectory", "k = torch.arange(steps + 1, dtype=torch.float64)\n"
                       "    w = complex(d0, g0) * torch.tensor(complex(1.0, -alpha), dtype=torch.complex128) ** k\n"
                       "    return torch.stack([w.real, w.imag], 1)"),
    ("gda_trajectory", "a = torch.tensor([[1.0, alpha], [-alpha, 1.0]], dtype=torch.float64)\n"
                       "    x = torch.tensor([d0, g0], dtype=torch.float64)\n"
                       "    return torch.stack([torch.linalg.matrix_power(a, k) @ x for k in range(steps + 1)])"),
    ("jsd_estimate", "return 0.5 * (torch.log(2 * d_on_p1).mean() + torch.log(2 * (1 - d_on_p0)).mean())"),
    ("jsd_estimate", "return math.log(2) + (torch.log(d_on_p1).mean() + torch.log(1 - d_on_p0).mean()) / 2"),
    # probabilities clamped to [eps, 1 - eps] (changes nothing for the values in (0.05, 0.95))
    ("jsd_estimate", "eps = 1e-6\n    p1, p0 = d_on_p1.clamp(eps, 1 - eps), d_on_p0.clamp(eps, 1 - eps)\n"
                     "    return math.log(2) + 0.5 * torch.log(p1).mean() + 0.5 * torch.log1p(-p0).mean()"),
    ("jsd_estimate", "jsd = math.log(2) + 0.5 * torch.log(d_on_p1.double()).mean() + 0.5 * torch.log1p(-d_on_p0.double()).mean()\n"
                     "    return jsd.to(d_on_p1.dtype)"),   # float64, cast back
    ("jsd_estimate", "a, b = d_on_p1.clone(), d_on_p0.clone()\n    a.log_()\n    b.neg_().log1p_()\n"   # in place on copies
                     "    return (a.mean() + b.mean()).div_(2).add_(math.log(2))"),
    ("jsd_estimate", "p = torch.cat([d_on_p1.flatten(), 1 - d_on_p0.flatten()])\n"   # torch.where to pick each half's weight
                     "    n1 = d_on_p1.numel()\n    first = torch.arange(p.numel(), device=p.device) < n1\n"
                     "    w = torch.where(first, torch.full_like(p, 0.5 / n1), torch.full_like(p, 0.5 / d_on_p0.numel()))\n"
                     "    return math.log(2) + (w * torch.log(p)).sum()"),
] + [(function, f'return "{key.upper()}"') for function, key in CHOICE_KEYS.items()] + [
    (function, f'return [" {key} "]') for function, key in CHOICE_KEYS.items()] + [
    (function, f'return ("{key}",)') for function, key in CHOICE_KEYS.items()]


def submission(tmp_path, function, code):
    source = f"def {function}({SIGNATURES[function]}):\n    {code}\n"
    return make_submission(tmp_path / "s", HW3, **{"gans" if function in GANS_FILE else "answers": {function: source}})


@pytest.mark.parametrize("function,mistake,code,check,fragment", MUTANTS, ids=[f"{m[0]}: {m[1]}" for m in MUTANTS])
def test_mutants_are_caught(tmp_path, function, mistake, code, check, fragment):
    results = grade_functions(submission(tmp_path, function, code), {function}, HW3)
    assert_caught(results, function, check, fragment, CAUSES.get((function, mistake)))


@pytest.fixture(scope="module")
def rounds(tmp_path_factory):
    """Variants graded in rounds (one submission holds the k-th variant of every function)."""
    entries = [("gans" if function in GANS_FILE else "answers", function,
                f"def {function}({SIGNATURES[function]}):\n    {code}\n") for function, code in VARIANTS]
    return VariantRounds(HW3, entries, tmp_path_factory.mktemp)


@pytest.mark.parametrize("index", range(len(VARIANTS)), ids=[f"{v[0]}-{i}" for i, v in enumerate(VARIANTS)])
def test_correct_variants_get_full_marks(rounds, index):
    results = rounds.results(index)
    assert_full_marks(results)


# The mutants whose feedback tests/test_diagnoses.py counts (answer-key letters, cells and grids aside,
# which have no cause to name): (assignment, mutants, CAUSES, NAMED_BY_THE_CHECK).
DIAGNOSED = (
    HW3, [(f, m) for f, m, *_ in MUTANTS if not f.startswith(("mc_", "invariance_table", *CHOICE_KEYS))], CAUSES,
    NAMED_BY_THE_CHECK)
