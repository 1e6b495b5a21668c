"""The checks of hw2_contrastive. Points and visibility come from course.yml; this file says what
is checked and on which inputs. Hidden (it lives with the references): the public checks reach
students only as the data frozen in assignments/hw2_contrastive/public_checks.json."""
from autograder.checks.choice import ChoiceFormat, ChoiceTable, ChoiceTableFormat, MultipleChoice
from autograder.checks.numeric import MatchesReference, MetaProbe
from autograder.checks.properties import Property
from autograder.checks.symbolic import SymbolicEquals, SymbolicForm

FILES = ["answers.py", "losses.py"]
DOT = {"dot": "cosine"}
TAU = {"tau": "positive"}
CANDIDATES = {"M": "positive"}
TABLE = {"rows": ["A", "B", "C"], "columns": ["shape", "location", "color"], "values": ["invariant", "sensitive"]}

LOG, IDENTITY, SOFTPLUS = {"function": "log"}, {"function": "identity"}, {"function": "softplus"}


def exp_over(tau):
    return {"function": "exp_over", "tau": tau}


def relu_plus(margin):
    return {"function": "relu_plus", "margin": margin}


def normal(*shape, scale=1.0):
    return {"normal": list(shape), "scale": scale}


def unit(*shape):
    """Rows of unit norm."""
    return {"normal": list(shape), "unit_rows": True}


def case(seed, dtype, *args, **kwargs):
    return {"seed": seed, "dtype": dtype, "args": list(args), "kwargs": {k: {"value": v} for k, v in kwargs.items()}}


def pair(seed, dtype, shape, recipe=normal, **kwargs):
    """Two tensors of the same shape (seeds seed and seed + 1: different values)."""
    return case(seed, dtype, recipe(*shape), recipe(*shape), **kwargs)


def losses(name, kind, **params):
    return kind(name, "losses", name.split(":")[0], **params)


def answer(name, kind, **params):
    return kind(name, "answers", name.split(":")[0], **params)


def symbolic(function, form, symbols=None, **params):
    """A public check of the form, and the hidden answer key."""
    symbols = {"symbols": symbols} if symbols else {}
    return [answer(f"{function}: {form}", SymbolicForm, **symbols, **params),
            answer(f"{function}: answer key", SymbolicEquals, **symbols, **params)]


MSE = {"arg_names": ["x_hat", "x"], "grad_wrt": [0, 1]}
LOGITS = {"arg_names": ["z", "z_pos"], "grad_wrt": [0, 1]}
INFONCE = {"arg_names": ["logits"], "grad_wrt": [0]}
NT_XENT = {"arg_names": ["z1", "z2"], "grad_wrt": [0, 1]}
UNIFIED = {"arg_names": ["z", "z_aug", "phi", "psi"], "grad_wrt": [0, 1]}

