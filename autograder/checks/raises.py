"""Checks that a function rejects invalid arguments with the documented exception."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ..runner import StudentError
from . import Check, Verdict, params
from .tensors import make_input


class InvalidCase(BaseModel):
    """Arguments that the function must reject."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
    args: list[params.Recipe] = Field(description="a recipe per argument")
    why: str = Field(description='what is invalid, for the message: "for kernel_size = 4"')


class Raises(Check):
    """params: "cases" (each {"args": [recipes], "why": what is invalid}) and "error" (the name of
    the exception type asked for, e.g. "ValueError"; the exact type, not a subclass). Passes when
    every case raises that exception. Code that always raises it passes too: like every check
    that does not compare values, it counts once a check of values passes (engine.gate)."""

    kind = "raises"

    class Params(params.Params):
        error: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description='the exception type asked for, e.g. '
                           '"ValueError" (that type exactly, not a subclass)')
        cases: list[InvalidCase] = Field(min_length=1, description="the invalid calls")

    def prepare(self, reference, device):
        expected = self.settings.error
        for case in self.params["cases"]:   # validated (Params), read as written   # the reference must agree, or the check is wrong
            try:
                self.call(reference, *self._args(case))
            except Exception as error:  # noqa: BLE001 - the reference's own exception, checked below
                if type(error).__name__ != expected:
                    raise ValueError(f"the reference raises {type(error).__name__}, not {expected}, "
                                     f"when {case['why']}") from None
            else:
                raise ValueError(f"the reference raises no {expected} when {case['why']}")

    @staticmethod
    def _args(case):
        return [make_input(r, "float32", 0, "cpu") for r in case["args"]]

    def run(self, student, prepared, device):
        expected = self.settings.error
        for case in self.params["cases"]:   # validated (Params), read as written
            try:
                self.call(student, *self._args(case))
            except StudentError as error:
                if error.raised == expected:
                    continue
                return Verdict(False, f"{case['why']}, {self.function}() must raise {expected}; instead {error}")
            return Verdict(False, f"{case['why']}, {self.function}() must raise {expected}, but it returned a value")
        return Verdict(True, f"raises {expected} for invalid arguments")
