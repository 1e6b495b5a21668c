"""Numeric checks against the hidden reference: values and gradients on seeded inputs, and a
probe on the `meta` device that catches tensors hard-wired to the CPU."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from .. import wire
from ..runner import StudentError
from . import Check, Verdict, diagnoses, params, variants
from .tensors import (FLOAT32_ROUNDING, describe_case, make_input, make_inputs, mismatch, project_to_constraint,
                      value_mismatch)


class MatchesReference(Check):
    """Same values (or, with compare="structure", the same shape, dtype and device) and the same
    vector-Jacobian products as the reference, case by case. With any_dtype, a result of any
    floating dtype is accepted (for functions of plain Python numbers). A function that returns a
    tuple or list of tensors is compared item by item ("outputs" names them: a flow layer's
    output and log-determinant); "grad_wrt" may name an argument that is a network, a flow layer
    or a list of them (autograder.modules): its parameters' gradient is compared.

    "stability": this check's cases hold inputs at the edge of the dtype's range, and the value is
    the advice for a result that is wrong there while the function's other value checks pass
    ("compute the logit as logsigmoid(t) - logsigmoid(-t)"); the likely cause then says so, the
    same on every CPU, whether its kernels overflowed to inf or only lost digits
    (engine.stability_causes)."""

    kind = "matches_reference"

    class Params(params.Params):
        arg_names: list[str] = Field(description="the function's arguments, in order (messages name them)")
        cases: list[params.Case] = Field(min_length=1, description="the inputs: `case(seed, dtype, *recipes)`")
        grad_wrt: list[int] = Field([], description="the arguments (by index) whose vector-Jacobian products are "
                                    "compared; a network's or a list of layers': their parameters'")
        compare: Literal["values", "structure"] = Field("values", description="`structure`: shape, dtype and "
                                                        "device only")
        any_dtype: bool = Field(False, description="accept a result of any floating dtype (for functions of "
                                "Python numbers), compared at float32's tolerance")
        outputs: list[str] | None = Field(None, description="names of the items of a tuple result, for messages")
        stability: str | None = Field(None, description="marks a stability check (inputs at the edge of the "
                                      "dtype's range): the advice for a result that is wrong there only")

        @model_validator(mode="after")
        def _arguments(self):
            wrong = [i for i in self.grad_wrt if not 0 <= i < len(self.arg_names)]
            if wrong:
                raise ValueError(f"grad_wrt names argument {wrong[0]}, but arg_names has {len(self.arg_names)}")
            return self

    @property
    def proves_values(self):
        return self.settings.compare == "values"

    def prepare(self, reference, device):
        prepared = []
        for case in self.params["cases"]:   # validated (Params), read as written
            args, kwargs = make_inputs(case, device)
            result = self.call(reference, *args, kwargs=kwargs, **self._options(case))
            data = {"args": [wire.encode(a) for a in args],
                    "kwargs": {k: wire.encode(v) for k, v in kwargs.items()},
                    "value": wire.encode(result.value),
                    "grads": [g.encode() for g in result.grads or []]}
            if self.proves_values:   # for the diagnoses of wrong values
                mistakes = [m for m in reference.mistaken_values(self.function, args, kwargs, seed=case["seed"])
                            if self._differs(wire.decode(m["value"]), result.value, case)]
                found = [v for v in variants.of_case(reference, self.module, self.function, self.settings.arg_names,
                                                     args, kwargs, case["seed"])
                         if self._differs(wire.decode(v["value"]), result.value, case)]
                data.update({"mistakes": mistakes} if mistakes else {}, **({"variants": found} if found else {}))
            prepared.append(data)
        return prepared

    def run(self, student, prepared, device):
        from ..calls import materialize

        names = self.settings.arg_names
        values = self.settings.compare == "values"
        # the failure shown: the first, unless it is a wrong value without a likely cause and a later
        # case's has one (`settled`: an error, or a cause)
        failure, cause, unstable, matched, settled = None, None, None, False, False
        for number, (case, data) in enumerate(zip(self.params["cases"], prepared), 1):
            args = [materialize(wire.decode(a)) for a in data["args"]]
            kwargs = {k: materialize(wire.decode(v)) for k, v in data["kwargs"].items()}
            label = f"case {number} of {len(prepared)} ({describe_case(case, names, args)})"
            try:
                result = self.call(student, *args, kwargs=kwargs, **self._options(case))
            except StudentError as error:
                if failure is None:
                    failure, settled = f"{error}\n  in {label}", True
                if matched:
                    break
                continue
            expected = wire.decode(data["value"])
            inputs = _named(names, args, kwargs)
            problem = self._value_problem(result.value, expected, values, case, inputs, data)
            for i, grad in zip(self.settings.grad_wrt, data["grads"]):
                if problem:
                    break
                problem = self._grad_problem(result, i, wire.decode_tensor(grad), names, values, case, args, kwargs)
            if problem and not settled and (failure is None or getattr(problem, "cause", "")):
                failure, cause = f"{problem}\n  in {label}", getattr(problem, "cause", "") or None
                unstable, settled = unstable or self._unstable(problem, case, inputs, label), cause is not None
            matched = matched or (not problem and informative(expected, data["grads"], args))
            if failure and matched and settled:
                break
        # cases go on after a failure until one matches (evidence of right values, engine.gate) and
        # the failure shown is settled
        if failure:
            return Verdict(False, failure, evidence=matched, cause=cause, unstable=unstable)
        return Verdict(True, f"{len(prepared)} cases match", evidence=matched)

    def _unstable(self, problem, case, inputs, label):
        """In a stability check, for wrong values: the message with the stability diagnosis in
        place of the generic one, and that cause; the engine gives it where the function's other
        value checks pass (engine.stability_causes). Else None."""
        if self.settings.stability is None or not isinstance(problem, Problem):
            return None
        advice = diagnoses.unstable(case["dtype"], inputs, self.settings.stability)
        plain = problem[:len(problem) - len(problem.cause)] if problem.cause else str(problem)
        return f"{plain}{advice}\n  in {label}", advice

    def _differs(self, mistaken, expected, case) -> bool:
        """Whether a known mistake (or a variant) gives another result than the reference in this
        case (one that coincides with it, in a batch of one or at beta = 1, names no mistake), by
        more than float32's rounding: a float64 result computed in float32 somewhere has a cause of
        its own (diagnoses), and such a value's last bits differ from one CPU to another."""
        if isinstance(expected, list):
            return not isinstance(mistaken, list) or len(mistaken) != len(expected) or any(
                self._differs(m, e, case) for m, e in zip(mistaken, expected))
        if isinstance(mistaken, wire.TensorInfo) and mistaken.shape == expected.shape and expected.dtype == "float64" \
                and mistaken.tensor is not None and expected.tensor is not None:
            return value_mismatch(mistaken.tensor, expected.tensor, FLOAT32_ROUNDING, "") is not None
        return mismatch(mistaken, expected, "", True, self.settings.any_dtype) is not None

    def _options(self, case):
        return {"seed": case["seed"], "grad_wrt": self.settings.grad_wrt,
                "cotangent_seed": case["seed"] + 7}

    def _value_problem(self, value, expected, values, case, inputs, data):
        """The student's result against the reference's, with its likely cause. A verified cause
        of a wrong shape (a row left out, a reduction missing) replaces the guess about shapes."""
        if isinstance(expected, list):
            return self._items_problem(value, expected, values, case, inputs, data)
        known = [(hint, m.tensor) for hint, m in _decoded(data.get("mistakes", []))]
        generic = [(i, s, v.tensor) for i, s, v in variants.decoded(data.get("variants", []))
                   if isinstance(v, wire.TensorInfo)]
        return self._item_problem(value, expected, "the result", values, case, inputs, known, generic)

    def _item_problem(self, value, expected, what, values, case, inputs, mistakes, generic=()):
        any_dtype = self.settings.any_dtype
        # a stability check's non-finite values get no hint: whether they overflow depends on the CPU
        problem = mismatch(value, expected, what, values, any_dtype, inputs=inputs,
                           finite_hint=self.settings.stability is None, avoid=self.avoid)
        if not problem or not values:
            return problem
        dtype = "float32" if any_dtype else case["dtype"]   # any_dtype compares at float32's tolerance
        cause = diagnoses.explain(_tensor(value), expected.tensor, dtype, inputs, mistakes, variants=generic,
                                  avoid=self.avoid)
        if cause and isinstance(value, wire.TensorInfo) and value.shape != expected.shape:
            problem = mismatch(value, expected, what, values, any_dtype, shape_hint=False)
        return Problem(problem + cause, cause)

    def _items_problem(self, value, expected, values, case, inputs, data):
        """A tuple or list of results, item by item, each with the known mistakes' (and the
        variants') same item."""
        names = self.settings.outputs or [f"item {k + 1}" for k in range(len(expected))]
        if not isinstance(value, list) or len(value) != len(expected):
            got = f"a sequence of {len(value)} items" if isinstance(value, list) else wire.kind_name(value)
            return f"the result is {got}, expected a tuple of {len(expected)} tensors ({', '.join(names)})"
        mistakes = _decoded(data.get("mistakes", []))
        generic = variants.decoded(data.get("variants", []))
        for k, (item, item_expected) in enumerate(zip(value, expected)):
            known = [(hint, m[k].tensor) for hint, m in mistakes if _item(m, k, len(expected))]
            others = [(i, s, v[k].tensor) for i, s, v in generic if _item(v, k, len(expected))]
            problem = self._item_problem(item, item_expected, f"the result's {names[k]}", values, case, inputs,
                                         known, others)
            if problem:
                return problem
        return None

    def _grad_problem(self, result, index, expected, names, values, case, args, kwargs):
        """The student's gradient against the reference's. An input that the result does not
        depend on (in this case: an empty sum, a branch not taken) has a zero gradient, which
        autograd reports as None; it passes wherever the expected gradient is zero too.

        An input declared on a constraint surface (the recipe's "unit_rows": rows on the unit
        sphere) is compared by the part of its gradient tangent to that surface only: a function
        that is right on the surface may differ off it (a student who normalises the rows again
        returns the same values for every valid input, and its gradient has no radial part), and
        only the tangent part moves the inputs along the surface, so only it is determined by the
        function's values there."""
        name = names[index] if hasattr(args[index], "shape") else f"the parameters of {names[index]}"
        position = self.settings.grad_wrt.index(index)
        grads = result.grads or []
        actual = grads[position] if position < len(grads) else None
        recipe = case["args"][index] if index < len(case["args"]) else {}
        if expected.tensor is not None:
            expected = project_to_constraint(recipe, expected, args[index])
        if actual is None:
            if expected.tensor is None or not values or not bool((expected.tensor != 0).any()):
                return None
            return (f"no gradient reaches {name}: the result must be computed from {name} with "
                    "differentiable torch operations (no .detach(), .item(), numpy or no_grad)")
        if isinstance(actual, wire.TensorInfo) and actual.tensor is not None and actual.shape == expected.shape:
            actual = project_to_constraint(recipe, actual, args[index])
        problem = mismatch(actual, expected, f"the gradient with respect to {name}", values, avoid=self.avoid)
        if problem and values:
            cause = diagnoses.explain(_tensor(actual), expected.tensor, case["dtype"],
                                      _named(names, args, kwargs), what="gradients", avoid=self.avoid)
            problem = Problem(problem + cause, cause)
        return problem


