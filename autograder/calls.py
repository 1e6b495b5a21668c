"""One call of a graded function, made the same way for the student (in the worker) and for
the reference (in the judge): seeded randomness, inputs on the requested device, and the
vector-Jacobian product of the output with a seeded random cotangent."""
from __future__ import annotations

import random
from contextlib import contextmanager

from . import wire

FAKE_DEVICE = "simulated-cuda"   # the simulated GPU's name on the wire (fake_device); no torch device has it


def materialize(value):
    """Turn decoded call arguments into live objects: tensors on their device, sympy symbols."""
    import torch

    if isinstance(value, wire.TensorInfo):
        if value.device == "meta":
            return torch.empty(value.shape, dtype=getattr(torch, value.dtype), device="meta")
        if value.device == FAKE_DEVICE:   # CPU data posing as a GPU's (fake_device)
            from . import fake_device

            return fake_device.place(value.tensor.clone())
        return value.tensor.to(value.device)
    if isinstance(value, wire.ModuleInfo):   # a network, flow layer or density (modules)
        from . import modules

        return modules.build(value.kind, value.settings, {k: materialize(t) for k, t in value.tensors.items()})
    if isinstance(value, list):
        return [materialize(v) for v in value]
    return value


def decode_arguments(encoded_args: list, encoded_kwargs: dict):
    """Decode call arguments; symbols arrive as {"t": "symbol"} and become sympy Symbols."""
    def one(data):
        if isinstance(data, dict) and data.get("t") == "symbol":
            import sympy

            return sympy.Symbol(str(data["name"]), **{str(k): bool(v) for k, v in data["assumptions"].items()})
        return materialize(wire.decode(data))

    return [one(a) for a in encoded_args], {str(k): one(v) for k, v in encoded_kwargs.items()}


def cotangent_like(output, seed: int):
    """The random cotangent both sides use for the vector-Jacobian product."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    v = torch.randn(tuple(output.shape), generator=generator, dtype=torch.float64)
    return v.to(dtype=output.dtype, device=output.device)


def seed_everything(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


@contextmanager
def meta_friendly(args):
    """Distribution argument validation reads tensor values, which meta tensors lack; turn it off
    while a call runs on meta inputs so that `Normal(mu, std).rsample()` works there too."""
    import torch

    on_meta = any(getattr(a, "device", None) is not None and a.device.type == "meta" for a in args)
    previous = torch.distributions.Distribution._validate_args
    if on_meta:
        torch.distributions.Distribution.set_default_validate_args(False)
    try:
        yield
    finally:
        torch.distributions.Distribution.set_default_validate_args(previous)


MAX_JACOBIAN_ROWS = 4096   # output elements of a Jacobian asked for (one backward pass each)


def invoke(fn, args: list, kwargs: dict, seed: int, grad_wrt=(), cotangent_seed: int = 0, jacobian: bool = False):
    """Call fn; return (output, grads) where grads[i] is d<output, v>/d args[grad_wrt[i]] or None.

    A tuple or list of tensors returned is differentiated as a whole, <output_k, v_k> summed over its
    tensors (v_k seeded with cotangent_seed + 1009 k). The gradient with respect to a network,
    layer or list of them (autograder.modules) is that of all their parameters, flattened and
    concatenated. With jacobian, grads[i] is instead the Jacobian of the first output tensor with
    respect to the tensor args[grad_wrt[i]], of shape output.shape + input.shape."""
    import torch

    from . import fake_device

    args = list(args)
    simulated = any(fake_device.on_fake_device(a) for a in [*args, *kwargs.values()])
    with fake_device.simulation(simulated):   # the copies live where the inputs do
        for i in grad_wrt:
            if isinstance(args[i], torch.Tensor):
                args[i] = args[i].detach().clone().requires_grad_(True)
    seed_everything(seed)
    with meta_friendly(args), fake_device.simulation(simulated):
        output = fn(*args, **kwargs)
    grads = None
    if grad_wrt:
        groups = [leaves(args[i]) for i in grad_wrt]
        outputs = [(k, o) for k, o in enumerate(output if isinstance(output, (tuple, list)) else [output])
                   if isinstance(o, torch.Tensor) and o.requires_grad and o.device.type != "meta"]
        if jacobian:
            grads = [_jacobian(outputs[0][1], group) if outputs and outputs[0][0] == 0 else None for group in groups]
        elif outputs:
            found = torch.autograd.grad([o for _, o in outputs], [t for group in groups for t in group],
                                        [cotangent_like(o, cotangent_seed + 1009 * k) for k, o in outputs],
                                        allow_unused=True)
            grads, at = [], 0
            for i, group in zip(grad_wrt, groups):
                part, at = found[at:at + len(group)], at + len(group)
                grads.append(part[0] if isinstance(args[i], torch.Tensor) else _flat(part, group))
        else:
            grads = [None] * len(grad_wrt)
    if simulated:   # tensors on the fake device travel as such (wire.TensorInfo)
        output = fake_device.export(output)
    elif isinstance(output, torch.Tensor):
        output = output.detach()
    elif isinstance(output, (tuple, list)):
        output = [o.detach() if isinstance(o, torch.Tensor) else o for o in output]
    return output, grads


def leaves(arg) -> list:
    """The tensors a gradient "with respect to arg" is taken of: the tensor itself, or every
    parameter of a network, layer or list of them."""
    import torch

    if isinstance(arg, torch.Tensor):
        return [arg]
    if isinstance(arg, torch.nn.Module):
        return list(arg.parameters())
    if isinstance(arg, (list, tuple)):
        return [t for a in arg for t in leaves(a)]
    raise TypeError(f"cannot differentiate with respect to a {type(arg).__name__}")


def zero_gradient(arg):
    """The gradient with respect to arg where the output does not depend on it."""
    import torch

    if isinstance(arg, torch.Tensor):
        return torch.zeros_like(arg)
    group = leaves(arg)
    return _flat([None] * len(group), group, zeros=True) if group else torch.zeros(0)   # layers without parameters


def _flat(found, group, zeros=False):
    """Parameters' gradients as one vector, zeros for those the output does not depend on; None
    when it depends on none of them."""
    import torch

    if not group or (all(g is None for g in found) and not zeros):
        return None
    parts = [(torch.zeros_like(p) if g is None else g).reshape(-1) for g, p in zip(found, group)]
    return torch.cat([p.to(parts[0].dtype) for p in parts])


def _jacobian(output, group):
    """d output / d input, one backward pass per output element."""
    import torch

    if len(group) != 1 or output.numel() > MAX_JACOBIAN_ROWS:
        return None
    (x,) = group
    rows = []
    for k in range(output.numel()):
        (row,) = torch.autograd.grad(output.reshape(-1)[k], x, retain_graph=True, allow_unused=True)
        rows.append(torch.zeros_like(x) if row is None else row)
    return torch.stack(rows).reshape(*output.shape, *x.shape) if rows else torch.zeros(*output.shape, *x.shape)
