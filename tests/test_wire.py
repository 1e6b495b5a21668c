"""The judge accepts only well-formed data from the worker: no pickle, no eval, whitelists."""
from __future__ import annotations

import os

import pytest
import sympy
import torch

from autograder import wire

X, Y = sympy.Symbol("x", positive=True), sympy.Symbol("y", real=True)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16, torch.int64, torch.bool])
def test_tensors_round_trip_bit_for_bit(dtype):
    t = (torch.randn(3, 0, 2) if dtype != torch.bool else torch.ones(3, 0, 2)).to(dtype)
    u = (torch.randn(5, 3) * 100).to(dtype)
    for original in (t, u, u[:, 1], torch.tensor(2.5).to(dtype)):
        back = wire.decode(wire.encode(original))
        assert back.dtype == str(dtype).removeprefix("torch.") and back.shape == tuple(original.shape)
        assert torch.equal(back.tensor, original.contiguous())


def test_expanded_and_strided_tensors_cross_as_their_values():
    """Autograd may return a gradient that is an expanded view (stride 0), e.g. of shape (1,)."""
    for t in (torch.zeros((), dtype=torch.float64).expand(1), torch.ones(3, 1).expand(3, 4),
              torch.arange(6.0).reshape(2, 3).T):
        assert torch.equal(wire.decode(wire.encode(t)).tensor, t)


def test_sympy_round_trip_rebinds_the_judges_symbols():
    expression = sympy.log(X / 3) - sympy.Rational(1, 2) * Y**2 + 0.25 * sympy.sqrt(X) + sympy.pi * sympy.I
    own = sympy.Symbol("x")  # a student's symbol without assumptions
    back = wire.decode(wire.encode(expression.subs(X, own)), {"x": X, "y": Y})
    assert sympy.simplify(back - expression) == 0 and back.free_symbols == {X, Y}


@pytest.mark.parametrize("data,fragment", [
    ({"t": "tensor", "dtype": "object", "shape": [1], "device": "cpu", "data": ""}, "unsupported dtype"),
    ({"t": "tensor", "dtype": "float32", "shape": [2], "device": "cpu", "data": "AAAA"}, "does not match"),
    ({"t": "tensor", "dtype": "float32", "shape": [2**20, 2**20], "device": "cpu", "data": ""}, "too large"),
    ({"t": "tensor", "dtype": "float32", "shape": [-1], "device": "cpu", "data": ""}, "malformed shape"),
    ({"t": "sympy", "tree": ["Symbol", "z"]}, "not one of the function's arguments"),
    ({"t": "sympy", "tree": ["Fn", "__import__", ["Symbol", "x"]]}, "unsupported function"),
    ({"t": "sympy", "tree": ["Integer", "9" * 5000]}, "malformed integer"),
    ({"t": "sympy", "tree": ["Pow", ["Integer", "10"], ["Integer", "100000000"]]}, "exponent too large"),
    ({"t": "pickle", "data": "gASVAAAA"}, "unknown value kind"),
    ({"t": "py", "v": {"a": 1}}, "malformed plain value"),
])
def test_malformed_or_hostile_data_is_rejected(data, fragment):
    with pytest.raises(wire.WireError, match=fragment):
        wire.decode(data, {"x": X})


def test_elementwise_functions_cross_by_name_and_are_called_like_functions():
    x = torch.tensor([0.5, 2.0], dtype=torch.float64)
    for name, params, expected in [("identity", {}, x), ("log", {}, x.log()), ("softplus", {}, torch.nn.functional.softplus(x)),
                                   ("exp_over", {"tau": 0.5}, (x / 0.5).exp()), ("relu_plus", {"margin": -1}, (x - 1).relu())]:
        back = wire.decode(wire.encode(wire.Elementwise(name, params)))
        assert isinstance(back, wire.Elementwise) and torch.equal(back(x), expected)
    assert repr(wire.Elementwise("exp_over", {"tau": 0.5})) == "exp(x / 0.5)"


