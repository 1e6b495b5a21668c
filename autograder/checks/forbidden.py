"""Calls an assignment forbids in a function (torch.logsumexp where the question asks for a stable
log-sum-exp written by hand): the judge reads the student's source, never runs it."""
from __future__ import annotations

from pydantic import Field, field_validator

from .. import source
from . import Check, Verdict, diagnoses, params

VOIDED = "not counted: {function}() uses a call this assignment forbids (see its check {check!r})"


class ForbiddenCalls(Check):
    """The function, and the module's own functions it calls, use none of `calls` (dotted names;
    "torch.distributions" forbids everything below it), however imported or aliased: `torch.logsumexp`,
    `from torch import logsumexp as lse`, `import torch.nn.functional as F` then `F.kl_div`, the
    tensor method of the same name (`x.logsumexp(-1)`), or by name in a string (`getattr(torch,
    "logsumexp")`). A use fails this check, naming the line, and the function's other checks earn
    nothing (engine.forbid); the assignment's hints never recommend a forbidden call."""

    kind = "forbidden_calls"

    class Params(params.Params):
        calls: list[str] = Field(min_length=1, description='dotted names, e.g. ["torch.logsumexp", '
                                 '"torch.nn.functional.kl_div", "torch.distributions"]')

        @field_validator("calls")
        @classmethod
        def _dotted(cls, calls):
            wrong = [c for c in calls if not all(part.isidentifier() for part in c.split("."))]
            if wrong:
                raise ValueError(f"{wrong[0]!r} is not a dotted name such as 'torch.logsumexp'")
            return calls

    def run(self, student, prepared, device):
        text = student.sources.get(f"{self.module}.py")
        if text is None:
            return Verdict(False, f"{self.module}.py is missing from the submission, or too large to read")
        uses = source.forbidden_uses(text, self.function, self.settings.calls)
        if not uses:
            return Verdict(True, f"uses none of {', '.join(self.settings.calls)}")
        listed = "; ".join(f"line {line}: {what}" for line, what in uses[:5])
        return Verdict(False, f"{self.function}() uses what this assignment forbids ({listed}): compute it "
                              "with the operations the question allows",
                       cause=diagnoses.Cause("forbidden-call", f"uses {uses[0][1].split(',')[0]}"))


def bind(checks: list) -> None:
    """Tell every check of a function what its forbidden_calls checks forbid (Check.avoid), so that
    no hint recommends it."""
    avoided: dict[str, set] = {}
    for check in checks:
        if isinstance(check, ForbiddenCalls):
            for call in check.settings.calls:
                avoided.setdefault(check.function, set()).update({call, call.rsplit(".", 1)[-1]})
    for check in checks:
        check.avoid = frozenset(avoided.get(check.function, ()))
