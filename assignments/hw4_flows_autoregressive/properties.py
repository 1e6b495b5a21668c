"""Properties of hw4_flows_autoregressive's functions that every correct answer has: causality of
masked layers, exact log-determinants, round trips, densities that integrate to 1, and two points
where ReLU collides. Part of the specification, run by the public checks (python check.py) and by
grading.

Inputs are drawn from a seed that hypothesis chooses (torch's generator, float64), so each
example is cheap and replays exactly; networks and layers are described modules
(autograder.modules), rebuilt where the function runs."""
from __future__ import annotations

import math

from hypothesis import strategies as st

from autograder.checks.properties import expect


def generator(data):
    """One generator per example, seeded by hypothesis: every tensor of the example is drawn from
    it in turn, so that no two of them coincide (z and z0 drawn alike would put r = 0)."""
    import torch

    return torch.Generator().manual_seed(data.draw(st.integers(0, 2**31 - 1)))


def normal(rng, *shape, scale=1.0):
    import torch

    return scale * torch.randn(shape, generator=rng, dtype=torch.float64)


def module(rng, **recipe):
    import torch

    from autograder import modules

    return modules.draw(recipe, "float64", int(torch.randint(2**31 - 1, (), generator=rng)), "cpu")


# ---------------------------------------------------------------- masked layers

def masked_conv_is_causal(call, data):
    """dy[n, :, i, j] / dx[n', :, i', j'] is zero for another example n' and, in raster order,
    for (i', j') after (i, j), or at (i, j) too for a type A mask."""
    import torch

    k, mask_type = data.draw(st.sampled_from([3, 5])), data.draw(st.sampled_from("AB"))
    c_in, c_out = data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2))
    h, w = data.draw(st.integers(2, 5)), data.draw(st.integers(2, 5))
    rng = generator(data)
    x, weight, bias = normal(rng, 2, c_in, h, w), normal(rng, c_out, c_in, k, k), normal(rng, c_out)
    y, jacobian = call.jacobian(x, weight, bias, mask_type, wrt=0)
    expect(tuple(y.shape) == (2, c_out, h, w), f"the output has shape {tuple(y.shape)}, expected {(2, c_out, h, w)}",
           x, weight, bias, mask_type)
    order = torch.arange(h * w).reshape(h, w)
    out_order = order.reshape(1, 1, h, w, 1, 1, 1, 1)
    in_order = order.reshape(1, 1, 1, 1, 1, 1, h, w)
    same = torch.eye(2, dtype=torch.bool).reshape(2, 1, 1, 1, 2, 1, 1, 1)
    forbidden = ~same | (in_order >= out_order if mask_type == "A" else in_order > out_order)
    leak = jacobian.abs() * forbidden.expand_as(jacobian)
    if leak.max() > 1e-9 * max(1.0, jacobian.abs().max().item()):
        n, _, i, j, n2, _, i2, j2 = (int(v) for v in torch.nonzero(leak > 0)[0])
        where = "another example of the batch" if n != n2 else (
            "itself" if (i, j) == (i2, j2) else f"the later pixel ({i2}, {j2})")
        expect(False, f"with a type {mask_type} mask the output at pixel ({i}, {j}) depends on {where} "
                      "(by autograd): the mask lets the future through (is it transposed, flipped, of the other "
                      "type, or applied to something other than the weights?)", x, weight, bias, mask_type)


def made_is_autoregressive(call, data):
    """An MLP masked with the returned masks has a Jacobian that is zero wherever output d would
    see an input of the same or a later degree (computed in the grader, on random weights)."""
    import torch

    d = data.draw(st.integers(2, 6))
    widths = data.draw(st.lists(st.integers(2, 8), min_size=0, max_size=2))
    generator = torch.Generator().manual_seed(data.draw(st.integers(0, 2**31 - 1)))
    in_degrees = torch.randperm(d, generator=generator) + 1
    hidden = [torch.randint(1, d, (n,), generator=generator) for n in widths]
    masks = call(in_degrees, hidden)
    sizes = [d, *widths, d]
    expect(isinstance(masks, list) and len(masks) == len(sizes) - 1,
           f"expected a list of {len(sizes) - 1} masks (one per layer)", in_degrees, hidden)
    for layer, (mask, fan_in, fan_out) in enumerate(zip(masks, sizes, sizes[1:]), 1):
        expect(tuple(mask.shape) == (fan_out, fan_in), f"mask {layer} has shape {tuple(mask.shape)}, expected "
               f"{(fan_out, fan_in)}: nn.Linear's layout is [out, in] (is it transposed?)", in_degrees, hidden)
    x = torch.randn(d, dtype=torch.float64, generator=generator)

    def network(v):
        for layer, mask in enumerate(masks):
            weight = torch.rand(mask.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(layer)) + 0.5
            v = (weight * mask.double()) @ v
            v = torch.tanh(v) if layer < len(masks) - 1 else v
        return v

    jacobian = torch.autograd.functional.jacobian(network, x)
    forbidden = in_degrees.reshape(d, 1) <= in_degrees.reshape(1, d)
    bad = torch.nonzero((jacobian.abs() > 0) & forbidden)
    if len(bad):
        out, inp = (int(v) for v in bad[0])
        expect(False, f"output {out} (degree {int(in_degrees[out])}) depends on input {inp} (degree "
                      f"{int(in_degrees[inp])}): an output may only see inputs of a smaller degree ('>=' where '>' "
                      "is due in the output layer, or a mask transposed?)", in_degrees, hidden)


