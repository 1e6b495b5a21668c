"""The checks of hw3_gans. Points and visibility come from course.yml; this file says what is
checked and on which inputs. Hidden (it lives with the references): the public checks reach
students only as the data frozen in assignments/hw3_gans/public_checks.json."""
from autograder.checks.choice import ChoiceFormat, MultipleChoice
from autograder.checks.numeric import MatchesReference, MetaProbe
from autograder.checks.properties import Property
from autograder.checks.symbolic import SymbolicEquals, SymbolicForm

FILES = ["answers.py", "gans.py"]
ALPHA = {"alpha": "positive"}
GAMMA = {"gamma": "nonnegative"}
DENSITIES = {"p0": "positive", "p1": "positive"}
RATIO = {"f0": "positive", "d": "probability"}


def normal(*shape, scale=3.0):
    return {"normal": list(shape), "scale": scale}


def uniform(*shape):
    return {"uniform": list(shape), "low": 0.05, "high": 0.95}


# the advice of the stability checks: what makes -log sigmoid(x) finite for any x
LOG_SIGMOID = "log sigmoid(x) is log 0 once sigmoid(x) rounds to 0: compute -log sigmoid(x) as softplus(-x)"


def logits_cases(shapes, scale=3.0, first_seed=1):
    return [{"seed": first_seed + i, "dtype": dtype, "args": [normal(*s, scale=scale) for s in arg_shapes]}
            for i, (dtype, arg_shapes) in enumerate(shapes)]


def trajectory_case(seed, d0, g0, alpha, steps):
    return {"seed": seed, "dtype": "float64", "args": [{"value": v} for v in (d0, g0, alpha, steps)]}


def answer(name, kind, **params):
    return kind(name, "answers", name.split(":")[0], **params)


def gans(name, kind, **params):
    return kind(name, "gans", name.split(":")[0], **params)


def choice(function):
    return [answer(f"{function}: well-formed", ChoiceFormat, options="abcd"),
            answer(f"{function}: answer key", MultipleChoice, options="abcd")]


DISCRIMINATOR = {"arg_names": ["real_logits", "fake_logits"], "grad_wrt": [0, 1]}
GENERATOR = {"arg_names": ["fake_logits"], "grad_wrt": [0]}
JSD = {"arg_names": ["d_on_p1", "d_on_p0"], "grad_wrt": [0, 1]}

CHECKS = [
    answer("gda_matrix: is a 2×2 matrix", SymbolicForm, symbols=ALPHA, shape=[2, 2]),
    answer("gda_matrix: equals A", SymbolicEquals, symbols=ALPHA, shape=[2, 2]),
    answer("gda_eigenvalues: well-formed", SymbolicForm, symbols=ALPHA, count=2),
    answer("gda_eigenvalues: equal the eigenvalues of A", SymbolicEquals, symbols=ALPHA, count=2),
    answer("gda_eigenvalues: modulus above 1 for every alpha > 0", Property, symbols=ALPHA,
           property="gda_eigenvalue_modulus"),
    answer("gda_stationary_point: answer key", SymbolicEquals, shape=[2]),
    *choice("gda_long_run"),
    answer("dirac_gan_jacobian: is a 3×3 matrix", SymbolicForm, symbols=GAMMA, shape=[3, 3]),
    answer("dirac_gan_jacobian: equals the Jacobian", SymbolicEquals, symbols=GAMMA, shape=[3, 3]),
    answer("dirac_gan_eigenvalues: well-formed", SymbolicForm, symbols=GAMMA, count=3),
    answer("dirac_gan_eigenvalues: equal the eigenvalues of the Jacobian", SymbolicEquals, symbols=GAMMA, count=3),
    *choice("dirac_gan_stability_without_r1"),
    *choice("dirac_gan_stability_with_r1"),
    answer("optimal_discriminator: a sympy expression of the arguments", SymbolicForm, symbols=DENSITIES),
    answer("optimal_discriminator: equals D*", SymbolicEquals, symbols=DENSITIES),
    answer("density_from_discriminator: a sympy expression of the arguments", SymbolicForm, symbols=RATIO),
    answer("density_from_discriminator: equals f1", SymbolicEquals, symbols=RATIO),
    *choice("mc_false_proposition"),
    *choice("mc_non_saturating_loss"),
    *choice("mc_train_test_gap"),

    gans("discriminator_loss: values and gradients", MatchesReference, **DISCRIMINATOR, cases=logits_cases(
        [("float32", [(7,), (5,)]), ("float64", [(3, 1), (4, 1)]), ("float32", [(1,), (9,)])])),
    gans("discriminator_loss: finite at extreme logits", MatchesReference, **DISCRIMINATOR, stability=LOG_SIGMOID,
         cases=logits_cases(
        [("float32", [(6,), (6,)]), ("float64", [(5,), (3,)])], scale=1e3, first_seed=11)),
    gans("discriminator_loss: equals 2 log 2 - 2 JSD at the optimal discriminator", Property,
         property="discriminator_loss_at_optimum", max_examples=8),
    gans("discriminator_loss: device probe", MetaProbe, shapes=[[5], [3]]),
    gans("generator_loss: values and gradients", MatchesReference, **GENERATOR, cases=logits_cases(
        [("float32", [(9,)]), ("float64", [(4, 3)]), ("float32", [(1,)])], first_seed=21)),
    gans("generator_loss: finite at extreme logits", MatchesReference, **GENERATOR, stability=LOG_SIGMOID,
         cases=logits_cases(
        [("float32", [(7,)]), ("float64", [(2, 5)])], scale=1e3, first_seed=31)),
    gans("generator_loss: device probe", MetaProbe, shapes=[[5]]),
    gans("gda_trajectory: values", MatchesReference, arg_names=["d0", "g0", "alpha", "steps"], any_dtype=True,
         cases=[trajectory_case(41, 1.0, 0.5, 0.1, 10), trajectory_case(42, -2.0, 0.0, 0.5, 3),
                trajectory_case(43, 0.3, -1.2, 1.0, 1), trajectory_case(44, 1.0, 1.0, 0.2, 0)]),
    gans("gda_trajectory: norm grows by sqrt(1 + alpha^2) per step", Property, property="trajectory_norm_growth"),
    gans("jsd_estimate: values and gradients", MatchesReference, **JSD, cases=[
        {"seed": 51, "dtype": "float32", "args": [uniform(9), uniform(6)]},
        {"seed": 52, "dtype": "float64", "args": [uniform(4, 3), uniform(5, 3)]}]),
    gans("jsd_estimate: matches the JSD of two Gaussians", Property, property="jsd_of_two_gaussians", max_examples=8),
    gans("jsd_estimate: device probe", MetaProbe, shapes=[[5], [4]]),
]
