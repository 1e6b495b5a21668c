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

import difflib
import functools
from pathlib import Path

from typing import Literal

from pydantic import Field

from .. import wire
from ..runner import GraderError, StudentError
from . import Check, Verdict, params


# examples tried after the first failing one (shrinking it): most are small by then
SHRINK_EXAMPLES = 20


class PropertyFailed(AssertionError):
    """A property does not hold; the message names the input and what went wrong."""


class _Abort(BaseException):
    """Raised through hypothesis, which catches only Exception, to stop at once."""


PROPERTIES_FILE = "properties.py"


def load_library(path: Path) -> dict:
    """The PROPERTIES of a properties file (name -> function), or {} where there is no such file."""
    from ..authored import load_module, shown

    path = Path(path)
    if not path.is_file():
        return {}
    module = load_module(path, f"_properties_{path.parent.parent.name}_{path.parent.name}")
    library = getattr(module, "PROPERTIES", None)
    if not isinstance(library, dict) or not all(callable(f) for f in library.values()):
        raise params.AuthoringError(f"{shown(path)}: PROPERTIES must be a dict of property functions by name")
    return dict(library)


def bind(checks, public: dict, hidden: dict, where: str, strict: bool = True) -> None:
    """Give each property check its function: from the public library, or the hidden one (which
    makes the check hidden-only). A property that neither holds is an error naming `where`, or,
    unless strict (a student's local check), a failure of that check alone."""
    assignment = Path(where).parent.name
    both = set(public) & set(hidden)
    if both:
        raise params.AuthoringError(f"{where}: {', '.join(sorted(both))} defined in both "
                                    f"assignments/{assignment}/{PROPERTIES_FILE} and solutions/{assignment}/{PROPERTIES_FILE}")
    for check in checks:
        if isinstance(check, Property):
            name = check.settings.property
            if name not in public and name not in hidden:
                if not strict:
                    continue
                guess = difflib.get_close_matches(name, [*public, *hidden], n=1)
                raise params.AuthoringError(
                    f"{check.located(where)}: no property {name!r} in assignments/{assignment}/{PROPERTIES_FILE} "
                    f"(public) or solutions/{assignment}/{PROPERTIES_FILE} (hidden)"
                    + (f"; did you mean {guess[0]!r}?" if guess else ""))
            check.function_of_property = public.get(name) or hidden[name]
            check.secret = name in hidden


@functools.cache
def warm_up() -> None:
    """Hypothesis's one-time set-up (a full garbage collection as it registers its generator: a
    fifth of a second next to torch), done once per process on a test of nothing, so that the first
    property check does not pay for it."""
    from hypothesis import given, settings, strategies as st

    @settings(database=None, derandomize=True, max_examples=1, deadline=None)
    @given(st.integers())
    def nothing(_):
        pass

    nothing()


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

    class Params(params.Params):
        property: str = Field(description="the property's name in the assignment's properties.py")
        max_examples: int = Field(25, ge=1, description="how many examples hypothesis draws")
        proves_values: bool = Field(False, description="the property compares values that trivial code cannot "
                                    "match, so it counts as a check of values")
        symbols: dict[str, params.DOMAINS] | None = Field(None, description="for a sympy answer: its arguments' "
                                                           "domains; the property gets the answer evaluated at numbers")
        returns: Literal["tensors", "value"] = Field("tensors", description="`value`: the property's calls return "
                                                     "any value the wire carries, not only tensors")

    function_of_property = None   # set by bind(), from the assignment's properties files
    secret = False                # the property lives in solutions/: the check can only be hidden

    @property
    def proves_values(self):
        return self.settings.proves_values

    def why_not_public(self):
        if self.secret:
            return (f"its property lives in solutions/, which students never get (move "
                    f"{self.settings.property} to assignments/ASSIGNMENT/{PROPERTIES_FILE} to make it public)")
        return super().why_not_public()

    @property
    def computes_sympy(self):
        return self.settings.symbols is not None

    def prepare(self, reference, device):
        """{"examples": each example's draws}: the examples hypothesis generates for this property,
        drawn as it runs on the reference (which passes it; so would any correct answer, on the
        same examples). Grading replays them without hypothesis's engine, and runs hypothesis
        (the same search, so the same examples) only to shrink a failure. None where a drawn value
        has no stored form."""
        if self.function_of_property is None:
            return None
        with reference.untimed():
            verdict, examples = self._search(self.function_of_property, self.call_of(reference))
        if not verdict.passed:
            raise RuntimeError(f"the reference fails the property of {self.name!r}: {verdict.message}")
        try:
            return {"examples": [[_stored(strategy, value) for strategy, value in drawn] for drawn in examples]}
        except TypeError:
            return None

    def run(self, student, prepared, device):
        prop = self.function_of_property
        if prop is None:   # only a local check binds loosely (bind): the student's copy lacks it
            return Verdict(False, f"the property {self.settings.property!r} is missing from {PROPERTIES_FILE} in "
                                  "this folder: restore that file from the assignment you were given")
        call = self.call_of(student)
        examples = prepared.get("examples") if isinstance(prepared, dict) else None
        if examples is None:
            return self._search(prop, call)[0]
        failure = _replay(prop, call, examples)
        if failure is None:
            return Verdict(True, "holds on every generated example")
        if isinstance(failure, _Abort):   # the student's code failed: calling it again only spends time
            return Verdict(False, str(failure))
        verdict = self._search(prop, call)[0]   # shrinks the failure, or decides where replay could not
        if isinstance(failure, PropertyFailed) and verdict.passed:
            # hypothesis mines constants from the loaded modules, so a process that loaded others
            # than the one that prepared may not meet the stored example again: it decides
            return Verdict(False, str(failure))
        return verdict

    def _search(self, prop, call) -> tuple[Verdict, list]:
        """Run the property under hypothesis: the verdict (the first failure is shrunk for a while),
        and the draws ((strategy, value) pairs) of each example that ran to its end. One test
        function for preparing and for grading: derandomized hypothesis seeds from its source."""
        from hypothesis import given, strategies as st

        smallest = None   # the latest failure: hypothesis only tries examples smaller than the last
        shrinking = 0     # examples tried since the first failure
        examples = []

        @self._settings()
        @given(st.data())
        def holds(data):
            nonlocal smallest, shrinking
            shrinking += smallest is not None
            recorder = _Recorder(data)
            try:
                _attempt(prop, call, recorder)
            except PropertyFailed as error:
                smallest = error
                stop_if_shrunk_enough()
                raise
            examples.append(recorder.drawn)
            stop_if_shrunk_enough()

        def stop_if_shrunk_enough():
            """Called once an example has drawn all its data (hypothesis checks that draws replay
            alike): past the budget, the smallest failure so far is the verdict."""
            if shrinking > SHRINK_EXAMPLES:
                raise _Abort(str(smallest))

        try:
            holds()
        except (_Abort, PropertyFailed) as error:
            return Verdict(False, str(error)), examples
        return Verdict(True, "holds on every generated example"), examples

    def _settings(self):
        from hypothesis import HealthCheck, settings

        return settings(derandomize=True, database=None, deadline=None, print_blob=False,
                        max_examples=self.settings.max_examples, suppress_health_check=list(HealthCheck))

    def call_of(self, runner):
        """The graded function as the property calls it, through `runner` (the worker or the reference)."""
        return self._symbolic_call(runner) if self.settings.symbols is not None else _Call(self, runner)

    def _symbolic_call(self, student):
        from .symbolic import evaluate, make_symbols

        symbols = make_symbols(self.settings.symbols)
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


