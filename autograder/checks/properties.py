"""Property checks: hypothesis draws inputs in the judge, the student's function answers through
the worker, and the judge decides whether the property holds. Derandomized, so a submission
gets the same examples, the same shrunk counterexample and the same verdict every time.
Shrinking is bounded (SHRINK_EXAMPLES): a wrong submission costs a few calls more than a right one,
not hundreds, and is shown the smallest counterexample found by then.

The properties themselves live next to their assignment, in a file PROPERTIES_FILE holding a dict
PROPERTIES (name -> function(call, data)): `assignments/ASSIGNMENT/properties.py` is part of what
students read and run in their local check; `solutions/ASSIGNMENT/properties.py`, optional, holds
properties that must stay hidden, and a check using one of those can only be hidden. The helpers
below (expect, tensor, close, scalar) are the toolkit those files share."""
from __future__ import annotations

import importlib.util
from pathlib import Path

from .. import wire
from ..runner import GraderError, StudentError
from . import Check, Verdict


# examples tried after the first failing one (shrinking it): most are small by then
SHRINK_EXAMPLES = 20


class PropertyFailed(AssertionError):
    """A property does not hold; the message names the input and what went wrong."""


class _Abort(BaseException):
    """Raised through hypothesis, which catches only Exception, to stop at once."""


PROPERTIES_FILE = "properties.py"