# ---------------------------------------------------------------- flow layers

def expect_log_det(call, args, kwargs, what):
    """The layer's log-determinant equals log|det| of its Jacobian, example by example."""
    import torch

    (_, log_det), jacobian = call.jacobian(*args, wrt=0, **kwargs)
    b, d = args[0].shape
    expect(tuple(log_det.shape) == (b,), f"the log-determinant has shape {tuple(log_det.shape)}, expected ({b},): one "
           "per example", *args, **kwargs)
    blocks = torch.stack([jacobian[i, :, i, :] for i in range(b)])
    exact = torch.linalg.slogdet(blocks).logabsdet
    expect(torch.allclose(log_det.double(), exact, rtol=1e-6, atol=1e-8),
           f"{what}: the log-determinant is {log_det.tolist()}, but log|det| of the Jacobian of the output "
           f"(by autograd) is {[round(v, 6) for v in exact.tolist()]}", *args, **kwargs)


def random_mask(data, d):
    import torch

    cut = data.draw(st.integers(1, d - 1))
    mask = torch.zeros(d, dtype=torch.float64)
    mask[torch.randperm(d, generator=torch.Generator().manual_seed(data.draw(st.integers(0, 99))))[:cut]] = 1
    return mask


def coupling_log_det(call, data):
    d, b = data.draw(st.integers(2, 5)), data.draw(st.integers(1, 4))
    rng = generator(data)
    x, mask = normal(rng, b, d), random_mask(data, d)
    nets = [module(rng, module="mlp", sizes=[d, 8, d], scale=0.8) for _ in range(2)]
    reverse = data.draw(st.booleans())
    expect_log_det(call, [x, mask, *nets], {"reverse": reverse}, f"affine_coupling(reverse={reverse})")


def coupling_round_trip(call, data):
    import torch

    d, b = data.draw(st.integers(2, 5)), data.draw(st.integers(1, 4))
    rng = generator(data)
    x, mask = normal(rng, b, d), random_mask(data, d)
    nets = [module(rng, module="mlp", sizes=[d, 8, d], scale=0.8) for _ in range(2)]
    y, log_det = call(x, mask, *nets)
    back, back_log_det = call(y, mask, *nets, reverse=True)
    expect(torch.allclose(back, x, rtol=1e-6, atol=1e-8), "reverse=True does not undo the forward map: "
           f"x = {x.tolist()}, but the inverse of its image is {back.tolist()} (undo the shift, then the scale)",
           x, mask, *nets)
    expect(torch.allclose(back_log_det, -log_det, rtol=1e-6, atol=1e-8), "the inverse's log-determinant must be "
           f"minus the forward one: {back_log_det.tolist()} against {(-log_det).tolist()}", x, mask, *nets)


def planar_log_det(call, data):
    d, b = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 4))
    rng = generator(data)
    z, w, u = normal(rng, b, d), normal(rng, d), normal(rng, d, scale=2.0)
    expect_log_det(call, [z, w, u, data.draw(st.floats(-2, 2))], {}, "planar_flow")


def radial_log_det(call, data):
    d, b = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 4))
    rng = generator(data)
    z, z0 = normal(rng, b, d), normal(rng, d)
    alpha = data.draw(st.floats(0.1, 3))
    beta = data.draw(st.floats(0.0, 3.0))   # beta >= 0 keeps the flow invertible, whatever alpha
    expect_log_det(call, [z, z0, alpha, beta], {}, "radial_flow")


