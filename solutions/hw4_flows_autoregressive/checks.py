"""The checks of hw4_flows_autoregressive. Points and visibility come from course.yml; this file
says what is checked and on which inputs. Hidden (it lives with the references): the public checks
reach students only as the data frozen in assignments/hw4_flows_autoregressive/public_checks.json.

Networks, flow layers and target densities are passed as described modules (autograder.modules:
an MLP by its sizes and weights, a layer by its kind and parameters), rebuilt in the worker."""
from autograder.checks.choice import ChoiceTable, ChoiceTableFormat
from autograder.checks.grids import GridFormat, GridKey
from autograder.checks.numeric import MatchesReference, MetaProbe
from autograder.checks.properties import Property
from autograder.checks.raises import Raises
from autograder.checks.recipes import case, normal, uniform, value
from autograder.checks.symbolic import SymbolicEquals, SymbolicForm

FILES = ["answers.py", "autoregressive.py", "flows.py"]


def mlp(*sizes, activation="tanh"):
    return {"module": "mlp", "sizes": list(sizes), "activation": activation, "scale": 0.8}


def layers(*kinds, dim):
    return {"list": [{"module": k, "dim": dim, "scale": 0.4} if k in ("affine", "linear") else {"module": k}
                     for k in kinds]}


def ar(name, kind, **params):
    return kind(name, "autoregressive", name.split(":")[0], **params)


def flows(name, kind, **params):
    return kind(name, "flows", name.split(":")[0], **params)


def answer(name, kind, **params):
    return kind(name, "answers", name.split(":")[0], **params)


MASK = {"arg_names": ["kernel_size", "mask_type"], "any_dtype": True}
CONV = {"arg_names": ["x", "weight", "bias", "mask_type"], "grad_wrt": [0, 1, 2]}
MADE = {"arg_names": ["in_degrees", "hidden_degrees"], "any_dtype": True}
LAYER = {"outputs": ["output", "log-determinant"]}
COUPLING = {**LAYER, "arg_names": ["x", "mask", "s_net", "t_net"], "grad_wrt": [0, 2, 3]}
PLANAR = {**LAYER, "arg_names": ["z", "w", "u", "b"], "grad_wrt": [0, 1, 2]}
RADIAL = {**LAYER, "arg_names": ["z", "z0", "alpha", "beta"], "grad_wrt": [0, 1]}
INVERSE = {"arg_names": ["y", "z0", "alpha", "beta"], "grad_wrt": [0, 1]}
SIGMOIDAL = {**LAYER, "arg_names": ["z", "a", "b", "w_logits"]}
LOG_PROB = {"arg_names": ["x", "inverse_layers"], "grad_wrt": [0, 1]}
REVERSE_KL = {"arg_names": ["u", "forward_layers", "log_target"], "grad_wrt": [0, 1]}
GRIDS = {"keys": [["A", "A"], ["A", "B"], ["B", "A"], ["B", "B"]], "size": 5}
KL_TABLE = {"rows": ["density only", "samples only"], "columns": ["objective"], "values": ["forward", "reverse"]}
KL_KEY = {**KL_TABLE, "all_or_nothing": True}   # "forward" twice would earn a row for sure
R_SYMBOLS = {"rho": "nonnegative", "alpha": "positive", "beta": "real"}


def sigmoidal_args(z, n=4):
    return [z, uniform(n, low=0.5, high=2.0), normal(n), normal(n)]


