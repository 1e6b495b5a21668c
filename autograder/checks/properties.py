"""Property checks: hypothesis draws inputs in the judge, the student's function answers through
the worker, and the judge decides whether the property holds. Derandomized, so a submission
gets the same examples, the same shrunk counterexample and the same verdict every time.
Shrinking is bounded (SHRINK_EXAMPLES): a wrong submission costs a few calls more than a right one,
not hundreds, and is shown the smallest counterexample found by then."""
from __future__ import annotations

from .. import wire
from ..runner import GraderError, StudentError
from . import Check, Verdict


# examples tried after the first failing one (shrinking it): most are small by then
SHRINK_EXAMPLES = 20


class PropertyFailed(AssertionError):
    """A property does not hold; the message names the input and what went wrong."""


class _Abort(BaseException):
    """Raised through hypothesis, which catches only Exception, to stop at once."""


class Property(Check):
    """params: "property" (a name in autograder.properties), "max_examples", and, for answers
    given as sympy expressions, "symbols" ({name: domain}): the function is then called once with
    the symbols, and the property's calls get the answer evaluated at the numbers they pass."""

    kind = "property"

    @property
    def computes_sympy(self):
        return "symbols" in self.params

    def run(self, student, prepared, device):
        from hypothesis import HealthCheck, given, settings, strategies as st

        from ..properties import PROPERTIES

        prop = PROPERTIES[self.params["property"]]
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
            except (TypeError, ValueError, RuntimeError, IndexError) as error:
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
        def call(*args, **kwargs):
            try:
                value = self.call(student, *args, kwargs=kwargs).value
            except StudentError as error:
                # The student's exception already says what broke; shrinking the input by calling
                # again would mostly spend time (and, for a hang or crash, a lot of it).
                raise _Abort(f"{error}\n  on {describe(args, kwargs)}") from None
            if not isinstance(value, wire.TensorInfo) or value.tensor is None:
                raise PropertyFailed(f"{self.function}() returned a {type(value).__name__}, "
                                     f"expected a tensor, on {describe(args, kwargs)}")
            return value.tensor

        return call

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
