"""Frozen public-check data compared within tolerance: the drift check of `course stubs --check`
and `course release` (stubs.drift).

The reference's floats differ in their last bits from one CPU to another, and every instructor's
machine is another machine: so structure is compared exactly and numbers within the tolerance
with which checks compare a student's values.
"""
from __future__ import annotations

import json
import re

from . import wire
from .checks.tensors import TOLERANCES, value_mismatch

IGNORED_KEY = "time_limit"   # measured from the reference's speed: differs from machine to machine


def differences(committed: dict, fresh: dict, time_limits: bool = False) -> list[str]:
    """How frozen public-check data `committed` differs from `fresh` (what the solutions give now),
    one short line per drifted check (or per top-level setting); empty when they agree.

    Structure is compared exactly: the list of checks, their specs, names, kinds, points, files,
    timeouts, tensors' dtypes, shapes and devices, every string, integer and boolean, and the order
    of a symbolic check's symbols (its function's arguments, in order). Numbers
    within tolerance: floating-point tensors with the tolerance of their dtype, the way checks
    compare a student's values (checks.tensors.value_mismatch and TOLERANCES), non-finite elements
    exactly; other tensors (int64, bool, ...) bit for bit; plain JSON floats with float64's tolerance.
    Keys "time_limit" (seconds, from the reference's speed on the freezing machine) are ignored,
    unless time_limits (for `generate`, so that the file follows changed limits).
    In the lines, "is" is the committed value and "expected" the fresh one."""
    if not time_limits:
        committed, fresh = _without_time_limits(committed), _without_time_limits(fresh)
    if not isinstance(committed, dict) or not isinstance(fresh, dict):
        return ["not a JSON object"]
    lines = []
    for key in sorted(set(committed) | set(fresh)):
        if key == "checks":
            continue
        problem = _difference(committed.get(key, _MISSING), fresh.get(key, _MISSING), key)
        if problem:
            lines.append(f"setting {problem}")
    old, new = committed.get("checks", _MISSING), fresh.get("checks", _MISSING)
    if not isinstance(old, list) or not isinstance(new, list):
        return lines + ([_difference(old, new, "checks")] if old != new else [])
    old_names, new_names = [_check_name(c) for c in old], [_check_name(c) for c in new]
    if old_names != new_names:
        added = [n for n in new_names if n not in old_names]
        removed = [n for n in old_names if n not in new_names]
        what = "; ".join([f"new: {', '.join(map(repr, added))}"] * bool(added) +
                         [f"gone: {', '.join(map(repr, removed))}"] * bool(removed)) or "another order"
        return lines + [f"the public checks differ ({what})"]
    for name, a, b in zip(old_names, old, new):
        problem = _difference(a, b, "")
        if problem:
            lines.append(f"{name!r} differs ({problem})")
    return lines


_MISSING = object()


def _without_time_limits(node):
    if isinstance(node, dict):
        return {k: _without_time_limits(v) for k, v in node.items() if k != IGNORED_KEY}
    if isinstance(node, list):
        return [_without_time_limits(v) for v in node]
    return node


def _check_name(entry) -> str:
    spec = entry.get("spec") if isinstance(entry, dict) else None
    return spec.get("name", "?") if isinstance(spec, dict) else "?"


def _where(path: str) -> str:
    """A check entry's path for people: prepared[1].value -> case 2: value."""
    match = re.fullmatch(r"prepared\[(\d+)\]\.?(.*)", path)
    if match:
        return f"case {int(match[1]) + 1}" + (f": {match[2]}" if match[2] else "")
    return path or "the entry"


def _short(value) -> str:
    text = "missing" if value is _MISSING else json.dumps(value, sort_keys=True)
    return text if len(text) <= 40 else text[:37] + "..."


def _difference(a, b, path: str) -> str | None:
    """The first difference of two JSON values within tolerance, as `where: what`, or None."""
    if isinstance(a, dict) and isinstance(b, dict):
        if a.get("t") == b.get("t") == "tensor":
            return _tensor_difference(a, b, path)
        if path.endswith(".symbols") and set(a) == set(b) and list(a) != list(b):
            return f"{_where(path)}: {list(a)}, expected in the order {list(b)} (the function's arguments)"
        for key in sorted(set(a) | set(b)):
            problem = _difference(a.get(key, _MISSING), b.get(key, _MISSING), f"{path}.{key}" if path else key)
            if problem:
                return problem
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{_where(path)}: {len(a)} items, expected {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            problem = _difference(x, y, f"{path}[{i}]")
            if problem:
                return problem
        return None
    if type(a) is float and type(b) is float:
        import torch

        close = value_mismatch(torch.tensor(a, dtype=torch.float64), torch.tensor(b, dtype=torch.float64),
                               "float64", path) is None
        return None if close and _same_special(a, b) else f"{_where(path)} is {a!r}, expected {b!r}"
    if type(a) is type(b) and a == b:
        return None
    return f"{_where(path)} is {_short(a)}, expected {_short(b)}"


def _tensor_difference(a: dict, b: dict, path: str) -> str | None:
    what = _where(path)
    for key in sorted((set(a) | set(b)) - {"data"}):
        if a.get(key, _MISSING) != b.get(key, _MISSING) or type(a.get(key)) is not type(b.get(key)):
            return f"{what}: tensor {key} is {_short(a.get(key, _MISSING))}, expected {_short(b.get(key, _MISSING))}"
    if a.get("data") == b.get("data"):
        return None
    if a.get("data") is None or b.get("data") is None:
        return f"{what}: tensor data is {_short(a.get('data'))}, expected {_short(b.get('data'))}"
    try:
        x, y = wire.decode_tensor(a).tensor, wire.decode_tensor(b).tensor
    except wire.WireError as error:
        return f"{what}: malformed tensor ({error})"
    if a["dtype"] not in TOLERANCES:
        return f"{what}: {a['dtype']} tensor differs"   # integers, booleans: exactly (the data differs)
    # a known mistake's or a variant's value names a cause at float32's precision (diagnoses.explain)
    diagnostic = a["dtype"] == "float64" and re.search(r"(^|\.)(mistakes|variants)\[", path)
    problem = value_mismatch(x, y, "float32" if diagnostic else a["dtype"], what)
    if problem is None and not _same_special(x, y):
        problem = f"{what}: non-finite elements differ"
    return _plain(problem)


def _same_special(a, b) -> bool:
    """Whether NaN and infinities (which value_mismatch does not tell apart) sit at the same places."""
    import torch

    a, b = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
    return torch.equal(a.nan_to_num(0.0, 1.0, -1.0).where(~torch.isfinite(a), torch.zeros_like(a)),
                       b.nan_to_num(0.0, 1.0, -1.0).where(~torch.isfinite(b), torch.zeros_like(b)))


def _plain(problem: str | None) -> str | None:
    """value_mismatch's sentence without its hint for students (a transpose? an overflow?)."""
    return problem if problem is None else re.sub(r" \([^()]*\?[^()]*\)$", "", problem)
