"""The checks of hw5_ebm_diffusion. Points and visibility come from course.yml; this file says what
is checked and on which inputs. Hidden (it lives with the references): the public checks reach
students only as the data frozen in assignments/hw5_ebm_diffusion/public_checks.json.

Schedules are random betas in float64 (any schedule must work, and a wrong alpha_bar shows on
each); timesteps are exact int64 tensors that mix t = 0, t = 1 and the last step in one batch.
The noise predictor of the loss is a described network (autograder.modules' "time_mlp")."""
import math
import random

from autograder.checks.choice import ChoiceFormat, MultipleChoice
from autograder.checks.numeric import MatchesReference, MetaProbe
from autograder.checks.properties import Property
from autograder.checks.recipes import case, normal, value
from autograder.checks.symbolic import SymbolicEquals, SymbolicForm

FILES = ["answers.py", "diffusion.py", "nce.py"]


def steps(*t):
    return {"tensor": list(t), "dtype": "int64"}


def betas(count, high=0.2):
    return {"uniform": [count], "low": 1e-4, "high": high, "dtype": "float64"}


def time_mlp(*shape, steps=10):
    return {"module": "time_mlp", "shape": list(shape), "hidden": [16], "steps": steps, "scale": 0.8}


def decoder_case(seed, dtype, shape, t, count, sigma, far=False):
    """A vlb_term case whose x0 lies on the 256-level grid of [-1, 1] (the edges included) and whose
    model mean sits within about sigma of x0, so that every bin has a probability a float32 CDF
    resolves. far: rows with t > 0 get means far below x0, where the bin's probability rounds to 0
    (its log is -inf; only the KL of those rows counts, but torch.where differentiates both)."""
    rng = random.Random(seed)
    size, per_row = math.prod(shape), math.prod(shape[1:])
    x0 = [rng.choice([-1.0, 1.0]) if i % 5 == 0 else rng.randrange(256) / 127.5 - 1 for i in range(size)]
    mean = [x + rng.gauss(0, sigma) - (1.0 if far and t[i // per_row] > 0 else 0.0) for i, x in enumerate(x0)]
    logvar = [2 * math.log(sigma) * rng.uniform(0.8, 1.2) for _ in x0]
    return case(seed, dtype, {"tensor": nested(x0, shape)}, normal(*shape), steps(*t), {"tensor": nested(mean, shape)},
                {"tensor": nested(logvar, shape)}, betas(count))


def nested(values, shape):
    """A flat list as nested lists of the given shape."""
    if len(shape) == 1:
        return list(values)
    step = math.prod(shape[1:])
    return [nested(values[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


def diffusion(name, kind, **params):
    return kind(name, "diffusion", name.split(":")[0], **params)


def nce(name, kind, **params):
    return kind(name, "nce", name.split(":")[0], **params)


def answer(name, kind, **params):
    return kind(name, "answers", name.split(":")[0], **params)


SCHEDULE = {"arg_names": ["T"]}
Q_SAMPLE = {"arg_names": ["x0", "t", "noise", "betas"], "grad_wrt": [0, 2]}
POSTERIOR = {"arg_names": ["x0", "xt", "t", "betas"], "grad_wrt": [0, 1], "outputs": ["mean", "variance", "log-variance"]}
FROM_EPS = {"arg_names": ["xt", "t", "eps", "betas"], "grad_wrt": [0, 2]}
P_SAMPLE = {"arg_names": ["xt", "t", "eps", "noise", "betas"], "grad_wrt": [0, 2, 3]}
LOSS = {"arg_names": ["model", "x0", "t", "noise", "betas"], "grad_wrt": [0, 1]}
KL = {"arg_names": ["mean1", "logvar1", "mean2", "logvar2"], "grad_wrt": [0, 1, 2, 3]}
VLB = {"arg_names": ["x0", "xt", "t", "model_mean", "model_logvar", "betas"], "grad_wrt": [1, 3, 4]}
NCE = {"arg_names": ["logit_data", "logit_noise"], "grad_wrt": [0, 1]}
ON_THE_DEVICE = ("betas may stay on the CPU while x and t are on the GPU: gather from the schedule with "
                 "t.to(betas.device) (or move betas first), then move the coefficients to x's device")


def probe(*inputs):
    """A device probe whose betas (the last input) stay on the CPU, as the contract allows."""
    return {"inputs": [*inputs[:-1], {**inputs[-1], "on_cpu": True}], "note": ON_THE_DEVICE}


SYMBOLS_POSTERIOR = {"alpha_t": "probability", "alpha_bar_prev": "probability"}
SYMBOLS_WEIGHT = {"alpha_t": "probability", "alpha_bar_t": "probability", "sigma_t": "positive"}
SYMBOLS_SCORE = {"eps": "real", "alpha_bar_t": "probability"}
SYMBOLS_NCE = {"p_d": "positive", "p_n": "positive"}
SYMBOLS_MARGINAL = {"beta_1": "probability", "beta_2": "probability"}

CHECKS = [
    # ---- diffusion.py: schedules
    diffusion("linear_beta_schedule: values", MatchesReference, **SCHEDULE, cases=[
        case(1, "float64", value(10)), case(2, "float64", value(1000)), case(3, "float64", value(2)),
        case(4, "float64", value(7), beta_start=value(0.001), beta_end=value(0.05))]),
    diffusion("cosine_beta_schedule: values", MatchesReference, **SCHEDULE, cases=[
        case(5, "float64", value(10)), case(6, "float64", value(1000)),
        case(7, "float64", value(20), s=value(0.02), max_beta=value(0.5))]),

    # ---- the forward process and the posterior
    diffusion("q_sample: values and gradients", MatchesReference, **Q_SAMPLE, cases=[
        case(11, "float32", normal(4, 3), steps(0, 9, 3, 5), normal(4, 3), betas(10)),
        case(12, "float64", normal(3, 2, 4, 4), steps(7, 0, 2), normal(3, 2, 4, 4), betas(8))]),
    diffusion("q_sample: more inputs", MatchesReference, **Q_SAMPLE, cases=[
        case(13, "float64", normal(1, 5), steps(0), normal(1, 5), betas(3)),
        case(14, "float32", normal(5, 1, 2, 2), steps(4, 4, 1, 0, 3), normal(5, 1, 2, 2), betas(5, high=0.5))]),
    diffusion("q_sample: affine in the noise, with q(x_t | x_0)'s mean and variance", Property,
              property="q_sample_is_affine_in_noise", max_examples=10),
    diffusion("q_sample: device probe", MetaProbe, **probe(normal(3, 2), steps(0, 4, 2), normal(3, 2), betas(5))),
    diffusion("q_posterior_mean_variance: values and gradients", MatchesReference, **POSTERIOR, cases=[
        case(21, "float32", normal(4, 3), normal(4, 3), steps(0, 1, 9, 4), betas(10)),
        case(22, "float64", normal(3, 2, 3, 3), normal(3, 2, 3, 3), steps(5, 0, 2), betas(6))]),
    diffusion("q_posterior_mean_variance: more inputs", MatchesReference, **POSTERIOR, cases=[
        case(23, "float64", normal(2, 6), normal(2, 6), steps(1, 1), betas(2, high=0.5)),
        case(24, "float32", normal(5, 1), normal(5, 1), steps(0, 2, 3, 0, 6), betas(7))]),
    diffusion("q_posterior_mean_variance: Bayes' rule", Property, property="posterior_satisfies_bayes_rule",
              max_examples=10),
    diffusion("q_posterior_mean_variance: device probe", MetaProbe,
              **probe(normal(3, 2), normal(3, 2), steps(0, 4, 2), betas(5))),

    # ---- the reverse step
    diffusion("predict_x0_from_eps: values and gradients", MatchesReference, **FROM_EPS, cases=[
        case(31, "float32", normal(4, 3), steps(0, 9, 3, 5), normal(4, 3), betas(10)),
        case(32, "float64", normal(2, 3, 2, 2), steps(6, 1), normal(2, 3, 2, 2), betas(7))]),
    diffusion("predict_x0_from_eps: inverts q_sample", Property, property="predict_x0_inverts_q_sample", max_examples=8),
    diffusion("predict_x0_from_eps: device probe", MetaProbe, **probe(normal(3, 2), steps(0, 4, 2), normal(3, 2), betas(5))),
    diffusion("p_mean_from_eps: values and gradients", MatchesReference, **FROM_EPS, cases=[
        case(41, "float32", normal(4, 3), steps(0, 9, 3, 5), normal(4, 3), betas(10)),
        case(42, "float64", normal(2, 3, 2, 2), steps(6, 1), normal(2, 3, 2, 2), betas(7))]),
    diffusion("p_mean_from_eps: more inputs", MatchesReference, **FROM_EPS, cases=[
        case(43, "float64", normal(3, 1), steps(2, 0, 1), normal(3, 1), betas(3, high=0.6))]),
    diffusion("p_mean_from_eps: the posterior mean for the true noise", Property,
              property="p_mean_from_true_eps_is_posterior_mean", max_examples=8),
    diffusion("p_mean_from_eps: device probe", MetaProbe, **probe(normal(3, 2), steps(0, 4, 2), normal(3, 2), betas(5))),
    diffusion("p_sample: values and gradients", MatchesReference, **P_SAMPLE, cases=[
        case(51, "float32", normal(4, 3), steps(0, 9, 3, 5), normal(4, 3), normal(4, 3), betas(10)),
        case(52, "float64", normal(3, 2, 2, 2), steps(6, 0, 1), normal(3, 2, 2, 2), normal(3, 2, 2, 2), betas(7))]),
    diffusion("p_sample: more inputs", MatchesReference, **P_SAMPLE, cases=[
        case(53, "float64", normal(1, 4), steps(0), normal(1, 4), normal(1, 4), betas(4)),
        case(54, "float32", normal(5, 2), steps(1, 2, 3, 0, 4), normal(5, 2), normal(5, 2), betas(5, high=0.5))]),
    diffusion("p_sample: noise sqrt(beta_t) except at t = 0", Property, property="p_sample_noise_is_sqrt_beta",
              max_examples=8),
    diffusion("p_sample: device probe", MetaProbe,
              **probe(normal(3, 2), steps(0, 4, 2), normal(3, 2), normal(3, 2), betas(5))),

    # ---- the losses
    diffusion("ddpm_simple_loss: values and gradients", MatchesReference, **LOSS, cases=[
        case(61, "float32", time_mlp(3), normal(6, 3), steps(0, 9, 3, 5, 5, 1), normal(6, 3), betas(10)),
        case(62, "float64", time_mlp(2, 2, 2, steps=8), normal(3, 2, 2, 2), steps(7, 0, 2), normal(3, 2, 2, 2), betas(8))]),
    diffusion("ddpm_simple_loss: more inputs", MatchesReference, **LOSS, cases=[
        case(63, "float64", time_mlp(1, steps=4), normal(1, 1), steps(3), normal(1, 1), betas(4))]),
    diffusion("ddpm_simple_loss: 0 for a network that predicts the noise exactly", Property,
              property="simple_loss_zero_for_oracle", max_examples=8),
    # every input on the device: a network cannot go to the simulated GPU, and with betas on the CPU
    # the meta run cannot decide (t.to(betas.device) copies out of meta), so the probe could not fail
    diffusion("ddpm_simple_loss: device probe", MetaProbe,
              inputs=[time_mlp(2, steps=5), normal(3, 2), steps(0, 4, 2), normal(3, 2), betas(5)]),
    diffusion("normal_kl: values and gradients", MatchesReference, **KL, cases=[
        case(71, "float32", normal(4, 3), normal(4, 3), normal(4, 3), normal(4, 3)),
        case(72, "float64", normal(2, 5), normal(2, 5, scale=2.0), normal(2, 5), normal(1, 5))]),
    diffusion("normal_kl: device probe", MetaProbe, inputs=[normal(3, 2)] * 4),
    diffusion("vlb_term: values and gradients", MatchesReference, **VLB, cases=[
        decoder_case(81, "float64", [4, 5], [0, 3, 0, 7], 8, 0.02),
        decoder_case(82, "float32", [3, 2, 2, 2], [0, 5, 0], 6, 0.05)]),
    diffusion("vlb_term: more inputs", MatchesReference, **VLB, cases=[
        decoder_case(83, "float64", [5, 3], [1, 0, 4, 0, 2], 5, 0.1),
        decoder_case(84, "float32", [2, 6], [0, 0], 3, 0.01)]),
    diffusion("vlb_term: finite gradients where the decoder's bin has probability 0", MatchesReference, **VLB, cases=[
        decoder_case(85, "float32", [4, 3], [0, 2, 5, 3], 6, 0.03, far=True),
        decoder_case(86, "float64", [3, 4], [4, 0, 1], 5, 0.02, far=True)]),
    diffusion("vlb_term: 0 at the true posterior", Property, property="vlb_zero_at_true_posterior", max_examples=8),
    diffusion("vlb_term: device probe", MetaProbe,
              **probe(normal(3, 2), normal(3, 2), steps(0, 4, 2), normal(3, 2), normal(3, 2), betas(5))),

    # ---- nce.py
    nce("nce_loss: values and gradients", MatchesReference, **NCE, cases=[
        case(91, "float32", normal(6), normal(10)), case(92, "float64", normal(3, scale=3.0), normal(2, scale=3.0))]),
    nce("nce_loss: more inputs", MatchesReference, **NCE, cases=[case(93, "float64", normal(1), normal(7))]),
    nce("nce_loss: finite at logits of size 200 in float32", MatchesReference, **NCE, stability=(
        "log sigma(G) is log 0 once sigma(G) rounds to 0: compute it as logsigmoid(G), and log(1 - sigma(G)) "
        "as logsigmoid(-G)"), cases=[
        case(94, "float32", {"tensor": [-200.0, 150.0, 0.5]}, {"tensor": [200.0, -120.0, 3.0, -0.5]})]),
    nce("nce_loss: least at the optimal logit", Property, property="nce_minimised_at_log_ratio",
        max_examples=10),
    nce("nce_loss: device probe", MetaProbe, inputs=[normal(4), normal(6)]),

    # ---- answers.py
    answer("nce_optimal_logit: a sympy expression of the arguments", SymbolicForm, symbols=SYMBOLS_NCE),
    answer("nce_optimal_logit: equals the maximiser", SymbolicEquals, symbols=SYMBOLS_NCE),
    answer("marginal_variance: a sympy expression of the arguments", SymbolicForm, symbols=SYMBOLS_MARGINAL),
    answer("marginal_variance: equals Var[x_2 | x_0]", SymbolicEquals, symbols=SYMBOLS_MARGINAL),
    answer("posterior_coef_x0: a sympy expression of the arguments", SymbolicForm, symbols=SYMBOLS_POSTERIOR),
    answer("posterior_coef_x0: equals the coefficient", SymbolicEquals, symbols=SYMBOLS_POSTERIOR),
    answer("posterior_coef_xt: a sympy expression of the arguments", SymbolicForm, symbols=SYMBOLS_POSTERIOR),
    answer("posterior_coef_xt: equals the coefficient", SymbolicEquals, symbols=SYMBOLS_POSTERIOR),
    answer("posterior_variance: a sympy expression of the arguments", SymbolicForm, symbols=SYMBOLS_POSTERIOR),
    answer("posterior_variance: equals the variance", SymbolicEquals, symbols=SYMBOLS_POSTERIOR),
    answer("loss_weight: a sympy expression of the arguments", SymbolicForm, symbols=SYMBOLS_WEIGHT),
    answer("loss_weight: equals lambda_t", SymbolicEquals, symbols=SYMBOLS_WEIGHT),
    answer("score_from_eps: a sympy expression of the arguments", SymbolicForm, symbols=SYMBOLS_SCORE),
    answer("score_from_eps: equals the score", SymbolicEquals, symbols=SYMBOLS_SCORE),
    answer("mc_joint_posterior: well-formed", ChoiceFormat, options="abcd"),
    answer("mc_joint_posterior: answer key", MultipleChoice, options="abcd"),
    answer("mc_vae_ddpm_decomposition: well-formed", ChoiceFormat, options="abcd"),
    answer("mc_vae_ddpm_decomposition: answer key", MultipleChoice, options="abcd"),
]
