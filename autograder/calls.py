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


def invoke(fn, args: list, kwargs: dict, seed: int, grad_wrt=(), cotangent_seed: int = 0):
    """Call fn; return (output, grads) where grads[i] is d<output, v>/d args[grad_wrt[i]] or None."""
    import torch

    from . import fake_device

    args = list(args)
    simulated = any(fake_device.on_fake_device(a) for a in [*args, *kwargs.values()])
    with fake_device.simulation(simulated):   # the copies live where the inputs do
        for i in grad_wrt:
            args[i] = args[i].detach().clone().requires_grad_(True)
    seed_everything(seed)
    with meta_friendly(args), fake_device.simulation(simulated):
        output = fn(*args, **kwargs)
    grads = None
    if grad_wrt:
        grads = [None] * len(grad_wrt)
        if isinstance(output, torch.Tensor) and output.requires_grad and output.device.type != "meta":
            inputs = [args[i] for i in grad_wrt]
            found = torch.autograd.grad(output, inputs, cotangent_like(output, cotangent_seed),
                                        allow_unused=True)
            grads = list(found)
    if simulated:   # tensors on the fake device travel as such (wire.TensorInfo)
        output = fake_device.export(output)
    elif isinstance(output, torch.Tensor):
        output = output.detach()
    return output, grads