class Problem(str):
    """A sentence about a wrong result that carries its likely cause (a diagnoses.Cause, or "")."""

    def __new__(cls, text: str, cause):
        problem = super().__new__(cls, text)
        problem.cause = cause
        return problem


def _item(value, k: int, count: int) -> bool:
    return isinstance(value, list) and len(value) == count and isinstance(value[k], wire.TensorInfo)


def _decoded(mistakes: list) -> list[tuple]:
    """(hint, decoded value) of the known mistakes prepared or frozen with a case."""
    return [(m["hint"], wire.decode(m["value"])) for m in mistakes]


def _tensor(value):
    """The data of a result for the diagnoses: a tensor, or a Python number as a 0-d tensor."""
    import torch

    if isinstance(value, wire.TensorInfo):
        return value.tensor
    return torch.tensor(float(value), dtype=torch.float64) if type(value) in (int, float) else None


def _named(names, args, kwargs) -> dict:
    return {**dict(zip(names, args)), **kwargs}


def informative(expected: wire.TensorInfo, grads: list, args: list) -> bool:
    """Whether matching this case shows right values: not when zeros without a gradient, or an
    input handed back (reshaped, or the leading numbers of the arguments) would match it too: a
    batch of one whose loss is 0, one sample whose bound is its log-weight, zero steps."""
    import torch

    if isinstance(expected, list):
        return any(informative(e, [], args) for e in expected if isinstance(e, wire.TensorInfo)) or any(
            bool((wire.decode_tensor(g).tensor != 0).any()) for g in grads)
    value = expected.tensor
    if value is None:
        return False
    flat = value.reshape(-1)
    inputs = [a.detach().cpu().reshape(-1) for a in args if isinstance(a, torch.Tensor)]
    numbers = [a for a in args if type(a) in (int, float)]
    if numbers:
        inputs.append(torch.tensor(numbers[:flat.numel()], dtype=torch.float64))
    if any(a.numel() == flat.numel() and torch.equal(a.to(value.dtype), flat) for a in inputs):
        return False
    return bool((value != 0).any()) or any(bool((wire.decode_tensor(g).tensor != 0).any()) for g in grads)


