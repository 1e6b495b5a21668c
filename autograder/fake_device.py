"""A simulated GPU for the device probe on a grader without one (checks.numeric.MetaProbe).

The probe runs a student's function on `meta` tensors, which have a device but no data. A function
that reads values (`.tolist()`, `.item()`, `.cpu().numpy()`) cannot run there. This module runs it on
real CPU data that pretends to live on `DEVICE` (cuda:0), in the worker:

- a tensor "on the fake device" is an ordinary CPU tensor carrying a tag; while `Simulation` (a
  TorchFunctionMode) is active, its `.device` is cuda:0, `.is_cuda` is True, `.get_device()` 0;
- a tensor created with `device=x.device` (or moved with `.to(x.device)`, `.cuda()`, `.to(x)`) is
  made on the CPU and tagged; `.cpu()`, `.to("cpu")` give an untagged one; `.tolist()`, `.item()`
  and `.numpy()` read the CPU data;
- an operation's result is tagged when one of its tensors is; an operation that mixes a tagged
  tensor with an untagged CPU tensor of one or more dimensions raises `DeviceMismatch`, as CUDA
  would (a CPU tensor of 0 dimensions mixes with CUDA tensors, there as here).

It is conservative: operations that accept tensors on other devices on CUDA (indexing, `copy_`,
`to`, `type_as`, `new_*`, the `*_as` shape functions, autograd) never raise, and nothing is checked
inside autograd's backward pass. Anything it cannot simulate raises the error it raises, which the
probe takes as inconclusive; only `DeviceMismatch` is a verdict.

On the wire, tensors on the fake device travel as `wire.TensorInfo` with the device `WIRE_NAME`.
"""
from __future__ import annotations

from contextlib import nullcontext

import torch
from torch.overrides import TorchFunctionMode

DEVICE = torch.device("cuda", 0)     # what the student's code sees
from .calls import FAKE_DEVICE as WIRE_NAME   # the device named on the wire; no torch device has it
_TAG = "_dgm_on_fake_device"
Tensor = torch.Tensor

# functions whose result is on the CPU unless a device is asked for, whatever tensors they get
FACTORIES = {torch.zeros, torch.ones, torch.empty, torch.full, torch.rand, torch.randn, torch.randint,
             torch.randperm, torch.arange, torch.range, torch.linspace, torch.logspace, torch.eye,
             torch.tensor, torch.scalar_tensor, torch.empty_strided, torch.tril_indices,
             torch.triu_indices, torch.from_numpy, torch.frombuffer}
# like FACTORIES, but a tensor given as data keeps its device (no copy)
CONVERTERS = {torch.as_tensor, torch.asarray}
# functions whose result is on the device of their first tensor, and which accept other tensors
# on any device (indices, sources, shapes) on CUDA too
ON_SELF = {Tensor.__getitem__, Tensor.__setitem__, Tensor.copy_, Tensor.index_put_, Tensor.index_put,
           Tensor.new_tensor, Tensor.new_zeros, Tensor.new_ones, Tensor.new_empty, Tensor.new_full,
           Tensor.expand_as, Tensor.view_as, Tensor.reshape_as, Tensor.requires_grad_}
# functions that take tensors on several devices on CUDA too; their result is tagged like any other
UNCHECKED = {torch.autograd.grad, torch.autograd.backward, Tensor.backward, Tensor.to, Tensor.type_as,
             torch._has_compatible_shallow_copy_type}
NOT_CHECKED = FACTORIES | CONVERTERS | ON_SELF | UNCHECKED


class DeviceMismatch(RuntimeError):
    """What CUDA raises for an operation on tensors of two devices, raised by the simulation."""


class NotSimulated(RuntimeError):
    """The function made tensors that the simulation could not follow (torch.func's transforms):
    where they live is unknown, so the simulation cannot decide."""


def on_fake_device(value) -> bool:
    """Whether `value` is a tensor on the fake device."""
    return isinstance(value, Tensor) and getattr(value, _TAG, False) is True


