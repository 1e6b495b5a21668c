"""The wire between judge and worker: length-prefixed JSON, tensors as raw bytes, sympy as trees,
callable arguments as names from a whitelist of elementwise functions, or as descriptions of
networks, flow layers and densities (`modules`: a kind from a whitelist, settings and tensors).

Nothing here unpickles or evals. The worker side (`encode`) may run next to hostile code, so the
judge side (`decode`) treats every message as untrusted data: types, dtypes, shapes, sizes and
sympy node kinds are checked against whitelists before anything is built.
"""
from __future__ import annotations

import base64
import json
import math
import os
import select
import struct
import sys
import time

from . import modules

MAX_MESSAGE_BYTES = 256 * 2**20
MAX_TENSOR_ELEMENTS = 2**26
MAX_SYMPY_NODES = 5000
MAX_SYMPY_DEPTH = 200
MAX_INTEGER_DIGITS = 200

TENSOR_DTYPES = ("float16", "bfloat16", "float32", "float64", "int64", "int32", "int16", "int8",
                 "uint8", "bool", "complex64", "complex128")
SYMPY_FUNCTIONS = ("log", "exp", "Abs", "sign", "sin", "cos", "tan", "atan", "sinh", "cosh",
                   "tanh", "asinh", "acosh", "atanh", "erf", "re", "im", "Max", "Min", "sqrt")
SYMPY_CONSTANTS = ("pi", "E", "I", "oo", "-oo", "zoo", "nan")
# elementwise tensor functions that may be passed as arguments, by name -> their parameters
ELEMENTWISE = {"identity": (), "log": (), "softplus": (), "exp_over": ("tau",), "relu_plus": ("margin",)}


class WireError(ValueError):
    """A message that does not follow the protocol (or tries to abuse it)."""


# ---------------------------------------------------------------- framing

def send(fd: int, message: dict) -> None:
    data = json.dumps(message, separators=(",", ":")).encode()
    _write_all(fd, struct.pack(">Q", len(data)) + data)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def receive(fd: int, timeout: float | None = None) -> dict:
    """Read one message; TimeoutError after `timeout` seconds, EOFError if the peer is gone."""
    deadline = None if timeout is None else time.monotonic() + timeout
    (length,) = struct.unpack(">Q", _read_exactly(fd, 8, deadline))
    if length > MAX_MESSAGE_BYTES:
        raise WireError(f"message of {length} bytes exceeds the limit")
    message = json.loads(_read_exactly(fd, length, deadline))
    if not isinstance(message, dict):
        raise WireError("a message must be a JSON object")
    return message


def _read_exactly(fd: int, n: int, deadline: float | None) -> bytes:
    chunks, remaining = [], n
    while remaining:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


# ---------------------------------------------------------------- encode (worker side)

def encode(value):
    """Turn a value into JSON-able data: tensors, sympy objects, numbers, strings, containers."""
    import torch

    if isinstance(value, torch.Tensor):
        return _encode_tensor(value)
    if isinstance(value, TensorInfo):   # a tensor and the device it lives on (fake_device's simulated GPU)
        return value.encode()
    if type(value) in (bool, int, float, str) or value is None:
        return {"t": "py", "v": value}
    number = plain_number(value)
    if number is not None:
        return {"t": "py", "v": number}
    if type(value) in (list, tuple):
        return {"t": "list", "items": [encode(v) for v in value]}
    if type(value) in (set, frozenset):
        return {"t": "set", "items": [encode(v) for v in value]}
    if isinstance(value, Elementwise):
        return {"t": "function", "name": value.name, "params": dict(value.params)}
    if modules.is_described(value):
        return {"t": "module", "kind": value.kind.name, "settings": dict(value.settings),
                "tensors": {name: _encode_tensor(t) for name, t in value.tensors().items()}}
    if type(value) is dict:  # e.g. sympy's eigenvals(): {eigenvalue: multiplicity}
        return {"t": "dict", "items": [[encode(k), encode(v)] for k, v in value.items()]}
    sympy_value = _encode_sympy(value)
    if sympy_value is not None:
        return sympy_value
    raise TypeError(f"cannot send a value of type {type(value).__name__} to the grader: {_instead(value)}")