@pytest.mark.parametrize("data,fragment", [
    ({"t": "function", "name": "eval", "params": {}}, "unknown elementwise function"),
    ({"t": "function", "name": ["log"], "params": {}}, "unknown elementwise function"),
    ({"t": "function", "name": "exp_over", "params": {}}, "exp_over takes the finite numbers: tau"),
    ({"t": "function", "name": "log", "params": {"tau": 1.0}}, "log takes the finite numbers: none"),
    ({"t": "function", "name": "exp_over", "params": {"tau": "0.5"}}, "finite numbers"),
    ({"t": "function", "name": "exp_over", "params": {"tau": 10**400}}, "finite numbers"),
    ({"t": "function", "name": "relu_plus", "params": {"margin": True}}, "finite numbers"),
    ({"t": "function", "name": "log"}, "malformed function"),
])
def test_unknown_or_malformed_functions_are_rejected(data, fragment):
    with pytest.raises(wire.WireError, match=fragment):
        wire.decode(data)


def rebuilt(module):
    """A described module after a round trip through JSON, as the worker rebuilds it."""
    import json

    from autograder import calls

    return calls.materialize(wire.decode(json.loads(json.dumps(wire.encode(module)))))


@pytest.mark.parametrize("recipe", [
    {"module": "mlp", "sizes": [3, 8, 8, 3], "activation": "relu", "output": "tanh"},
    {"module": "affine", "dim": 3}, {"module": "linear", "dim": 3}, {"module": "flip"},
    {"module": "leaky_relu", "slope": 0.3}, {"module": "normal", "dim": 3},
    {"module": "mixture", "dim": 3, "components": 4}])
def test_networks_layers_and_densities_cross_as_descriptions(recipe):
    from autograder import modules

    module = modules.draw(recipe, "float64", 7, "cpu")
    back = rebuilt(module)
    assert type(back) is type(module) and repr(back) == repr(module)
    x = torch.randn(5, 3, dtype=torch.float64)
    expected, got = module(x), back(x)
    for a, b in zip(expected, got) if isinstance(expected, tuple) else [(expected, got)]:
        assert torch.equal(a, b)
    if module.kind.role == "layer":   # a layer's log-determinant is log|det| of its Jacobian
        jacobian = torch.autograd.functional.jacobian(lambda v: module(v)[0], x[:1])[0, :, 0, :]
        assert torch.allclose(expected[1][0], torch.linalg.slogdet(jacobian).logabsdet)
    if module.kind.role == "density":   # a target density is a constant, not something to train
        assert not any(p.requires_grad for p in back.parameters())


@pytest.mark.parametrize("recipe,shape", [
    ({"module": "time_mlp", "shape": [3], "hidden": [8, 8], "steps": 50}, (5, 3)),
    ({"module": "time_mlp", "shape": [2, 3, 3], "activation": "relu"}, (5, 2, 3, 3)),
    ({"module": "noise_oracle", "shape": [3], "steps": 50}, (5, 3))])
def test_noise_predictors_cross_as_descriptions(recipe, shape):
    """A diffusion model's network is called as model(x_t, t) with integer timesteps, returns x_t's
    shape, and depends on t; the oracle returns the noise that made x_t from its x0."""
    from autograder import modules

    module = modules.draw(recipe, "float64", 7, "cpu")
    back = rebuilt(module)
    x, t = torch.randn(shape, dtype=torch.float64), torch.tensor([0, 3, 49, 7, 7])
    assert back(x, t).shape == x.shape and torch.equal(module(x, t), back(x, t))
    if recipe["module"] == "time_mlp":
        assert not torch.allclose(back(x, t), back(x, t + 1))
        assert all(p.requires_grad for p in back.parameters())
    else:
        alpha_bar = torch.cumprod(1 - module.betas, 0)[t].unsqueeze(-1)
        noise = torch.randn(shape, dtype=torch.float64)
        xt = alpha_bar.sqrt() * module.x0[t] + (1 - alpha_bar).sqrt() * noise
        assert torch.allclose(back(xt, t), noise)
        assert torch.allclose(torch.cat([back(xt[i:i + 1], t[i:i + 1]) for i in range(len(t))]), noise)   # row by row
        assert not any(p.requires_grad for p in back.parameters())


