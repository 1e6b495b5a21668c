"""Numeric checks against the hidden reference: values and gradients on seeded inputs, and a
probe on the `meta` device that catches tensors hard-wired to the CPU."""
from __future__ import annotations

from .. import wire
from ..runner import StudentError
from . import Check, Verdict
from .tensors import describe_case, make_input, make_inputs, mismatch


class MatchesReference(Check):
    """Same values (or, with compare="structure", the same shape, dtype and device) and the same
    vector-Jacobian products as the reference, case by case. With any_dtype, a result of any
    floating dtype is accepted (for functions of plain Python numbers)."""

    kind = "matches_reference"

    def prepare(self, reference, device):
        prepared = []
        for case in self.params["cases"]:
            args, kwargs = make_inputs(case, device)
            result = self.call(reference, *args, kwargs=kwargs, **self._options(case))
            prepared.append({
                "args": [wire.encode(a) for a in args],
                "kwargs": {k: wire.encode(v) for k, v in kwargs.items()},
                "value": result.value.encode(),
                "grads": [g.encode() for g in result.grads or []]})
        return prepared

    def run(self, student, prepared, device):
        from ..calls import materialize

        names = self.params["arg_names"]
        values = self.params.get("compare", "values") == "values"
        for number, (case, data) in enumerate(zip(self.params["cases"], prepared), 1):
            args = [materialize(wire.decode(a)) for a in data["args"]]
            kwargs = {k: materialize(wire.decode(v)) for k, v in data["kwargs"].items()}
            label = f"case {number} of {len(prepared)} ({describe_case(case, names, args)})"
            try:
                result = self.call(student, *args, kwargs=kwargs, **self._options(case))
            except StudentError as error:
                return Verdict(False, f"{error}\n  in {label}")
            expected = wire.decode_tensor(data["value"])
            problem = mismatch(result.value, expected, "the result", values, self.params.get("any_dtype", False))
            for i, grad in zip(self.params.get("grad_wrt", []), data["grads"]):
                if problem:
                    break
                problem = self._grad_problem(result, i, wire.decode_tensor(grad), names[i], values)
            if problem:
                return Verdict(False, f"{problem}\n  in {label}")
        return Verdict(True, f"{len(prepared)} cases match")

    def _options(self, case):
        return {"seed": case["seed"], "grad_wrt": self.params.get("grad_wrt", []),
                "cotangent_seed": case["seed"] + 7}

    def _grad_problem(self, result, index, expected, name, values):
        position = self.params["grad_wrt"].index(index)
        grads = result.grads or []
        if position >= len(grads) or grads[position] is None:
            return (f"no gradient reaches {name}: the result must be computed from {name} with "
                    "differentiable torch operations (no .detach(), .item(), numpy or no_grad)")
        return mismatch(grads[position], expected, f"the gradient with respect to {name}", values)


class MetaProbe(Check):
    """Runs the function on `meta` tensors, which have a device but no data. Code that creates
    tensors on the CPU instead of the inputs' device fails here even on a CPU-only grader.
    params: "shapes" of the tensor arguments (zeros), then optionally "extra_args": recipes of
    further arguments that are not tensors ({"value": ...} or {"function": ...})."""

    kind = "meta_probe"

    def prepare(self, reference, device):
        # The expected shape and dtype, from the reference on CPU zeros: the judge need not pay
        # for loading meta kernels.
        value = self.call(reference, *self._args("cpu")).value
        return {"t": "tensor", "dtype": value.dtype, "shape": list(value.shape), "device": "meta", "data": None}

    def _args(self, device="meta"):
        import torch

        tensors = [torch.zeros(shape, dtype=torch.float32, device=device) for shape in self.params["shapes"]]
        return tensors + [make_input(r, "float32", 0, device) for r in self.params.get("extra_args", [])]

    def run(self, student, prepared, device):
        expected = wire.decode_tensor(prepared)
        try:
            result = self.call(student, *self._args())
        except StudentError as error:
            text = str(error)
            if any(sign in text for sign in ("cannot be called on meta tensors", "data-dependent", "data-independent")):
                return Verdict(True, "inconclusive: the function reads tensor values, which meta "
                                     "tensors do not have; device handling was not probed")
            if "meta" in text and "device" in text:
                return Verdict(False, "a tensor was created on the CPU while the inputs live on "
                               "another device; create it on the inputs' device (torch.randn_like("
                               f"x), torch.zeros(..., device=x.device))\n  {text}")
            return Verdict(False, text)
        problem = mismatch(result.value, expected, "the result on meta inputs", values=False)
        return Verdict(problem is None, problem or "follows the inputs' device")