def _structure_problem(value, expected, what, any_device=False):
    """Shape and dtype (and, unless any_device, the device) of a result or of each item of a tuple."""
    if isinstance(expected, list):
        if not isinstance(value, list) or len(value) != len(expected):
            return f"{what} is not a tuple of {len(expected)} tensors"
        return next((p for p in (_structure_problem(v, e, f"{what}, item {k + 1},", any_device)
                                 for k, (v, e) in enumerate(zip(value, expected))) if p), None)
    if any_device and isinstance(value, wire.TensorInfo):
        expected = wire.TensorInfo(None, expected.dtype, expected.shape, value.device)
    return mismatch(value, expected, what, values=False)


class MetaProbe(Check):
    """Runs the function on `meta` tensors, which have a device but no data. Code that creates
    tensors on the CPU instead of the inputs' device fails here even on a CPU-only grader.
    params: "shapes" of the float tensor arguments, then optionally "extra_args": recipes of
    further arguments that are not tensors ({"value": ...} or {"function": ...}); or instead
    "inputs": a recipe per argument (tensors/make_input), every tensor placed on the probed device
    except those marked "on_cpu": true (an argument the contract lets stay on the CPU, such as a
    schedule). "note": what the contract expects, added to a verdict that a tensor is on the wrong device.

    Where meta tensors cannot decide (the function reads values: `.tolist()`, `.item()`, numpy;
    or uses an operator without a meta kernel), the probe runs the function on data that lives
    on another device: CUDA when grading on CUDA, else the worker's simulated GPU (fake_device).
    Only a device mismatch there, or a result left on the CPU, fails; an error that the function
    also raises on the CPU fails with that error; anything else is inconclusive and passes."""

    kind = "meta_probe"

    class Params(params.Params):
        shapes: list[list[int]] | None = Field(None, description="shapes of the float tensor arguments "
                                               "(values in [0.25, 0.75]), in order")
        extra_args: list[params.Recipe] = Field([], description="recipes of the arguments after `shapes`")
        inputs: list[params.Recipe] | None = Field(None, description="instead of `shapes`: a recipe per argument")
        note: str | None = Field(None, description="what the contract expects, added to a failing verdict")

        @model_validator(mode="after")
        def _one_way(self):
            if (self.shapes is None) == (self.inputs is None):
                raise ValueError("give either shapes (and extra_args) or inputs")
            return self
    CPU_MESSAGE = ("a tensor was created on the CPU while the inputs live on another device; create "
                   "it on the inputs' device (torch.randn_like(x), torch.zeros(..., device=x.device))")
    NUMPY_MESSAGE = ("a tensor on the inputs' device was converted to numpy, which works for CPU tensors "
                     "only; read values with .tolist() or .item(), or call .cpu() first")
    # torch's errors for tensors of two devices (meta, CUDA, the simulated GPU), and their messages
    SIGNS = {"same device": CPU_MESSAGE, "not on the expected device": CPU_MESSAGE,
             "to host memory": NUMPY_MESSAGE}

    def prepare(self, reference, device):
        # The expected shape and dtype, from the reference on the CPU: the judge need not pay for
        # loading meta kernels.
        value = self.call(reference, *self._args("cpu")).value
        items = value if isinstance(value, list) else [value]   # a tuple: its tensors, each on meta
        if not all(isinstance(v, wire.TensorInfo) for v in items):
            raise ValueError(f"{self.name}: a device probe needs a function whose results are tensors")
        meta = [{"t": "tensor", "dtype": v.dtype, "shape": list(v.shape), "device": "meta", "data": None} for v in items]
        return {"t": "list", "items": meta} if isinstance(value, list) else meta[0]

    def _recipes(self) -> list:
        """A recipe per argument: "inputs", or float tensors of the "shapes" with seeded values in
        [0.25, 0.75] (valid as probabilities, scales and logits alike), then the "extra_args"."""
        if self.settings.inputs is not None:
            return self.settings.inputs
        return [{"uniform": shape, "low": 0.25, "high": 0.75} for shape in self.settings.shapes] + \
            self.settings.extra_args

    def _args(self, device="meta"):
        """The arguments on `device` (meta tensors have no data), tensors marked "on_cpu" on the
        CPU; the simulated GPU's travel as wire.TensorInfo."""
        from ..calls import FAKE_DEVICE

        args = []
        for index, recipe in enumerate(self._recipes()):
            kept = recipe.get("on_cpu", False)
            value = make_input(recipe, "float32", index, "cpu" if kept or device == FAKE_DEVICE else device)
            if device == FAKE_DEVICE and not kept and hasattr(value, "dtype"):
                value = wire.TensorInfo(value, str(value.dtype).removeprefix("torch."), tuple(value.shape), FAKE_DEVICE)
            args.append(value)
        return args

    def run(self, student, prepared, device):
        expected = wire.decode(prepared)
        try:
            result = self.call(student, *self._args())
        except StudentError as error:
            verdict = self._device_error(str(error))
            return verdict or self._on_data(student, expected, device)   # meta tensors cannot decide
        problem = _structure_problem(result.value, expected, "the result on meta inputs")
        return Verdict(problem is None, problem or "follows the inputs' device")

    def _device_verdict(self, message: str):
        """A failing verdict for a tensor on the wrong device, with what the contract expects."""
        note = self.settings.note
        return Verdict(False, f"{message}\n  {note}" if note else message)

    @property
    def carries_modules(self) -> bool:
        """Whether an argument is a network, layer or density (or a list of them): the simulated
        GPU holds tensors only, so such a probe runs on meta tensors or on CUDA."""
        def module(recipe):
            return "module" in recipe or any(module(r) for r in recipe.get("list", []))
        return any(module(r) for r in self._recipes())

    def _on_data(self, student, expected, device):
        """The probe on inputs with data: on CUDA when grading there, else on the simulated GPU."""
        from ..calls import FAKE_DEVICE

        gpu = device if device.startswith("cuda") else FAKE_DEVICE
        if gpu == FAKE_DEVICE and self.carries_modules:
            return self._on_cpu(student, "(networks and layers cannot be placed on the simulated GPU)")
        where = "CUDA" if gpu != FAKE_DEVICE else "a simulated GPU"
        try:
            result = self.call(student, *self._args(gpu))
        except StudentError as error:
            text = str(error)
            # on the simulated GPU, only its own errors count: a real error may come from a gap in it
            verdict = self._device_error(text) if gpu != FAKE_DEVICE or "raised DeviceMismatch:" in text else None
            return verdict or self._on_cpu(student, text)
        value = result.value
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, wire.TensorInfo) and item.device.split(":")[0] != gpu.split(":")[0]:
                return self._device_verdict(f"{self.CPU_MESSAGE}\n  the result is on {item.device} while the "
                                            f"inputs were on {where}")
        problem = _structure_problem(value, expected, f"the result on {where}", any_device=True)
        return Verdict(problem is None, problem or f"follows the inputs' device (checked on {where}: "
                                                   "the function does not run on meta tensors)")

    def _device_error(self, text):
        """A failing verdict if `text` is torch's error for tensors on two devices, else None."""
        for sign, message in self.SIGNS.items():
            if sign in text:
                return self._device_verdict(f"{message}\n  {text}")
        return None

    def _on_cpu(self, student, text):
        """The run on another device failed otherwise: an error the function raises on the CPU too
        is the student's; else the probe cannot decide."""
        try:
            self.call(student, *self._args("cpu"))
        except StudentError as error:
            return Verdict(False, str(error))
        return Verdict(True, "inconclusive: the function runs on the CPU but neither on meta tensors "
                             "nor on the grader's other device; device handling was not probed\n  "
                             f"{text}")
