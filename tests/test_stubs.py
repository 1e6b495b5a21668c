"""solutions/ is the single source: committed stubs and public-check data must not drift."""
from __future__ import annotations

import base64
import copy
import json
import math
import os
import re
import shutil
import struct
import subprocess
import sys

import pytest

from autograder import engine, frozen, release, stubs, wire
from conftest import ASSIGNMENTS, ROOT

# another CPU's kernels compute other last bits: CI runs these again under another kernel set
pytestmark = pytest.mark.float_sensitive




@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_committed_stubs_match_the_solutions(assignment):
    stale = stubs.drift(ROOT, assignment)
    assert not stale, f"run `course stubs {assignment}`: {stale} are out of date"


def test_stub_keeps_signatures_and_replaces_regions():
    source = (
        "def f(x):\n"
        '    """Doc."""\n'
        "    ### BEGIN SOLUTION add one\n"
        "    return x + 1\n"
        "    ### END SOLUTION\n"
        "\n"
        "def g():\n"
        "    ### BEGIN SOLUTION\n"
        "    return 2\n"
        "    ### END SOLUTION\n")
    assert stubs.make_stub(source) == (
        "def f(x):\n"
        '    """Doc."""\n'
        "    # FIXME: add one\n"
        "    raise NotImplementedError\n"
        "\n"
        "def g():\n"
        "    # FIXME: your code here\n"
        "    raise NotImplementedError\n")