CHECKS = [
    losses("mse_loss: values and gradients", MatchesReference, **MSE, cases=[
        pair(1, "float32", (7, 3)), pair(3, "float64", (2, 3, 5, 4)), pair(5, "float32", (1, 1, 4, 6))]),
    losses("mse_loss: more inputs", MatchesReference, **MSE, cases=[
        pair(41, "float64", (1, 5)), pair(43, "float32", (4, 3, 8, 8)), pair(45, "float64", (9,))]),
    losses("mse_loss: zero exactly when x_hat = x, positive otherwise", Property, property="mse_zero_iff_equal"),
    losses("mse_loss: device probe", MetaProbe, shapes=[[2, 1, 3, 3], [2, 1, 3, 3]]),

    losses("contrastive_logits: values and gradients", MatchesReference, **LOGITS, cases=[
        pair(7, "float32", (5, 3), unit), pair(9, "float64", (4, 7), unit, tau=0.5),
        pair(11, "float32", (1, 4), unit, tau=0.2)]),
    losses("contrastive_logits: more inputs", MatchesReference, **LOGITS, cases=[
        pair(47, "float64", (9, 2), unit), pair(49, "float32", (3, 16), unit, tau=0.1)]),
    losses("contrastive_logits: device probe", MetaProbe, shapes=[[4, 3], [4, 3]]),

    losses("contrastive_loss: values and gradients", MatchesReference, **INFONCE, cases=[
        case(13, "float32", normal(6, 6, scale=3.0)), case(14, "float64", normal(1, 1)),
        case(15, "float64", normal(9, 9, scale=10.0))]),
    losses("contrastive_loss: more inputs", MatchesReference, **INFONCE, cases=[
        case(51, "float32", normal(17, 17, scale=30.0)), case(52, "float64", normal(3, 3, scale=0.1))]),
    losses("contrastive_loss: invariant to permuting the pairs", Property, property="contrastive_permutation_invariant"),
    losses("contrastive_loss: log b when all logits are equal", Property, property="contrastive_equal_logits"),
    losses("contrastive_loss: stable at |logits| up to 1e4 in float32", Property, property="contrastive_stable"),
    losses("contrastive_loss: finite in bfloat16 at large logits", MatchesReference, **INFONCE, stability=(
        "exp of a large logit overflows: subtract each row's maximum before the exp, or use logsumexp or "
        "log_softmax"), cases=[
        case(16, "bfloat16", normal(6, 6, scale=300.0)), case(17, "bfloat16", normal(12, 12, scale=1000.0))]),
    losses("contrastive_loss: device probe", MetaProbe, shapes=[[4, 4]]),

    losses("nt_xent: values and gradients", MatchesReference, **NT_XENT, cases=[
        pair(18, "float32", (5, 3), normal), pair(20, "float64", (4, 8), normal, tau=0.1),
        pair(22, "float32", (1, 2), normal, tau=0.2)]),
    losses("nt_xent: more inputs", MatchesReference, **NT_XENT, cases=[
        pair(53, "float64", (12, 5), normal), pair(55, "float32", (3, 32), normal, tau=1.0)]),
    losses("nt_xent: invariant to positive scaling of each row", Property, property="nt_xent_scale_invariant"),
    losses("nt_xent: symmetric in z1 and z2", Property, property="nt_xent_symmetric"),
    losses("nt_xent: device probe", MetaProbe, shapes=[[4, 3], [4, 3]]),

    losses("unified_contrastive_loss: values and gradients", MatchesReference, **UNIFIED, cases=[
        case(24, "float32", normal(5, 3), normal(5, 3), LOG, exp_over(0.5)),
        case(26, "float64", unit(4, 6), unit(4, 6), LOG, exp_over(0.1)),
        case(28, "float64", normal(2, 1), normal(2, 1), LOG, exp_over(1.0))]),
    losses("unified_contrastive_loss: other φ and ψ", MatchesReference, **UNIFIED, cases=[
        case(57, "float64", normal(6, 4), normal(6, 4), IDENTITY, relu_plus(1.0)),
        case(59, "float32", normal(3, 5), normal(3, 5), SOFTPLUS, IDENTITY),
        case(61, "float64", normal(1, 3), normal(1, 3), IDENTITY, relu_plus(0.5))]),
    losses("unified_contrastive_loss: NT-Xent for φ = log, ψ(x) = exp(x / τ), unit vectors", Property,
           property="unified_is_nt_xent"),
    losses("unified_contrastive_loss: device probe", MetaProbe, shapes=[[4, 3], [4, 3]],
           extra_args=[LOG, exp_over(0.5)]),

    *symbolic("unit_distance", "a sympy expression of the arguments", DOT),
    *symbolic("logit_range", "a list [low, high]", shape=[2]),
    *symbolic("logit_range_with_temperature", "a list [low, high]", TAU, shape=[2]),
    *symbolic("contrastive_decomposition", "a list [a, b, c]", CANDIDATES, shape=[3]),
    answer("mc_perfect_accuracy_condition: well-formed", ChoiceFormat, options="abc"),
    answer("mc_perfect_accuracy_condition: answer key", MultipleChoice, options="abc"),
    answer("invariance_table: well-formed", ChoiceTableFormat, **TABLE),
    answer("invariance_table: answer key", ChoiceTable, **TABLE),
]