def plain_number(value):
    """A real number as students write it, as a Python bool, int or float: a subclass of int or
    float, a numpy scalar or 0-d array, a fractions.Fraction, a decimal.Decimal. None for anything
    else (sympy numbers travel as expressions)."""
    import decimal
    import fractions

    numpy = sys.modules.get("numpy")   # not imported: `value` is no numpy object
    if numpy is not None and isinstance(value, (numpy.generic, numpy.ndarray)):
        if isinstance(value, numpy.ndarray) and value.ndim != 0:
            return None
        item = value.item()
        return item if type(item) in (bool, int, float) else None
    if isinstance(value, (fractions.Fraction, decimal.Decimal)):
        try:
            return float(value)
        except (OverflowError, ValueError):   # beyond float's range: the grader cannot read it
            return None
    if isinstance(value, float):
        return float(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    return None


def _instead(value) -> str:
    """What to return instead of a value the grader cannot read."""
    numpy = sys.modules.get("numpy")
    if numpy is not None and isinstance(value, numpy.ndarray):
        return ("return a torch tensor (torch.as_tensor(x)) where a tensor is asked, or a list of numbers "
                "(x.tolist()) where numbers are")
    if isinstance(value, complex):
        return "a complex number is no real number: return a float where a real number is asked, or a sympy expression"
    return ("return a torch tensor, a number (float(x), int(x)), a sympy expression, or a list, tuple, set "
            "or dict of these")


def _encode_tensor(t):
    import torch

    t = t.detach().as_subclass(torch.Tensor)
    out = {"t": "tensor", "dtype": str(t.dtype).removeprefix("torch."), "shape": list(t.shape),
           "device": str(t.device), "data": None}
    if t.device.type != "meta":
        flat = torch.empty(t.numel(), dtype=t.dtype)   # a fresh copy: an expanded view (stride 0) cannot be viewed as bytes
        raw = flat.copy_(t.to("cpu").reshape(-1)).view(torch.uint8).numpy().tobytes()
        out["data"] = base64.b64encode(raw).decode()
    return out


def _encode_sympy(value):
    try:
        import sympy
    except ImportError:
        return None
    if isinstance(value, sympy.MatrixBase):
        return {"t": "matrix", "rows": value.rows, "cols": value.cols,
                "entries": [_sympy_tree(sympy.sympify(e)) for e in value]}
    if isinstance(value, sympy.Basic):
        return {"t": "sympy", "tree": _sympy_tree(value)}
    return None


def _sympy_tree(e):
    import sympy

    if e.is_Symbol:
        return ["Symbol", e.name]
    if e.is_Integer:
        return ["Integer", str(int(e))]
    if e.is_Rational:
        return ["Rational", str(int(e.p)), str(int(e.q))]
    if e.is_Float:
        return ["Float", repr(float(e))]
    for name in SYMPY_CONSTANTS:
        if e == _constant(name):
            return ["Const", name]
    if isinstance(e, (sympy.Add, sympy.Mul, sympy.Pow)):
        return [type(e).__name__] + [_sympy_tree(a) for a in e.args]
    name = type(e).__name__
    if name in SYMPY_FUNCTIONS:
        return ["Fn", name] + [_sympy_tree(a) for a in e.args]
    raise TypeError(f"the expression uses {name}, which the grader does not accept")


def _constant(name):
    import sympy

    return {"pi": sympy.pi, "E": sympy.E, "I": sympy.I, "oo": sympy.oo, "-oo": -sympy.oo,
            "zoo": sympy.zoo, "nan": sympy.nan}[name]


def encode_symbol(name: str, assumptions: dict) -> dict:
    return {"t": "symbol", "name": name, "assumptions": assumptions}


# ---------------------------------------------------------------- decode (judge side)

def decode(data, symbols: dict | None = None):
    """Rebuild a value sent by `encode`, validating everything. `symbols` maps names to the
    judge's own sympy symbols; any other name in an expression is rejected."""
    if not isinstance(data, dict) or "t" not in data:
        raise WireError("malformed value")
    kind = data["t"]
    if kind == "py":
        v = data.get("v")
        if v is not None and type(v) not in (bool, int, float, str):
            raise WireError("malformed plain value")
        if type(v) is str and len(v) > 10_000:
            raise WireError("string too long")
        return v
    if kind in ("list", "set"):
        items = [decode(v, symbols) for v in _list(data.get("items"))]
        return items if kind == "list" else Unordered(items)
    if kind == "dict":
        pairs = [_list(pair) for pair in _list(data.get("items"))]
        if any(len(pair) != 2 for pair in pairs):
            raise WireError("malformed mapping")
        return Pairs((decode(k, symbols), decode(v, symbols)) for k, v in pairs)
    if kind == "tensor":
        return decode_tensor(data)
    if kind == "function":
        params = data.get("params")
        if not isinstance(params, dict):
            raise WireError("malformed function")
        return Elementwise(data.get("name"), params)
    if kind == "module":
        return ModuleInfo.decode(data)
    if kind == "sympy":
        return _SympyBuilder(symbols or {}).build(data.get("tree"))
    if kind == "matrix":
        import sympy

        rows, cols = data.get("rows"), data.get("cols")
        entries = _list(data.get("entries"))
        if type(rows) is not int or type(cols) is not int or rows * cols != len(entries):
            raise WireError("malformed matrix")
        builder = _SympyBuilder(symbols or {})
        return sympy.Matrix(rows, cols, [builder.build(e) for e in entries])
    raise WireError(f"unknown value kind {kind!r}")


def kind_name(value) -> str:
    """What a decoded value is, for a student's message: "a tensor of shape (3,)", "a dict"."""
    if isinstance(value, TensorInfo):
        return f"a tensor of shape {value.shape}"
    names = {Pairs: "a dict", Unordered: "a set", list: "a list", str: "a string", bool: "a boolean",
             int: "a number", float: "a number", type(None): "None"}
    return names.get(type(value), "a sympy expression" if hasattr(value, "free_symbols") else f"a {type(value).__name__}")


class Unordered(list):
    """A set sent by the worker (kept as a list: its items need not be hashable)."""


class Pairs(list):
    """A dict sent by the worker, as (key, value) pairs (keys need not be hashable here)."""


class Elementwise:
    """A function applied elementwise to a tensor, chosen by name from ELEMENTWISE: how a graded
    function receives callables (phi, psi) without any code crossing the wire. The judge names it
    in the arguments; the worker and the reference call it like any Python function."""

    def __init__(self, name, params: dict):
        if type(name) is not str or name not in ELEMENTWISE:
            raise WireError(f"unknown elementwise function {str(name)[:40]!r}")
        if sorted(params) != sorted(ELEMENTWISE[name]) or not all(map(_finite, params.values())):
            raise WireError(f"{name} takes the finite numbers: {', '.join(ELEMENTWISE[name]) or 'none'}")
        self.name, self.params = name, {k: float(v) for k, v in params.items()}

    def __call__(self, x):
        import torch
        import torch.nn.functional as F

        if self.name == "identity":
            return x
        if self.name == "log":
            return torch.log(x)
        if self.name == "softplus":
            return F.softplus(x)
        if self.name == "exp_over":
            return torch.exp(x / self.params["tau"])
        return torch.relu(x + self.params["margin"])

    def __repr__(self):
        return {"exp_over": "exp(x / {tau:g})", "relu_plus": "relu(x + {margin:g})"}.get(
            self.name, self.name).format(**self.params)


class ModuleInfo:
    """A decoded description of a network, flow layer or density (autograder.modules), validated
    against its kind; `calls.materialize` builds the module where its tensors live."""

    def __init__(self, kind: str, settings: dict, tensors: dict):
        self.kind, self.settings, self.tensors = kind, settings, tensors

    @classmethod
    def decode(cls, data):
        tensors = data.get("tensors")
        if not isinstance(tensors, dict) or len(tensors) > 64:
            raise WireError("malformed module tensors")
        decoded = {str(name): decode_tensor(t) for name, t in tensors.items()}
        try:
            kind, settings = modules.validate(data.get("kind"), data.get("settings"), {
                name: (t.shape, t.dtype.startswith(("float", "bfloat"))) for name, t in decoded.items()})
        except modules.DescriptionError as error:
            raise WireError(str(error)) from None
        return cls(kind.name, settings, decoded)


def _finite(v) -> bool:
    return (type(v) is float and math.isfinite(v)) or (type(v) is int and abs(v) <= 2**53)


class TensorInfo:
    """A decoded tensor with the facts about it that the worker reported."""

    def __init__(self, tensor, dtype: str, shape: tuple, device: str):
        self.tensor, self.dtype, self.shape, self.device = tensor, dtype, shape, device

    def __repr__(self) -> str:   # what a message that prints a returned tensor shows the student
        return f"a {self.dtype} tensor of shape {self.shape}"

    def encode(self) -> dict:
        """Encode again, keeping the device the tensor was reported on."""
        if self.tensor is None:
            return {"t": "tensor", "dtype": self.dtype, "shape": list(self.shape),
                    "device": self.device, "data": None}
        return {**_encode_tensor(self.tensor), "device": self.device}


def decode_tensor(data) -> TensorInfo:
    import torch

    if not isinstance(data, dict):
        raise WireError("malformed tensor")
    dtype, shape, device = data.get("dtype"), data.get("shape"), data.get("device")
    if dtype not in TENSOR_DTYPES:
        raise WireError(f"unsupported dtype {dtype!r}")
    if not isinstance(shape, list) or not all(type(s) is int and s >= 0 for s in shape):
        raise WireError("malformed shape")
    if not isinstance(device, str) or len(device) > 32:
        raise WireError("malformed device")
    numel = math.prod(shape)
    if numel > MAX_TENSOR_ELEMENTS:
        raise WireError("tensor too large")
    torch_dtype = getattr(torch, dtype)
    if data.get("data") is None:
        return TensorInfo(None, dtype, tuple(shape), device)
    raw = base64.b64decode(data["data"], validate=True)
    itemsize = torch.empty((), dtype=torch_dtype).element_size()
    if len(raw) != numel * itemsize:
        raise WireError("tensor data does not match its shape")
    flat = torch.frombuffer(bytearray(raw), dtype=torch.uint8) if raw else torch.empty(0, dtype=torch.uint8)
    tensor = flat.view(torch_dtype).reshape(shape).clone()
    return TensorInfo(tensor, dtype, tuple(shape), device)


def _list(value) -> list:
    if not isinstance(value, list):
        raise WireError("expected a list")
    return value


class _SympyBuilder:
    def __init__(self, symbols: dict):
        self.symbols = symbols
        self.nodes = 0

    def build(self, node, depth: int = 0):
        import sympy

        self.nodes += 1
        if self.nodes > MAX_SYMPY_NODES or depth > MAX_SYMPY_DEPTH:
            raise WireError("the expression is too large")
        if not isinstance(node, list) or not node or not isinstance(node[0], str):
            raise WireError("malformed expression")
        head, args = node[0], node[1:]
        if head == "Symbol":
            name = args[0] if args else None
            if name not in self.symbols:
                raise WireError(f"the expression uses a symbol {str(name)[:40]!r} that is not "
                                f"one of the function's arguments ({', '.join(self.symbols)})")
            return self.symbols[name]
        if head == "Integer":
            return sympy.Integer(_int(args[0]))
        if head == "Rational":
            return sympy.Rational(_int(args[0]), _int(args[1]))
        if head == "Float":
            return sympy.Float(_float(args[0]))
        if head == "Const":
            if args[0] not in SYMPY_CONSTANTS:
                raise WireError("unknown constant")
            return _constant(args[0])
        if head == "Fn":
            if not args or args[0] not in SYMPY_FUNCTIONS:
                raise WireError(f"unsupported function {str(args[:1])[:40]}")
            return getattr(sympy, args[0])(*[self.build(a, depth + 1) for a in args[1:]])
        children = [self.build(a, depth + 1) for a in args]
        if head in ("Add", "Mul"):
            return getattr(sympy, head)(*children)
        if head == "Pow" and len(children) == 2:
            base, exponent = children
            if exponent.is_Number and abs(exponent) > 1000:
                raise WireError("exponent too large")
            if base.is_Number and exponent.is_Number and _digits(base) * abs(float(exponent)) > MAX_INTEGER_DIGITS:
                raise WireError("a number too large")   # nested powers would be evaluated without end
            return sympy.Pow(base, exponent)
        raise WireError(f"unsupported expression node {head!r}")


def _digits(number) -> float:
    """About how many decimal digits a sympy number's numerator or denominator (or a float) has."""
    if number.is_Rational:
        return max(len(str(abs(int(number.p)))), len(str(int(number.q))))
    magnitude = abs(complex(number))
    return abs(math.log10(magnitude)) + 1 if magnitude and math.isfinite(magnitude) else 1


def _int(text) -> int:
    if not isinstance(text, str) or len(text) > MAX_INTEGER_DIGITS:
        raise WireError("malformed integer")
    return int(text)


def _float(text) -> float:
    if not isinstance(text, str) or len(text) > 40:
        raise WireError("malformed float")
    return float(text)
