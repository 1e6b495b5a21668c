"""Authoring cannot silently go wrong. Every check kind declares its parameters, and a misspelt
optional one, a missing required one or a wrong type fails at load with one located line (cases
generated from the declarations); errors in checks.py, properties.py and mistakes.py are one line,
never a traceback (`--debug` shows one); docs/authoring.md's reference of the kinds is generated
from the declarations; `course new` makes a working assignment, which takes every check kind with no
edit outside its folders and course.yml; a forbidden call costs the function's points, however
imported, and no hint recommends it."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from autograder import cli, docs, engine, leaks
from autograder.checks import AuthoringError, registry
from conftest import ROOT

NEW = "hw0_warmup"

# A valid parameter set for every kind: the generated cases change one thing each.
VALID = {
    "matches_reference": {"arg_names": ["x"], "cases": [{"seed": 1, "dtype": "float32", "args": [{"normal": [2]}]}]},
    "meta_probe": {"shapes": [[2]]},
    "property": {"property": "p"},
    "raises": {"error": "ValueError", "cases": [{"args": [{"value": 1}], "why": "for 1"}]},
    "symbolic_equals": {"symbols": {"x": "real"}},
    "symbolic_form": {"symbols": {"x": "real"}},
    "multiple_choice": {"options": "ab"},
    "choice_format": {"options": "ab"},
    "choice_table": {"rows": ["A"], "columns": ["c"], "values": ["yes", "no"]},
    "choice_table_format": {"rows": ["A"], "columns": ["c"], "values": ["yes", "no"]},
    "grid_key": {"keys": [["A"]], "size": 3},
    "grid_format": {"keys": [["A"]], "size": 3},
    "forbidden_calls": {"calls": ["torch.logsumexp"]},
    "noise_is_standard_normal": {}, "noise_is_independent": {}, "fresh_noise": {}, "reparameterization_gradient": {},
}


def mistaken(kind: str) -> list[tuple[str, dict, str]]:
    """(what, params, the message's end) for each mistake the declarations allow: a misspelt
    optional parameter, a missing required one, a wrong type."""
    params, fields = VALID[kind], registry()[kind].Params.model_fields
    optional = [name for name, field in fields.items() if not field.is_required()]
    required = [name for name, field in fields.items() if field.is_required()]
    out = []
    if optional:
        name = optional[0]
        out.append(("misspelt", {**params, name + name[-1]: params.get(name)},
                    f"unknown parameter {name + name[-1]} (did you mean {name}?)"))
    else:
        out.append(("unknown", {**params, "tolerance": 1}, "unknown parameter tolerance"))
    if required:
        out.append(("missing", {k: v for k, v in params.items() if k != required[0]},
                    f"missing required parameter {required[0]}"))
    if fields:
        name = (required or optional)[0]
        out.append(("mistyped", {**params, name: 1.5}, f"parameter {name}: "))
    return out


CASES = [(kind, what, params, end) for kind in sorted(VALID) for what, params, end in mistaken(kind)]


def test_every_kind_has_a_valid_example():
    assert set(VALID) == set(registry())
    for kind, params in VALID.items():
        registry()[kind](f"f: {kind}", "ops", "f", **params)   # no error


@pytest.mark.parametrize("kind,what,params,end", CASES, ids=[f"{c[0]}: {c[1]}" for c in CASES])
def test_a_parameter_mistake_fails_at_load_with_one_located_line(tmp_path, kind, what, params, end):
    folder = tmp_path / "solutions" / NEW
    folder.mkdir(parents=True)
    (folder / "checks.py").write_text(textwrap.dedent(f"""\
        from autograder.checks import registry

        FILES = ["ops.py"]
        CHECKS = [
            registry()[{kind!r}]("f: the check", "ops", "f", **{params!r}),
        ]
        """))
    with pytest.raises(AuthoringError) as error:
        engine.load_suite(folder)
    message = str(error.value)
    assert "\n" not in message and message.startswith(f"solutions/{NEW}/checks.py:5: f \"the check\": "), message
    assert end in message, message


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A copy of the course with the assignment `course new` makes."""
    target = tmp_path_factory.mktemp("course") / "course"
    target.mkdir()
    for part in ("course.yml", "solutions", "assignments", "constraints.txt", "pyproject.toml", "README.md"):
        subprocess.run(["cp", "-r", str(ROOT / part), str(target / part)], check=True)
    assert cli.main(["--root", str(target), "new", NEW]) == 0
    return target


def course_run(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder", "--root", str(root), *args], capture_output=True,
                          text=True, timeout=600, env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_authoring_errors_are_one_line_and_debug_shows_the_traceback(course, tmp_path):
    checks = course / "solutions" / NEW / "checks.py"
    original = checks.read_text()
    try:
        checks.write_text(original.replace('grad_wrt=[0]', 'grad_wrto=[0]'))
        run = course_run(course, "stubs", NEW)
        assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
        (line,) = run.stderr.strip().splitlines()
        assert line.startswith(f"error: solutions/{NEW}/checks.py:")
        assert line.endswith('log_sum_exp "values and gradients": unknown parameter grad_wrto (did you mean grad_wrt?)')
        assert "Traceback" in course_run(course, "--debug", "stubs", NEW).stderr
    finally:
        checks.write_text(original)
    for path, broken, where in [
            (course / "assignments" / NEW / "properties.py", "PROPERTIES = {f.__name__: f for f in (shift_equivariants,)}",
             f"assignments/{NEW}/properties.py:"),
            (course / "solutions" / NEW / "mistakes.py", 'MISTAKES = {"log_sum_exp": [("a hint",)]}',
             f"solutions/{NEW}/mistakes.py: MISTAKES['log_sum_exp'] entry 1 must be"),
            (course / "solutions" / NEW / "ops.py", "def log_sum_exp(x):\n    return x +", f"solutions/{NEW}/ops.py:")]:
        original = path.read_text()
        try:
            path.write_text(original + "\n" + broken + "\n")
            run = course_run(course, "grade", NEW, str(course / "solutions" / NEW), "--results", str(tmp_path / "r.json"))
            assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
            assert run.stderr.strip().splitlines()[-1].startswith(f"error: {where}"), run.stderr
        finally:
            path.write_text(original)


def test_the_kinds_reference_in_the_docs_is_generated_from_the_declarations():
    text = (ROOT / docs.AUTHORING).read_text()
    assert docs.expected(text) == text, "run `course docs`"
    for kind in registry():
        assert f"#### `{kind}`" in text


def grade(root: Path, folder: Path, only=None) -> engine.Report:
    return engine.grade(root, NEW, folder, device="cpu", only=only)


def test_course_new_grades_the_reference_full_and_the_stub_zero(course):
    total = grade(course, course / "solutions" / NEW)
    assert total.score == total.max_score > 0, {r.name: r.message for r in total.results if not r.passed}
    stub = grade(course, course / "assignments" / NEW)
    assert stub.score == 0
    # the stub uses no forbidden call: its checks say what is wrong, not that
    assert not [r.name for r in stub.results if "forbids" in r.message]
    readme = (course / "assignments" / NEW / "README.md").read_text()
    assert readme.count("| **Autograded total** |") == 1 and readme.count("## Autograded checks") == 1


def test_a_misspelt_function_in_mistakes_py_is_named(course):
    mistakes = course / "solutions" / NEW / "mistakes.py"
    original = mistakes.read_text()
    try:
        mistakes.write_text(original.replace('"log_sum_exp": [', '"log_sum_xp": ['))
        run = course_run(course, "stubs", NEW)
        assert run.returncode == 2 and run.stderr.strip() == (
            f"error: solutions/{NEW}/mistakes.py: MISTAKES has 'log_sum_xp', which is no graded function "
            "(did you mean 'log_sum_exp'?)"), run.stderr
    finally:
        mistakes.write_text(original)


def test_a_rubric_bullet_copied_alone_is_refused(course, tmp_path):
    readme = course / "assignments" / NEW / "README.md"
    original = readme.read_text()
    try:
        readme.write_text(original + "\n- +1: the identity, with the factor exp(m) taken out of the sum\n")
        run = course_run(course, "release", NEW, str(tmp_path / "out"))
        assert run.returncode == 2 and "README.md: rubric text of rubric.md" in run.stderr, run.stderr
    finally:
        readme.write_text(original)


EXTENSION = {
    "ops.py": '''

def sample_normal(mu, logvar):
    """A draw of N(mu, exp(logvar)), reparameterized."""
    ### BEGIN SOLUTION noise of mu's shape, dtype and device
    return mu + (0.5 * logvar).exp() * torch.randn_like(mu)
    ### END SOLUTION
''',
    "answers.py": '''

def lse_table():
    """Which is lse(x) invariant to? A dict {"shift": {"invariant": "yes"|"no"}, "scale": {...}}."""
    ### BEGIN SOLUTION
    return {"shift": {"invariant": "no"}, "scale": {"invariant": "no"}}
    ### END SOLUTION


def lse_grid():
    """The 3 x 3 grid of ones where x_ij = max(x) for the matrix of the question, keyed ("A",)."""
    ### BEGIN SOLUTION
    return {("A",): [[0, 0, 1], [0, 0, 0], [0, 0, 0]]}
    ### END SOLUTION
''',
    "checks.py": '''
from autograder.checks.choice import ChoiceTable, ChoiceTableFormat
from autograder.checks.grids import GridFormat, GridKey
from autograder.checks.sampling import FreshNoise, NoiseIsIndependent, NoiseIsStandardNormal, ReparameterizationGradient

TABLE = {"rows": ["shift", "scale"], "columns": ["invariant"], "values": ["yes", "no"]}
CHECKS += [
    ops("sample_normal: shape, dtype and device", MatchesReference, arg_names=["mu", "logvar"], compare="structure",
        cases=[case(5, "float32", normal(3, 2), normal(3, 2))]),
    ops("sample_normal: noise is standard normal", NoiseIsStandardNormal),
    ops("sample_normal: noise is independent", NoiseIsIndependent),
    ops("sample_normal: fresh noise", FreshNoise),
    ops("sample_normal: gradient path", ReparameterizationGradient),
    answers("lse_table: well-formed", ChoiceTableFormat, **TABLE),
    answers("lse_table: answer key", ChoiceTable, **TABLE),
    answers("lse_grid: well-formed", GridFormat, keys=[["A"]], size=3),
    answers("lse_grid: answer key", GridKey, keys=[["A"]], size=3),
]
''',
}
EXTENSION_SETTINGS = '''      sample_normal:
        "shape, dtype and device": {points: 0.5, visibility: public}
        "noise is standard normal": {points: 1, visibility: public}
        "noise is independent": {points: 0.5, visibility: hidden}
        "fresh noise": {points: 0.5, visibility: public}
        "gradient path": {points: 1, visibility: public}
      lse_table:
        "well-formed": {points: 0.5, visibility: public}
        "answer key": {points: 1, visibility: hidden}
      lse_grid:
        "well-formed": {points: 0.5, visibility: public}
        "answer key": {points: 1, visibility: hidden}
'''


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and ".prepared" not in p.parts}


def test_the_new_assignment_takes_every_check_kind_and_ships(course, tmp_path):
    """Extended with the kinds `course new` does not use, through its own folders and course.yml
    only: the reference full, the stub zero, released (audited) and zipped for Gradescope."""
    before = snapshot(course)
    for name, text in EXTENSION.items():
        path = course / "solutions" / NEW / name
        path.write_text(path.read_text() + text)
    (course / "course.yml").write_text((course / "course.yml").read_text() + EXTENSION_SETTINGS)
    assert cli.main(["--root", str(course), "stubs", NEW]) == 0
    kinds = {c.kind for c in engine.load_suite(course / "solutions" / NEW).checks}
    assert kinds == set(registry()), set(registry()) - kinds
    total = grade(course, course / "solutions" / NEW)
    assert total.score == total.max_score, {r.name: r.message for r in total.results if not r.passed}
    assert grade(course, course / "assignments" / NEW).score == 0
    assert cli.main(["--root", str(course), "release", NEW, str(tmp_path / "released")]) == 0
    assert leaks.scan(leaks.text_files(tmp_path / "released"), leaks.secrets(course, NEW)) == []
    requirements = (tmp_path / "released" / "requirements.txt").read_text()
    assert "torchvision" not in requirements and "matplotlib" not in requirements   # no notebook here
    assert cli.main(["--root", str(course), "gradescope", NEW, str(tmp_path / "zip.zip")]) == 0
    with zipfile.ZipFile(tmp_path / "zip.zip") as archive:
        names = archive.namelist()
    assert f"course/solutions/{NEW}/checks.py" in names and f"course/solutions/{NEW}/rubric.md" not in names
    changed = {name for name, data in snapshot(course).items() if before.get(name) != data}
    assert changed and all(name == "course.yml" or name.startswith((f"solutions/{NEW}/", f"assignments/{NEW}/"))
                           for name in changed), changed


LSE_HEAD = "def log_sum_exp(x):\n    if x.dim() == 0:\n        raise ValueError('0-d')\n"


@pytest.mark.parametrize("source,line", [
    ("import torch\n\n\n" + LSE_HEAD + "    return torch.logsumexp(x, -1)\n", 7),
    ("import torch\nfrom torch import logsumexp as lse\n\n\n" + LSE_HEAD + "    return lse(x, dim=-1)\n", 8),
    ("import torch\n\n\n" + LSE_HEAD + "    return x.logsumexp(-1)\n", 7),
    ("import torch as T\n\n\ndef _reduce(x):\n    return getattr(T, 'logsumexp')(x, -1)\n\n\n" + LSE_HEAD
     + "    return _reduce(x)\n", 5),
], ids=["torch.logsumexp", "imported as lse", "the tensor method", "getattr in a helper"])
def test_a_forbidden_call_costs_the_function_its_points(course, tmp_path, source, line):
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "ops.py").write_text(source)
    (folder / "answers.py").write_text((course / "solutions" / NEW / "answers.py").read_text())
    results = {r.name: r for r in grade(course, folder, {"log_sum_exp"}).results}
    rule = results["log_sum_exp: no torch.logsumexp"]
    assert not rule.passed and f"line {line}: torch.logsumexp" in rule.message, rule.message
    assert all(r.score == 0 for r in results.values()), {n: r.score for n, r in results.items()}
    assert "not counted: log_sum_exp() uses a call this assignment forbids" in results[
        "log_sum_exp: values and gradients"].message


