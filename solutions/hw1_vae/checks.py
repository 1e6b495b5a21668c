"""The checks of hw1_vae. Points and visibility come from course.yml; this file says what is
checked and on which inputs. Hidden (it lives with the references): the public checks reach
students only as the data frozen in assignments/hw1_vae/public_checks.json."""
from autograder.checks.choice import ChoiceFormat, MultipleChoice
from autograder.checks.numeric import MatchesReference, MetaProbe
from autograder.checks.properties import Property
from autograder.checks.sampling import (FreshNoise, NoiseIsIndependent, NoiseIsStandardNormal,
                                        ReparameterizationGradient)
from autograder.checks.symbolic import SymbolicEquals, SymbolicForm

FILES = ["vae.py", "answers.py"]


def normal(*shape, scale=1.0, shift=0.0):
    return {"normal": list(shape), "scale": scale, "shift": shift}


def uniform(*shape, low=0.0, high=1.0):
    return {"uniform": list(shape), "low": low, "high": high}


def gaussian_cases(seeds_shapes_dtypes, logvar_scale=1.0):
    return [{"seed": seed, "dtype": dtype, "args": [normal(*shape, scale=1.5), normal(*shape, scale=logvar_scale)]}
            for seed, shape, dtype in seeds_shapes_dtypes]


def elbo_case(seed, dtype, image, latent, **kwargs):
    return {"seed": seed, "dtype": dtype, "kwargs": {k: {"value": v} for k, v in kwargs.items()},
            "args": [uniform(*image), normal(*image, scale=2.0), normal(*latent), normal(*latent, scale=0.5)]}


def iwae_case(seed, dtype, k, b, scale=3.0, shift=0.0):
    return {"seed": seed, "dtype": dtype, "args": [normal(k, b, scale=scale, shift=shift)]}


GAUSSIAN = {"arg_names": ["mu", "logvar"], "grad_wrt": [0, 1]}
ELBO = {"arg_names": ["x", "x_logits", "mu", "logvar"], "grad_wrt": [1, 2, 3]}
IWAE = {"arg_names": ["log_weights"], "grad_wrt": [0]}
KL_SYMBOLS = {"mu_q": "real", "sigma_q": "positive", "mu_p": "real", "sigma_p": "positive"}


def vae(name, kind, **params):
    function = name.split(":")[0]
    return kind(name, "vae", function, **params)


def answer(name, kind, **params):
    return kind(name, "answers", name.split(":")[0], **params)


CHECKS = [
    vae("reparameterize: shape, dtype and device", MatchesReference, compare="structure",
        arg_names=["mu", "logvar"], cases=gaussian_cases([(31, (7, 3), "float32"), (32, (5, 2, 4), "float64"),
                                                         (33, (1, 1), "float32")])),
    vae("reparameterize: noise is standard normal", NoiseIsStandardNormal),
    vae("reparameterize: noise is independent across elements", NoiseIsIndependent),
    vae("reparameterize: fresh noise on every call", FreshNoise),
    vae("reparameterize: gradient path", ReparameterizationGradient),
    vae("reparameterize: device probe", MetaProbe, shapes=[[3, 4], [3, 4]]),

    vae("gaussian_kl: values and gradients", MatchesReference, **GAUSSIAN, cases=gaussian_cases(
        [(1, (7, 3), "float32"), (2, (5, 2, 4), "float64"), (3, (1, 10), "float32"), (4, (3,), "float64")])),
    vae("gaussian_kl: more inputs", MatchesReference, **GAUSSIAN, cases=gaussian_cases(
        [(21, (13, 6), "float64"), (22, (2, 3, 5, 7), "float32"), (23, (9, 1), "float64")], logvar_scale=3.0)),
    vae("gaussian_kl: non-negative, zero exactly at the prior", Property, property="kl_nonnegative_zero_at_prior"),
    vae("gaussian_kl: device probe", MetaProbe, shapes=[[3, 4], [3, 4]]),

    vae("negative_elbo: values and gradients", MatchesReference, **ELBO, cases=[
        elbo_case(5, "float32", (5, 1, 6, 6), (5, 4)),
        elbo_case(6, "float64", (3, 20), (3, 2), beta=4.0),
        elbo_case(7, "float32", (1, 2, 3, 3), (1, 3), beta=2)]),
    vae("negative_elbo: more inputs", MatchesReference, **ELBO, cases=[
        elbo_case(24, "float64", (9, 3, 4, 4), (9, 6), beta=0.5),
        elbo_case(25, "float32", (7, 11), (7, 5), beta=0)]),
    vae("negative_elbo: affine and increasing in beta", Property, property="elbo_affine_in_beta"),
    vae("negative_elbo: device probe", MetaProbe, shapes=[[3, 1, 2, 2], [3, 1, 2, 2], [3, 2], [3, 2]]),

    vae("iwae_bound: values and gradients", MatchesReference, **IWAE, cases=[
        iwae_case(8, "float32", 5, 7), iwae_case(9, "float64", 1, 3), iwae_case(10, "float32", 16, 1, 50.0, -100.0)]),
    vae("iwae_bound: more inputs", MatchesReference, **IWAE, cases=[
        iwae_case(26, "float64", 9, 11, 200.0), iwae_case(27, "float32", 3, 5, 1.0, 1000.0)]),
    vae("iwae_bound: K = 1 gives the log-weight", Property, property="iwae_k1"),
    vae("iwae_bound: between the mean and the max of the log-weights", Property, property="iwae_between_mean_and_max"),
    vae("iwae_bound: the order of the K samples does not matter", Property, property="iwae_permutation_invariant"),
    vae("iwae_bound: stable at |log-weights| up to 1e4 in float32", Property, property="iwae_stable"),
    vae("iwae_bound: device probe", MetaProbe, shapes=[[4, 3]]),

    answer("kl_univariate_gaussians: a sympy expression of the arguments", SymbolicForm, symbols=KL_SYMBOLS),
    answer("kl_univariate_gaussians: equals KL(q ‖ p)", SymbolicEquals, symbols=KL_SYMBOLS),
    answer("mc_marginal_likelihood: well-formed", ChoiceFormat, options="abcd"),
    answer("mc_marginal_likelihood: answer key", MultipleChoice, options="abcd"),
    answer("mc_elbo_significance: well-formed", ChoiceFormat, options="abcd"),
    answer("mc_elbo_significance: answer key", MultipleChoice, options="abcd"),
    answer("mc_amortization_gap: well-formed", ChoiceFormat, options="abcd"),
    answer("mc_amortization_gap: answer key", MultipleChoice, options="abcd"),
]