class _Unreplayable(Exception):
    """The property draws otherwise than the stored example did (its draws depend on results), or
    calls hypothesis itself (assume, note): hypothesis must run it."""


def _attempt(prop, call, data) -> None:
    """Run the property once; the judge's arithmetic failing on the student's results ends the
    search (_Abort): they are not what the property expects."""
    try:
        prop(call, data)
    except (PropertyFailed, GraderError):   # a dead worker is the grader's failure, not the student's
        raise
    except (TypeError, ValueError, RuntimeError, IndexError, KeyError, AttributeError, ArithmeticError) as error:
        # a shape that does not broadcast, a tensor where a number is due
        raise _Abort(f"your result cannot be checked for this property ({type(error).__name__}: "
                     f"{str(error).splitlines()[0][:200]}): is its shape or type the one asked for?") from None


def _replay(prop, call, examples) -> BaseException | None:
    """The failure (PropertyFailed, _Abort or _Unreplayable) of the first stored example on which
    the property does not hold, or None."""
    from hypothesis.errors import HypothesisException

    for drawn in examples:
        data = _Replay(drawn)
        try:
            _attempt(prop, call, data)
            data.finish()
        except (PropertyFailed, _Abort, _Unreplayable) as failure:
            return failure
        except HypothesisException as error:   # assume(), note(), event() outside a hypothesis test
            return _Unreplayable(f"the property calls hypothesis: {type(error).__name__}")
    return None


class _Recorder:
    """hypothesis's data object, keeping every strategy and the value it drew."""

    def __init__(self, data):
        self.data, self.drawn = data, []

    def draw(self, strategy, label=None):
        import copy

        value = self.data.draw(strategy, label)
        self.drawn.append((strategy, copy.deepcopy(value)))   # the property may change its draws in place
        return value


class _Replay:
    """A data object that gives back the stored draws of one example, in order, as long as the
    property asks for the same strategies."""

    def __init__(self, drawn):
        self.drawn = iter(drawn)

    def draw(self, strategy, label=None):
        stored = next(self.drawn, None)
        try:
            if stored["strategy"] == repr(strategy):
                return _restored(stored["value"])
        except (TypeError, KeyError, ValueError):   # none left, or not a stored draw
            pass
        raise _Unreplayable(f"the property draws {strategy!r}, which the stored example does not hold next")

    def finish(self) -> None:
        if next(self.drawn, None) is not None:
            raise _Unreplayable("the property drew fewer values than the stored example holds")


def _stored(strategy, value) -> dict:
    """A draw as JSON-able data: its strategy's repr and its value (numbers, strings, lists and
    tuples of them, numpy arrays); TypeError for anything else."""
    return {"strategy": repr(strategy), "value": _stored_value(value)}


def _stored_value(value):
    import numpy as np

    if type(value) in (bool, int, float, str) or value is None:
        return {"t": "py", "v": value}
    if type(value) in (list, tuple):
        return {"t": type(value).__name__, "items": [_stored_value(v) for v in value]}
    if type(value) is np.ndarray and value.dtype.kind in "biuf":
        return {"t": "array", "dtype": value.dtype.str, "shape": list(value.shape), "items": value.ravel().tolist()}
    raise TypeError(f"a drawn {type(value).__name__} has no stored form")


def _restored(data):
    import numpy as np

    if data["t"] == "py":
        return data["v"]
    if data["t"] in ("list", "tuple"):
        items = [_restored(v) for v in data["items"]]
        return items if data["t"] == "list" else tuple(items)
    return np.array(data["items"], dtype=np.dtype(data["dtype"])).reshape(data["shape"])


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
        if self.check.settings.returns == "value":
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