@pytest.mark.parametrize("body", [
    "    m = torch.max(x, dim=-1, keepdim=True).values\n    return m.squeeze(-1) + torch.log(torch.exp(x - m).sum(-1))\n",
    "    m = x.amax(-1)\n    return m + (x - m.unsqueeze(-1)).exp().sum(-1).log()\n",
], ids=["torch.max", "amax"])
def test_correct_variants_without_the_forbidden_call_get_full_marks(course, tmp_path, body):
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "ops.py").write_text("import torch\n\n\n" + LSE_HEAD + body)
    (folder / "answers.py").write_text((course / "solutions" / NEW / "answers.py").read_text())
    results = grade(course, folder, {"log_sum_exp"}).results
    assert all(r.passed for r in results), {r.name: r.message for r in results if not r.passed}


def test_no_hint_recommends_the_forbidden_call(course, tmp_path):
    """The naive sum of exponentials overflows: the hints name stable forms, but not logsumexp."""
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "ops.py").write_text("import torch\n\n\n" + LSE_HEAD + "    return x.exp().sum(-1).log()\n")
    (folder / "answers.py").write_text((course / "solutions" / NEW / "answers.py").read_text())
    results = {r.name: r for r in grade(course, folder, {"log_sum_exp"}).results}
    stable = results["log_sum_exp: stable at |x| up to 1e4 in float32"]
    assert not stable.passed and "not stable in float32" in stable.message
    hints = [r.message for name, r in results.items() if name != "log_sum_exp: no torch.logsumexp"]
    assert all("logsumexp" not in message for message in hints), hints