CHECKS = [
    # ---- autoregressive.py
    ar("causal_conv_mask: values", MatchesReference, **MASK, cases=[
        case(1, "float32", value(3), value("A")), case(2, "float32", value(3), value("B")),
        case(3, "float32", value(5), value("A")), case(4, "float32", value(7), value("B")),
        case(5, "float32", value(1), value("B"))]),
    ar("causal_conv_mask: rejects an even kernel size or an unknown type", Raises, error="ValueError", cases=[
        {"args": [value(4), value("A")], "why": "for kernel_size = 4"},
        {"args": [value(3), value("C")], "why": "for mask_type = 'C'"}]),
    ar("masked_conv2d: values and gradients", MatchesReference, **CONV, cases=[
        case(11, "float32", normal(2, 1, 5, 5), normal(2, 1, 3, 3), normal(2), value("A")),
        case(12, "float64", normal(1, 3, 4, 6), normal(4, 3, 3, 3), normal(4), value("B")),
        case(15, "float32", normal(1, 2, 6, 6), normal(2, 2, 5, 5), normal(2), value("B"))]),
    ar("masked_conv2d: more inputs", MatchesReference, **CONV, cases=[
        case(13, "float32", normal(2, 2, 7, 3), normal(3, 2, 5, 5), normal(3), value("A")),
        case(14, "float64", normal(1, 1, 6, 6), normal(1, 1, 7, 7), normal(1), value("B"))]),
    ar("masked_conv2d: without a bias", MatchesReference, **{**CONV, "grad_wrt": [0, 1]}, cases=[
        case(15, "float32", normal(2, 2, 4, 4), normal(2, 2, 3, 3), value(None), value("B"))]),
    ar("masked_conv2d: causal, by autograd", Property, property="masked_conv_is_causal", max_examples=10),
    ar("masked_conv2d: device probe", MetaProbe, shapes=[[2, 1, 5, 5], [2, 1, 3, 3], [2]], extra_args=[value("A")]),
    ar("made_masks: values", MatchesReference, **MADE, cases=[
        case(21, "float32", {"permutation": 4}, {"list": [{"integers": [6], "low": 1, "high": 3}]}),
        case(22, "float32", {"permutation": 5}, {"list": [{"integers": [7], "low": 1, "high": 4},
                                                          {"integers": [3], "low": 1, "high": 4}]}),
        case(23, "float32", {"permutation": 3}, value([]))]),
    ar("made_masks: autoregressive, by autograd", Property, property="made_is_autoregressive", max_examples=15),

    # ---- flows.py
    flows("affine_coupling: values and gradients", MatchesReference, **COUPLING, cases=[
        case(31, "float32", normal(5, 4), {"tensor": [1, 0, 1, 0]}, mlp(4, 16, 4), mlp(4, 16, 4, activation="relu")),
        case(32, "float64", normal(3, 3), {"tensor": [0, 0, 1]}, mlp(3, 8, 3), mlp(3, 8, 8, 3))]),
    flows("affine_coupling: reverse", MatchesReference, **COUPLING, cases=[
        case(33, "float32", normal(5, 4), {"tensor": [1, 0, 1, 0]}, mlp(4, 16, 4), mlp(4, 16, 4), reverse=value(True)),
        case(34, "float64", normal(2, 5), {"tensor": [1, 1, 0, 0, 0]}, mlp(5, 8, 5), mlp(5, 8, 5), reverse=value(True))]),
    flows("affine_coupling: more inputs", MatchesReference, **COUPLING, cases=[
        case(35, "float64", normal(1, 6), {"tensor": [0, 1, 0, 1, 0, 1]}, mlp(6, 4, 6), mlp(6, 4, 6)),
        case(36, "float32", normal(7, 2), {"tensor": [0, 1]}, mlp(2, 8, 2), mlp(2, 8, 2), reverse=value(True))]),
    flows("affine_coupling: reverse undoes forward", Property, property="coupling_round_trip", max_examples=8),
    flows("affine_coupling: log-determinant of the Jacobian", Property, property="coupling_log_det", max_examples=8),
    flows("affine_coupling: device probe", MetaProbe, shapes=[[3, 4], [4]],
          extra_args=[mlp(4, 8, 4), mlp(4, 8, 4)]),
    flows("planar_flow: values and gradients", MatchesReference, **PLANAR, cases=[
        # u . w = -3: where |z . w + b| is small, 1 + u . psi(z) < 0 (the log-det needs its abs)
        case(41, "float32", normal(6, 3), {"tensor": [1.0, 0.5, -0.5]}, {"tensor": [-2.0, -1.0, 1.0]}, value(0.3)),
        case(42, "float64", normal(4, 5), normal(5), normal(5, scale=2.0), value(-1.0))]),
    flows("planar_flow: more inputs", MatchesReference, **{**PLANAR, "grad_wrt": [0, 1, 2, 3]}, cases=[
        case(43, "float64", normal(8, 2), normal(2), normal(2, scale=3.0), normal()),
        case(44, "float32", normal(1, 4), normal(4), normal(4), normal())]),
    flows("planar_flow: log-determinant of the Jacobian", Property, property="planar_log_det", max_examples=8),
    flows("planar_flow: device probe", MetaProbe, shapes=[[3, 2], [2], [2]], extra_args=[value(0.5)]),
    flows("radial_flow: values and gradients", MatchesReference, **RADIAL, cases=[
        case(51, "float32", normal(5, 3), normal(3), value(0.7), value(-0.4)),
        case(52, "float64", normal(4, 4), normal(4), value(1.5), value(2.0))]),
    flows("radial_flow: more inputs", MatchesReference, **{**RADIAL, "grad_wrt": [0, 1, 2, 3]}, cases=[
        case(53, "float64", normal(6, 1), normal(1), uniform(low=0.5, high=1.0), uniform(low=-0.4, high=0.4)),
        case(54, "float32", normal(3, 6), normal(6), uniform(low=0.5, high=1.0), uniform(low=0.5, high=2.0))]),
    flows("radial_flow: log-determinant of the Jacobian", Property, property="radial_log_det", max_examples=8),
    flows("radial_flow: device probe", MetaProbe, shapes=[[3, 2], [2]], extra_args=[value(1.0), value(0.5)]),
    flows("radial_flow_inverse: values and gradients", MatchesReference, **INVERSE, cases=[
        case(61, "float32", normal(5, 3, scale=2.0), normal(3), value(1.0), value(-0.6)),
        case(62, "float64", normal(4, 2), normal(2), value(0.5), value(3.0))]),
    flows("radial_flow_inverse: more inputs", MatchesReference, **INVERSE, cases=[
        case(63, "float64", normal(6, 5, scale=3.0), normal(5), value(2.0), value(-1.9)),
        case(64, "float32", normal(2, 1), normal(1), value(0.3), value(0.0))]),
    flows("radial_flow_inverse: device probe", MetaProbe, shapes=[[3, 2], [2]], extra_args=[value(1.0), value(0.5)]),
    flows("sigmoidal_flow: values and gradients", MatchesReference, **{**SIGMOIDAL, "grad_wrt": [0, 1, 2, 3]}, cases=[
        case(71, "float32", *sigmoidal_args(normal(7, scale=2.0))),
        case(72, "float64", *sigmoidal_args(normal(5, scale=3.0), n=1))]),
    flows("sigmoidal_flow: stable for |z| up to 40 in float32", MatchesReference, **SIGMOIDAL, stability=(
        "log(p / (1 - p)) loses all precision as p -> 1: compute the logit in log space, log p - log(1 - p), "
        "each a logsumexp of log w + logsigmoid(t) or logsigmoid(-t)"), cases=[
        case(73, "float32", *sigmoidal_args({"tensor": [-40.0, -25.0, -10.0, 0.0, 10.0, 25.0, 40.0]})),
        case(74, "float32", *sigmoidal_args({"tensor": [-40.0, 40.0, 33.0]}, n=3))]),
    flows("sigmoidal_flow: device probe", MetaProbe, shapes=[[5], [3], [3], [3]]),
    flows("flow_log_prob: values and gradients", MatchesReference, **LOG_PROB, cases=[
        case(81, "float32", normal(6, 3), layers("affine", "linear", "leaky_relu", "flip", "linear", dim=3)),
        case(82, "float64", normal(4, 2), layers("linear", "affine", dim=2))]),
    flows("flow_log_prob: more inputs", MatchesReference, **LOG_PROB, cases=[
        case(83, "float64", normal(1, 5), layers("leaky_relu", "affine", "flip", dim=5)),
        case(84, "float32", normal(9, 1), layers("affine", dim=1))]),
    flows("flow_log_prob: integrates to 1", Property, property="flow_density_integrates_to_one", max_examples=6),
    flows("flow_log_prob: device probe", MetaProbe, shapes=[[4, 3]], extra_args=[layers("affine", "flip", dim=3)]),
    flows("reverse_kl_loss: values and gradients", MatchesReference, **REVERSE_KL, cases=[
        case(91, "float32", normal(8, 2), layers("affine", "linear", "leaky_relu", dim=2),
             {"module": "mixture", "dim": 2, "components": 3}),
        case(92, "float64", normal(5, 3), layers("linear", "flip", dim=3), {"module": "normal", "dim": 3})]),
    flows("reverse_kl_loss: more inputs", MatchesReference, **REVERSE_KL, cases=[
        case(93, "float64", normal(1, 4), layers("affine", dim=4), {"module": "mixture", "dim": 4, "components": 2}),
        case(94, "float32", normal(6, 2), layers("leaky_relu", "linear", "affine", dim=2), {"module": "normal", "dim": 2})]),
    flows("reverse_kl_loss: device probe", MetaProbe, shapes=[[4, 2]],
          extra_args=[layers("affine", "flip", dim=2), {"module": "normal", "dim": 2}]),

    # ---- answers.py
    answer("receptive_fields: well-formed", GridFormat, **GRIDS),
    answer("receptive_fields: answer key", GridKey, **GRIDS),
    answer("kl_direction: well-formed", ChoiceTableFormat, **KL_TABLE),
    answer("kl_direction: answer key", ChoiceTable, **KL_KEY),
    answer("relu_collision: g(z1) = g(z2) for two distinct z", Property, property="relu_collision_collides",
           returns="value", proves_values=True, max_examples=20),
    answer("radial_beta_bound: a sympy expression of the arguments", SymbolicForm, symbols={"alpha": "positive"}),
    answer("radial_beta_bound: equals the bound", SymbolicEquals, symbols={"alpha": "positive"}),
    answer("radial_r: a sympy expression of the arguments", SymbolicForm, symbols=R_SYMBOLS),
    answer("radial_r: equals the non-negative root", SymbolicEquals, symbols=R_SYMBOLS),
]