def load_library(path: Path) -> dict:
    """The PROPERTIES of a properties file (name -> function), or {} where there is no such file."""
    path = Path(path)
    if not path.is_file():
        return {}
    spec = importlib.util.spec_from_file_location(f"_properties_{path.parent.parent.name}_{path.parent.name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return dict(module.PROPERTIES)


def bind(checks, public: dict, hidden: dict, where: str, strict: bool = True) -> None:
    """Give each property check its function: from the public library, or the hidden one (which
    makes the check hidden-only). A property that neither holds is an error naming `where`, or,
    unless strict (a student's local check), a failure of that check alone."""
    both = set(public) & set(hidden)
    if both:
        raise ValueError(f"{where}: {', '.join(sorted(both))} defined both in assignments/ and in solutions/")
    for check in checks:
        if isinstance(check, Property):
            name = check.params["property"]
            if name not in public and name not in hidden:
                if not strict:
                    continue
                raise ValueError(f"{where}: no property {name!r} (used by {check.name!r}) in {PROPERTIES_FILE}")
            check.function_of_property = public.get(name) or hidden[name]
            check.secret = name in hidden


# ---------------------------------------------------------------- the properties' toolkit

def expect(condition, message, *args, **kwargs):
    """Fail the property with `message`, and the inputs (args, kwargs) when given."""
    if not condition:
        raise PropertyFailed(f"{message}\n  on {describe(args, kwargs)}" if args or kwargs else message)


def tensor(data, shape, low, high, dtype="float64"):
    """A float tensor of `shape` with elements drawn by hypothesis in [low, high]."""
    import numpy as np
    import torch
    from hypothesis import strategies as st
    from hypothesis.extra.numpy import arrays

    floats = st.floats(low, high, allow_nan=False, width=64)
    array = data.draw(arrays(np.float64, shape, elements=floats))
    return torch.from_numpy(array).to(getattr(torch, dtype))


def close(a, b, rtol=1e-9) -> bool:
    return abs(float(a) - float(b)) <= rtol * max(1.0, abs(float(b)))


def scalar(value, function, *args):
    """value, after failing the property unless it is 0-d."""
    expect(value.dim() == 0, f"{function} must return a scalar, got shape {tuple(value.shape)}", *args)
    return value


class Property(Check):
    """params: "property" (a name in the assignment's PROPERTIES), "max_examples", and, for answers
    given as sympy expressions, "symbols" ({name: domain}): the function is then called once with
    the symbols, and the property's calls get the answer evaluated at the numbers they pass.
    Otherwise the property's `call(...)` returns a tensor, a list of tensors for a tuple, or with
    "returns": "value" any value the wire carries; `call.jacobian(..., wrt=i)` returns the result
    and the Jacobian of its first tensor with respect to argument i. With "proves_values": true,
    the property compares values that trivial code cannot match (a key or a reference would not
    do: many answers are right), so it counts as a check of values (engine.gate)."""

    kind = "property"
    function_of_property = None   # set by bind(), from the assignment's properties files
    secret = False                # the property lives in solutions/: the check can only be hidden

    @property
    def proves_values(self):
        return bool(self.params.get("proves_values", False))

    def why_not_public(self):
        if self.secret:
            return (f"its property lives in solutions/, which students never get (move "
                    f"{self.params['property']} to assignments/ASSIGNMENT/{PROPERTIES_FILE} to make it public)")
        return super().why_not_public()

    @property
    def computes_sympy(self):
        return "symbols" in self.params

    def run(self, student, prepared, device):
        from hypothesis import HealthCheck, given, settings, strategies as st

        prop = self.function_of_property
        if prop is None:   # only a local check binds loosely (bind): the student's copy lacks it
            return Verdict(False, f"the property {self.params['property']!r} is missing from {PROPERTIES_FILE} in "
                                  "this folder: restore that file from the assignment you were given")
        if "symbols" in self.params:
            call = self._symbolic_call(student)
        else:
            call = self._tensor_call(student)

        smallest = None   # the latest failure: hypothesis only tries examples smaller than the last
        shrinking = 0     # examples tried since the first failure

        @settings(derandomize=True, database=None, deadline=None, print_blob=False,
                  max_examples=self.params.get("max_examples", 25),
                  suppress_health_check=list(HealthCheck))
        @given(st.data())
        def holds(data):
            nonlocal smallest, shrinking
            shrinking += smallest is not None
            try:
                prop(call, data)
            except PropertyFailed as error:
                smallest = error
                stop_if_shrunk_enough()
                raise
            except GraderError:   # the grader's own failure (a dead worker) is not the student's
                raise
            except (TypeError, ValueError, RuntimeError, IndexError, KeyError, AttributeError, ArithmeticError) as error:
                # the judge's arithmetic on the student's results failed: they are not what the
                # property expects (a shape that does not broadcast, a tensor where a number is due)
                raise _Abort(f"your result cannot be checked for this property ({type(error).__name__}: "
                             f"{str(error).splitlines()[0][:200]}): is its shape or type the one asked for?") from None
            stop_if_shrunk_enough()

        def stop_if_shrunk_enough():
            """Called once an example has drawn all its data (hypothesis checks that draws replay
            alike): past the budget, the smallest failure so far is the verdict."""
            if shrinking > SHRINK_EXAMPLES:
                raise _Abort(str(smallest))

        try:
            holds()
        except _Abort as error:
            return Verdict(False, str(error))
        except PropertyFailed as error:
            return Verdict(False, str(error))
        return Verdict(True, "holds on every generated example")

    def _tensor_call(self, student):
        return _Call(self, student)

    def _symbolic_call(self, student):
        from .symbolic import evaluate, make_symbols

        symbols = make_symbols(self.params["symbols"])
        answers = []

        def call(*numbers):
            if not answers:
                try:
                    answers.append(self.call(student, *symbols.values(), symbols=symbols).value)
                except StudentError as error:
                    raise _Abort(str(error)) from None
            values = evaluate(answers[0], dict(zip(symbols.values(), numbers)))
            if isinstance(values, str):
                raise _Abort(f"{self.function}(): {values}")
            return values

        return call


class _Call:
    """The student's function as a property calls it: results as tensors, errors as verdicts."""

    def __init__(self, check, student):
        self.check, self.student = check, student

    def __call__(self, *args, **kwargs):
        return self._result(self._call(args, kwargs).value, args, kwargs)

    def jacobian(self, *args, wrt: int = 0, **kwargs):
        """(result, d first output / d args[wrt]); a result that no gradient reaches fails."""
        result = self._call(args, kwargs, grad_wrt=[wrt], jacobian=True)
        found = (result.grads or [None])[0]
        if found is None or found.tensor is None:
            raise PropertyFailed(f"no gradient of {self.check.function}() reaches its argument {wrt + 1}: the "
                                 "result must be computed with differentiable torch operations (no .detach(), "
                                 f".item(), numpy or no_grad), on {describe(args, kwargs)}")
        return self._result(result.value, args, kwargs), found.tensor

    def _call(self, args, kwargs, **options):
        try:
            return self.check.call(self.student, *args, kwargs=kwargs, **options)
        except StudentError as error:
            # The student's exception already says what broke; shrinking the input by calling
            # again would mostly spend time (and, for a hang or crash, a lot of it).
            raise _Abort(f"{error}\n  on {describe(args, kwargs)}") from None

    def _result(self, value, args, kwargs):
        if self.check.params.get("returns") == "value":
            return value
        items = value if isinstance(value, list) else [value]
        if not items or not all(isinstance(v, wire.TensorInfo) and v.tensor is not None for v in items):
            raise PropertyFailed(f"{self.check.function}() returned {wire.kind_name(value)}, expected "
                                 f"{'tensors' if isinstance(value, list) else 'a tensor'}, on {describe(args, kwargs)}")
        return [v.tensor for v in items] if isinstance(value, list) else value.tensor


def describe(args, kwargs) -> str:
    """A short, readable rendering of the inputs of a failing example."""
    import torch

    def one(a):
        if isinstance(a, torch.Tensor):
            body = str(a.tolist()) if a.numel() <= 12 else f"values in [{a.min():.3g}, {a.max():.3g}]"
            return f"tensor of shape {tuple(a.shape)} {a.dtype}: {body}"
        return repr(a)

    parts = [one(a) for a in args] + [f"{k}={one(v)}" for k, v in kwargs.items()]
    return "input " + "; ".join(parts)