def walkthrough() -> list[tuple[str, int]]:
    """The commands of docs/authoring.md's walkthrough, in order, with the exit status each is meant
    to have (0, or the one a trailing `# exit N` says)."""
    text = (ROOT / docs.AUTHORING).read_text()
    section = text.split("## From `course new` to a released folder", 1)[1].split("\n## ", 1)[0]
    steps = []
    for block in re.findall(r"```sh\n(.*?)```", section, re.S):
        for line in block.strip().splitlines():
            command, _, comment = line.partition("  # ")
            steps.append((command.strip(), int(comment.split()[1]) if comment.startswith("exit ") else 0))
    return steps


def test_the_walkthrough_of_the_docs_runs_as_written(tmp_path):
    """From `course new` to a released folder whose local check passes: every command of
    docs/authoring.md's walkthrough, in a copy of the course, with the exit status it is meant to
    have; the error it quotes is the one printed."""
    course = tmp_path / "course"
    course.mkdir()
    for part in ("course.yml", "solutions", "assignments", "constraints.txt", "pyproject.toml", "README.md"):
        subprocess.run(["cp", "-r", str(ROOT / part), str(course / part)], check=True)
    environment = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    steps = walkthrough()
    assert len(steps) >= 10 and steps[0][0].startswith("course new")
    printed = {}   # by step number: what each printed
    for number, (command, status) in enumerate(steps):
        run = subprocess.run(["bash", "-c", command], cwd=course, env=environment, capture_output=True, text=True,
                             timeout=600)
        assert run.returncode == status, (command, run.stdout[-2000:], run.stderr[-2000:])
        printed[number] = run.stdout + run.stderr
    quoted = re.search(r"which prints `(error: [^`]*)`", " ".join((ROOT / docs.AUTHORING).read_text().split()))[1]
    failed = next(output for (_, status), output in zip(steps, printed.values()) if status == 2)
    assert quoted in " ".join(failed.split()), failed
    assert "held back" in printed[len(steps) - 3] and "Score: " in printed[len(steps) - 3]
    assert (course / "hw0_warmup-autograder.zip").is_file() and (course / "nbgrader-course" / "source" / "hw0_warmup").is_dir()