def flow_density_integrates_to_one(call, data):
    """log p of a 2-D flow, exponentiated and summed over a grid that holds all but about 1e-7 of its
    mass, is 1 (a sign error in the log-determinants or a missing constant is far from it).

    The grid follows from how much the inverse layers (x -> u) stretch distances, between low and
    high: |x| > R maps to |u - u(0)| > low R, so R = (6 + |u(0)|) / low leaves out P(|U| > 6) of
    the mass; a spacing of 1 / (12 high) resolves the density's finest features."""
    import torch

    kinds = data.draw(st.lists(st.sampled_from(["affine", "linear", "leaky_relu", "flip"]), min_size=1, max_size=3))
    rng = generator(data)
    layers = [module(rng, module=k, dim=2, scale=0.3) if k in ("affine", "linear") else
              module(rng, module=k, slope=data.draw(st.floats(0.7, 1.4))) if k == "leaky_relu" else
              module(rng, module=k) for k in kinds]
    low = math.prod(layer.stretch()[0] for layer in layers)
    high = math.prod(layer.stretch()[1] for layer in layers)
    u0 = torch.zeros(1, 2, dtype=torch.float64)
    with torch.no_grad():
        for layer in layers:   # the grader's own layers, to size the grid
            u0 = layer(u0)[0]
    limit = (6 + float(u0.norm())) / low
    n = min(801, 2 * math.ceil(12 * limit * high) + 1)
    axis = torch.linspace(-limit, limit, n, dtype=torch.float64)
    grid = torch.cartesian_prod(axis, axis)
    log_p = call(grid, layers)
    expect(tuple(log_p.shape) == (n * n,), f"the result has shape {tuple(log_p.shape)}, expected ({n * n},): one "
           "log-density per point", "a grid of points", layers)
    mass = float(log_p.double().exp().sum()) * (axis[1] - axis[0]).item() ** 2
    expect(abs(mass - 1) < 0.02, f"exp(log p) sums to {mass:.4g} over a grid covering [-{limit:.3g}, {limit:.3g}]^2 "
           "(all but about 1e-7 of the mass), not 1: is a log-determinant's sign wrong, or a constant missing?",
           "a grid of points", layers)


# ---------------------------------------------------------------- answers

def _exact(value):
    """A number the student returned, as an exact fraction (None if it is not a finite number)."""
    from fractions import Fraction

    from autograder import wire

    if isinstance(value, wire.TensorInfo) and value.shape == () and value.tensor is not None:
        value = value.tensor.item()   # a 0-d tensor holds a number too
    if type(value) in (int, float):
        return Fraction(value) if math.isfinite(value) else None
    try:
        import sympy

        if isinstance(value, sympy.Rational):
            return Fraction(int(value.p), int(value.q))
        if isinstance(value, sympy.Float) and value.is_finite:
            return Fraction(float(value))
    except ImportError:
        pass
    return None


def relu_collision_collides(call, data):
    """Two distinct numbers with equal g(z) = a relu(b z + c), g evaluated exactly (in fractions)."""
    from fractions import Fraction

    # no tiny b: then edge +- 1 rounds to edge in floats, and a right answer collapses to one point
    number = st.sampled_from([0, 0, 1, -1, 2, -0.5]) | st.integers(-9, 9) | st.floats(-5, 5, width=32).filter(
        lambda v: v == 0 or abs(v) >= 1e-3)
    a, b, c = data.draw(number), data.draw(number), data.draw(number)
    answer = call(a, b, c)
    where = f"for a = {a}, b = {b}, c = {c}"
    expect(isinstance(answer, list) and len(answer) == 2, f"relu_collision() must return two numbers [z1, z2] {where}, "
           f"got {str(answer)[:60]}")
    z1, z2 = (_exact(z) for z in answer)
    expect(z1 is not None and z2 is not None, f"z1 and z2 must be finite numbers {where}, got {answer}")
    expect(z1 != z2, f"z1 and z2 must be distinct {where}, got {answer}")

    def g(z):
        return Fraction(a) * max(Fraction(0), Fraction(b) * z + Fraction(c))

    shown = ", ".join(f"{float(z):.6g}" if abs(z) < 1e300 else "a huge number" for z in (z1, z2))
    expect(g(z1) == g(z2), f"g(z1) and g(z2) differ {where} (z1, z2 = {shown}): where is relu flat, and what "
           "if b = 0?")


PROPERTIES = {f.__name__: f for f in (masked_conv_is_causal, made_is_autoregressive, coupling_log_det,
                                      coupling_round_trip, planar_log_det, radial_log_det,
                                      flow_density_integrates_to_one, relu_collision_collides)}