@pytest.mark.parametrize("source,problem", [
    ("### BEGIN SOLUTION\nx = 1\n", "never closed"),
    ("x = 1\n### END SOLUTION\n", "END SOLUTION without BEGIN"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n", "inside another region"),
])
def test_unbalanced_markers_are_reported_with_their_line(source, problem):
    with pytest.raises(stubs.StubError, match=problem):
        stubs.make_stub(source, "vae.py")


@pytest.mark.parametrize("assignment,names", [("hw1_vae", ("vae.py", "answers.py")),
                                              ("hw2_contrastive", ("losses.py", "answers.py")),
                                              ("hw3_gans", ("gans.py", "answers.py")),
                                              ("hw4_flows_autoregressive", ("autoregressive.py", "flows.py", "answers.py")),
                                              ("hw5_ebm_diffusion", ("diffusion.py", "nce.py", "answers.py"))])
def test_stubs_hold_no_solution_code(assignment, names):
    for name in names:
        stub = (ROOT / "assignments" / assignment / name).read_text()
        solution = (ROOT / "solutions" / assignment / name).read_text()
        regions = re.findall(r"### BEGIN SOLUTION.*?\n(.*?)### END SOLUTION", solution, re.S)
        assert regions and "SOLUTION" not in stub
        stub_lines = {line.strip() for line in stub.splitlines()}
        for line in "".join(regions).splitlines():
            assert not line.strip() or line.strip() not in stub_lines, line
        assert stub.count("raise NotImplementedError") == stub.count("# FIXME") == len(regions)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_assignment_readme_lists_every_check_with_its_points(assignment):
    from autograder import config

    readme = (ROOT / "assignments" / assignment / "README.md").read_text().replace("\\|", "|")
    for name, setting in config.load(ROOT / "course.yml").assignment(assignment).settings().items():
        row = re.search(r"^\|\s*`?" + re.escape(name) + r"`?\s*\|\s*([\d.]+)\s*\|\s*(\w+)", readme, re.MULTILINE)
        assert row and (float(row[1]), row[2]) == (setting.points, setting.visibility), name


# ---------------------------------------------------------------- drift within tolerance

LOWEST_BIT = {"float64": "int64", "float32": "int32", "bfloat16": "int16", "float16": "int16"}


def last_bits_flipped(node, flipped: list):
    """Frozen data as another CPU might compute it: the lowest mantissa bit of every finite float
    flipped, in tensors (float64, float32, bfloat16) and in plain JSON numbers. `flipped` collects
    the dtypes touched."""
    import torch

    if isinstance(node, dict):
        if node.get("t") == "tensor" and node["dtype"] in LOWEST_BIT and node.get("data"):
            t = wire.decode_tensor(node).tensor
            bits = t.view(getattr(torch, LOWEST_BIT[node["dtype"]]))
            t = torch.where(torch.isfinite(t), bits ^ 1, bits).view(t.dtype)
            flipped.append(node["dtype"])
            return {**node, "data": base64.b64encode(t.reshape(-1).view(torch.uint8).numpy().tobytes()).decode()}
        return {k: last_bits_flipped(v, flipped) for k, v in node.items()}
    if isinstance(node, list):
        return [last_bits_flipped(v, flipped) for v in node]
    if type(node) is float and math.isfinite(node):
        flipped.append("json")
        return struct.unpack("<d", struct.pack("<q", struct.unpack("<q", struct.pack("<d", node))[0] ^ 1))[0]
    return node


def other_time_limits(data: dict) -> dict:
    """The same data with each check's time limit gone where it was, and an odd one where it was not."""
    data = copy.deepcopy(data)
    for i, entry in enumerate(data["checks"]):
        if "time_limit" in entry:
            del entry["time_limit"]
        else:
            entry["time_limit"] = 7 + i
    return data


def committed_data(assignment: str) -> dict:
    return json.loads((ROOT / "assignments" / assignment / engine.PUBLIC_CHECKS_FILE).read_text())


def replaced_tensor(node: dict, change) -> dict:
    import torch

    t = change(wire.decode_tensor(node).tensor)
    return {**node, "data": base64.b64encode(t.reshape(-1).view(torch.uint8).numpy().tobytes()).decode()}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_last_bits_and_time_limits_are_no_drift(assignment):
    committed, flipped = committed_data(assignment), []
    other = last_bits_flipped(committed, flipped)
    assert other != committed and {"float32", "float64", "json"} <= set(flipped)
    assert frozen.differences(other, committed) == []
    assert frozen.differences(other_time_limits(other), committed) == []
    # for `course stubs`, a changed time limit is a change of the file
    assert frozen.differences(other_time_limits(committed), committed, time_limits=True)


def test_bfloat16_last_bits_are_no_drift():
    committed, flipped = committed_data("hw2_contrastive"), []
    assert frozen.differences(last_bits_flipped(committed, flipped), committed) == []
    assert "bfloat16" in flipped


def test_real_changes_of_frozen_data_are_drift_naming_the_check():
    import torch

    committed = committed_data("hw1_vae")
    kl = next(i for i, c in enumerate(committed["checks"]) if c["spec"]["name"] == "gaussian_kl: values and gradients")
    changes = {
        "value": lambda d: d["checks"][kl]["prepared"][1].update(
            value=replaced_tensor(d["checks"][kl]["prepared"][1]["value"], lambda t: t * 1.001)),
        "dtype": lambda d: d["checks"][kl]["prepared"][0]["value"].update(dtype="float16"),
        "points": lambda d: d["checks"][kl].update(points=d["checks"][kl]["points"] + 1e-6),
        "spec": lambda d: d["checks"][kl]["spec"]["params"].update(extra=1),   # last: its message is checked below
    }
    for what, change in changes.items():
        data = copy.deepcopy(committed)
        change(data)
        lines = frozen.differences(data, committed)
        assert len(lines) == 1 and lines[0].startswith("'gaussian_kl: values and gradients' differs ("), (what, lines)
    assert frozen.differences(data, committed)[0] == \
        "'gaussian_kl: values and gradients' differs (spec.params.extra is 1, expected missing)"
    data = copy.deepcopy(committed)
    change = changes["value"]
    change(data)
    assert re.fullmatch(r"'gaussian_kl: values and gradients' differs \(case 2: value is \S+ at index \([\d, ]+\), "
                        r"expected \S+\)", frozen.differences(data, committed)[0])
    data = copy.deepcopy(committed)
    del data["checks"][kl]
    data["timeout"] += 1
    assert frozen.differences(data, committed) == [
        f"setting timeout is {committed['timeout'] + 1!r}, expected {committed['timeout']!r}",
        "the public checks differ (new: 'gaussian_kl: values and gradients')"]
    # a symbolic check's symbols are its function's arguments: their order counts
    data = committed_data("hw3_gans")
    density = next(c for c in data["checks"] if c["spec"]["name"].startswith("density_from_discriminator:"))
    assert list(density["spec"]["params"]["symbols"]) == ["f0", "d"]
    swapped = copy.deepcopy(data)
    next(c for c in swapped["checks"] if c["spec"]["name"] == density["spec"]["name"])["spec"]["params"]["symbols"] = \
        {"d": "probability", "f0": "positive"}
    assert frozen.differences(swapped, data) == [
        "'density_from_discriminator: a sympy expression of the arguments' differs (spec.params.symbols: "
        "['d', 'f0'], expected in the order ['f0', 'd'] (the function's arguments))"]
    # tensors without a tolerance (integers, booleans) are compared exactly
    whole = {"t": "tensor", "dtype": "int64", "shape": [3], "device": "cpu",
             "data": base64.b64encode(torch.arange(3).numpy().tobytes()).decode()}
    one = {"checks": [{"spec": {"name": "f: ints"}, "prepared": [{"value": whole}]}]}
    two = copy.deepcopy(one)
    two["checks"][0]["prepared"][0]["value"] = replaced_tensor(whole, lambda t: t + 1)
    assert frozen.differences(two, one) == ["'f: ints' differs (case 1: value: int64 tensor differs)"]


def course_cli(*args, cwd):
    env = {k: v for k, v in os.environ.items() if k != "DGM_COURSE_ROOT"}
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def test_another_cpu_last_bits_pass_check_release_and_nbgrader_a_changed_formula_does_not(course_copy, tmp_path):
    """On a fresh clone on another machine, the committed public-check data differs from the
    reference's in the last bits: `course stubs --check`, `course release` and `course nbgrader`
    accept it and `course stubs` leaves it as it is; a changed formula is still drift."""
    shutil.copyfile(ROOT / "constraints.txt", course_copy / "constraints.txt")   # for requirements.txt
    path = course_copy / "assignments" / "hw1_vae" / engine.PUBLIC_CHECKS_FILE
    path.write_text(json.dumps(last_bits_flipped(json.loads(path.read_text()), []), indent=1) + "\n")
    perturbed = path.read_bytes()
    run = course_cli("stubs", "hw1_vae", "--check", cwd=course_copy)
    assert run.returncode == 0, run.stdout + run.stderr
    assert stubs.generate(course_copy, "hw1_vae") == []   # `course stubs hw1_vae` leaves it as it is
    assert path.read_bytes() == perturbed
    run = course_cli("release", "hw1_vae", tmp_path / "handout", cwd=course_copy)
    assert run.returncode == 0, run.stdout + run.stderr
    assert (tmp_path / "handout" / engine.PUBLIC_CHECKS_FILE).read_bytes() == perturbed
    run = course_cli("nbgrader", "hw1_vae", tmp_path / "nbgrader", cwd=course_copy)
    assert run.returncode == 0, run.stdout + run.stderr
    assert (tmp_path / "nbgrader" / "source" / "hw1_vae" / engine.PUBLIC_CHECKS_FILE).read_bytes() == perturbed

    reference = course_copy / "solutions" / "hw1_vae" / "vae.py"
    formula = "return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=-1)"
    assert formula in reference.read_text()
    reference.write_text(reference.read_text().replace(formula, formula.replace("0.5", "0.51")))
    run = course_cli("stubs", "hw1_vae", "--check", cwd=course_copy)
    assert run.returncode == 1, run.stdout + run.stderr
    drifted = [line for line in run.stdout.splitlines() if line.startswith("out of date: ")]
    assert ("out of date: assignments/hw1_vae/public_checks.json: 'gaussian_kl: values and gradients' "
            "differs (case 1: ") in run.stdout, run.stdout
    assert len(drifted) == len(set(drifted)) and all(len(line) < 200 for line in drifted), drifted
    assert not any("vae.py" in line for line in drifted)   # the stub itself did not change
    with pytest.raises(release.ReleaseError, match="out of date .*'gaussian_kl: values and gradients' differs"):
        release.release(course_copy, "hw1_vae", tmp_path / "refused")
    assert stubs.generate(course_copy, "hw1_vae") == [engine.PUBLIC_CHECKS_FILE]   # a real change is written
    assert stubs.drift(course_copy, "hw1_vae") == []