def place(tensor, fake: bool = True):
    """Tag (or untag) `tensor` as living on the fake device; returns it."""
    setattr(tensor, _TAG, fake)
    return tensor


def simulation(active: bool = True):
    """A context that simulates the fake device (or, if not active, does nothing)."""
    return Simulation() if active else nullcontext()


def export(value):
    """The result of a call, ready for the wire: tensors on the fake device become TensorInfos
    naming WIRE_NAME (detached); other tensors are detached; containers are walked."""
    from . import wire

    if isinstance(value, Tensor):
        plain = value.detach().as_subclass(Tensor)
        if on_fake_device(value):
            return wire.TensorInfo(plain, str(plain.dtype).removeprefix("torch."), tuple(plain.shape), WIRE_NAME)
        return plain
    if type(value) in (list, tuple):
        return type(value)(export(v) for v in value)
    return value


def _tensors(value, depth: int = 0):
    """The tensors in a call's arguments (in lists, tuples and dicts too)."""
    if isinstance(value, Tensor):
        yield value
    elif depth < 4 and isinstance(value, (list, tuple)):
        for v in value:
            yield from _tensors(v, depth + 1)
    elif depth < 4 and isinstance(value, dict):
        for v in value.values():
            yield from _tensors(v, depth + 1)


def _kind(device) -> str | None:
    """"fake" for the fake device, "cpu", or None for anything else (left to torch)."""
    if isinstance(device, Tensor):
        return "fake" if on_fake_device(device) else "cpu" if device.device.type == "cpu" else None
    if isinstance(device, int) and not isinstance(device, bool):
        return "fake"   # a bare index means a CUDA device
    if isinstance(device, (str, torch.device)):
        try:
            device = torch.device(device)
        except (RuntimeError, ValueError, TypeError):
            return None
        return "fake" if device.type == DEVICE.type else "cpu" if device.type == "cpu" else None
    return None


def _requested(func, args, kwargs):
    """The device a call asks for ("fake", "cpu", None: none asked for, "other": left to torch),
    with the fake device replaced by the CPU in its arguments."""
    if "device" in kwargs and kwargs["device"] is not None:
        kind = _kind(kwargs["device"])
        if kind == "fake":
            kwargs["device"] = "cpu"
        return kind or "other", args
    if func is Tensor.cuda:
        return "fake", args
    if func is Tensor.cpu:
        return "cpu", args
    if func in (Tensor.to, Tensor.type_as):
        for i, a in enumerate(args[1:], 1):
            if isinstance(a, (str, torch.device, Tensor)) or (type(a) is int):
                kind = _kind(a)
                if kind == "fake" and not isinstance(a, Tensor):
                    args = (*args[:i], "cpu", *args[i + 1:])
                return kind or "other", args
    return None, args


def _check_same_device(func, tensors) -> None:
    """Raise DeviceMismatch where CUDA would: a tensor on the fake device together with a CPU
    tensor of one or more dimensions."""
    if not any(on_fake_device(t) for t in tensors):
        return
    for t in tensors:
        if not on_fake_device(t) and t.device.type == "cpu" and t.dim() > 0:
            name = getattr(func, "__name__", str(func))
            raise DeviceMismatch(
                f"Expected all tensors to be on the same device, but found at least two devices, "
                f"{DEVICE} and cpu! (in {name}: a tensor of shape {tuple(t.shape)} is on the CPU; "
                "this grader simulates a GPU)")


def _functorch(t) -> bool:
    """torch.func's wrappers are new tensors made without this module: their device is unknown."""
    try:
        return bool(torch._C._functorch.is_functorch_wrapped_tensor(t))
    except (AttributeError, RuntimeError):
        return False


def _result_on_fake(func, args, kwargs, requested, tensors) -> bool | None:
    """Whether the result lives on the fake device (None: leave it as torch made it)."""
    if requested == "fake":
        return True
    if requested in ("cpu", "other"):
        return False if requested == "cpu" else None
    if func in FACTORIES:
        return False
    if func in CONVERTERS:
        return on_fake_device(args[0]) if args and isinstance(args[0], Tensor) else False
    if func in ON_SELF:
        return on_fake_device(args[0]) if args else False
    return any(on_fake_device(t) for t in tensors)