def test_parameters_keep_their_kind_s_order_whatever_the_json_order():
    """Gradients with respect to a network are flattened in parameter order: it must not follow
    the order of keys in a message (a sort_keys dump of the frozen data would reorder them)."""
    from autograder import calls, modules

    data = wire.encode(modules.draw({"module": "mlp", "sizes": [2, 3, 2]}, "float64", 1, "cpu"))
    data["tensors"] = dict(sorted(data["tensors"].items()))   # bias0, bias1, weight0, weight1
    names = [name for name, _ in calls.materialize(wire.decode(data)).named_parameters()]
    assert names == ["weight0", "bias0", "weight1", "bias1"]


def module_data(**changes):
    from autograder import modules

    data = wire.encode(modules.draw({"module": "mlp", "sizes": [2, 4, 2]}, "float32", 1, "cpu"))
    return {**data, **changes}


def time_mlp_data(**changes):
    from autograder import modules

    data = wire.encode(modules.draw({"module": "time_mlp", "shape": [3], "hidden": [8]}, "float32", 1, "cpu"))
    return {**data, **changes}


def oracle_data(**changes):
    from autograder import modules

    data = wire.encode(modules.draw({"module": "noise_oracle", "shape": [3], "steps": 10}, "float64", 1, "cpu"))
    return {**data, **changes}


@pytest.mark.parametrize("data,fragment", [
    (module_data(kind="os.system"), "unknown module kind"),
    (module_data(kind=["mlp"]), "unknown module kind"),
    (module_data(settings={"sizes": [2, 4, 2], "activation": "eval"}), "activation must be one of"),
    (module_data(settings={"sizes": [2, 10**9]}), "an integer in"),
    (module_data(settings={"sizes": [2, 4, 2], "extra": 1}), "takes the settings"),
    (module_data(settings="sizes"), "takes the settings"),
    (module_data(tensors={}), "has the tensors"),
    (module_data(tensors={"weight0": {"t": "tensor", "dtype": "float32", "shape": [3, 3], "device": "cpu", "data": None},
                          "bias0": {}, "weight1": {}, "bias1": {}}), "malformed|unsupported|must be a floating tensor"),
    (time_mlp_data(settings={"shape": [3], "hidden": [8] * 7}), "at most 6 layer widths"),
    (time_mlp_data(settings={"shape": [], "hidden": [8]}), "a list of 1 to 4 sizes"),
    (time_mlp_data(settings={"shape": [3], "steps": 0}), "an integer in"),
    (time_mlp_data(settings={"shape": [4], "hidden": [8]}), "must be a floating tensor of shape"),
    (time_mlp_data(settings={"shape": [64, 64, 64]}), "the number of elements"),
    (oracle_data(settings={"shape": [3], "steps": 5}), "must be a floating tensor of shape"),
    (oracle_data(settings={"shape": [3], "steps": 10**6}), "an integer in"),
    (oracle_data(kind="time_mlp"), "has the tensors"),
])
def test_malformed_module_descriptions_are_rejected(data, fragment):
    with pytest.raises(wire.WireError, match=fragment):
        wire.decode(data)


def test_nested_powers_of_numbers_are_rejected_before_they_are_computed():
    """Pow(Pow(10, 1000), 1000) would make the judge compute 10^(10^6), one more level 10^(10^9)."""
    tree = ["Integer", "10"]
    for _ in range(3):
        tree = ["Pow", tree, ["Integer", "1000"]]
    with pytest.raises(wire.WireError, match="a number too large"):
        wire.decode({"t": "sympy", "tree": tree}, {})
    assert wire.decode(wire.encode(sympy.sqrt(2) ** 3 / X), {"x": X}) == 2 * sympy.sqrt(2) / X


def test_deep_expressions_are_rejected():
    tree = ["Symbol", "x"]
    for _ in range(wire.MAX_SYMPY_DEPTH + 5):
        tree = ["Fn", "exp", tree]
    with pytest.raises(wire.WireError, match="too large"):
        wire.decode({"t": "sympy", "tree": tree}, {"x": X})


def test_framing_round_trip_and_timeout():
    read, write = os.pipe()
    wire.send(write, {"hello": [1, 2.5, "x"]})
    assert wire.receive(read, timeout=1) == {"hello": [1, 2.5, "x"]}
    with pytest.raises(TimeoutError):
        wire.receive(read, timeout=0.1)
    os.close(write)
    with pytest.raises(EOFError):
        wire.receive(read, timeout=1)