def _place_result(out, fake: bool | None, inputs):
    """Tag the tensors of a result; an input handed back as it is (`x.cpu()` of a CPU tensor) is
    replaced by a view, so that the input keeps its own device."""
    if fake is None:
        return out
    if isinstance(out, Tensor):
        if any(out is t for t in inputs) and on_fake_device(out) != fake:
            with torch._C.DisableTorchFunction():
                out = out.view_as(out)
        return place(out, fake) if on_fake_device(out) != fake else out
    if isinstance(out, (list, tuple)):   # tuples, lists and torch's named tuples (max, sort, ...)
        for t in out:
            if isinstance(t, Tensor) and not any(t is i for i in inputs):
                place(t, fake)
    return out


GETTERS = {"device": lambda t: DEVICE, "is_cuda": lambda t: True, "is_cpu": lambda t: False}


class Simulation(TorchFunctionMode):
    """While active, tensors tagged by `place` live on the fake device (see the module's doc).
    Leaving it raises NotSimulated if the function made tensors it could not follow."""

    def __init__(self):
        super().__init__()
        self.lost = None   # why the simulation cannot decide, if it cannot

    def __exit__(self, kind, error, traceback):
        super().__exit__(kind, error, traceback)
        if kind is None and self.lost:
            raise NotSimulated(self.lost)

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = dict(kwargs or {})
        first = args[0] if args and isinstance(args[0], Tensor) else None
        getter = _getter(func)
        if getter is not None and on_fake_device(first):
            return GETTERS[getter](first)
        if func is Tensor.get_device and on_fake_device(first):
            return DEVICE.index
        if func in (Tensor.numpy, Tensor.__array__) and on_fake_device(first):
            raise DeviceMismatch(f"can't convert {DEVICE} device type tensor to numpy. Use Tensor.cpu() "
                                 "to copy the tensor to host memory first.")
        requested, args = _requested(func, args, kwargs)
        tensors = list(_tensors(args)) + list(_tensors(kwargs))
        if any(_functorch(t) for t in tensors):
            self.lost = "torch.func transforms make tensors that the simulated GPU cannot follow"
        out = args[0] if func is Tensor.cuda else func(*args, **kwargs)
        if (requested is None and func not in NOT_CHECKED and not self.lost and _holds_tensor(out)
                and torch._C._current_autograd_node() is None):   # inside backward: autograd's own tensors
            _check_same_device(func, tensors)
        if func is Tensor.__iter__:   # an iterator over rows: rows live where the tensor does
            return iter(_place_result(list(out), on_fake_device(first), ()))
        if _setter(func) == "data" and first is not None and len(args) > 1:
            place(first, on_fake_device(args[1]))   # Module.to() swaps its parameters' data
            return out
        return _place_result(out, _result_on_fake(func, args, kwargs, requested, tensors), tensors)


def _holds_tensor(out) -> bool:
    """Whether a result is or holds a tensor (functions that answer a bool or a size never raise)."""
    return isinstance(out, Tensor) or (isinstance(out, (list, tuple)) and any(isinstance(t, Tensor) for t in out))


def _getter(func) -> str | None:
    """The name of a Tensor property that `func` reads (`Tensor.device.__get__`), if any."""
    owner = getattr(func, "__self__", None)
    if getattr(func, "__name__", None) == "__get__" and getattr(owner, "__objclass__", None) is torch._C.TensorBase:
        name = getattr(owner, "__name__", None)
        return name if name in GETTERS else None
    return None


def _setter(func) -> str | None:
    owner = getattr(func, "__self__", None)
    if getattr(func, "__name__", None) == "__set__" and getattr(owner, "__objclass__", None) is torch._C.TensorBase:
        return getattr(owner, "__name__", None)
    return None
