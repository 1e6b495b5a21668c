"""`course new ID`: a minimal working assignment to start from. One graded function with a check of
each family (values and gradients, stability, a device probe, a property, an exception, a forbidden
call), a derivation (sympy) and a multiple choice, a known mistake, a hand-graded question with its
rubric, and the course.yml entry; `course stubs` then writes the stubs, the public checks' data and
the README's checks table. The reference gets full marks and the stub zero at once; docs/authoring.md
walks from here to a released folder."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from . import config, stubs

SOLUTION_FILES = {
    "ops.py": '''"""{id}: the code students write (README.md has the questions)."""
import torch


def log_sum_exp(x):
    """Question 1: log(sum_j exp(x_j)) over the last dimension of x (shape x.shape[:-1]), stable in
    float32 for |x| up to 1e4, without torch.logsumexp. A 0-d x raises ValueError."""
    if x.dim() == 0:
        raise ValueError("log_sum_exp needs a tensor with a last dimension")
    ### BEGIN SOLUTION exp overflows beyond about 88 in float32: take the largest element out first
    largest = x.max(-1, keepdim=True).values.detach()
    return (x - largest).exp().sum(-1).log() + largest.squeeze(-1)
    ### END SOLUTION
''',
    "answers.py": '''"""{id}: answers as sympy expressions and option letters (README.md has the questions)."""
import sympy


def softplus_derivative(x):
    """Question 2: the derivative of softplus(x) = log(1 + e^x), a sympy expression of x."""
    ### BEGIN SOLUTION differentiate log(1 + exp(x)) with the chain rule
    return sympy.exp(x) / (1 + sympy.exp(x))
    ### END SOLUTION


def mc_logsumexp_bounds():
    """Question 3: which bounds hold for every x of length n? Option letters, e.g. {"a"}."""
    ### BEGIN SOLUTION
    return {"b"}
    ### END SOLUTION
''',
    "checks.py": '''"""The checks of {id}: what is checked and on which inputs (course.yml gives the points and the
visibility). Hidden: it lives with the references; the public checks reach students only as the data
frozen in assignments/{id}/public_checks.json. docs/authoring.md lists every kind and its parameters."""
from autograder.checks.choice import ChoiceFormat, MultipleChoice
from autograder.checks.forbidden import ForbiddenCalls
from autograder.checks.numeric import MatchesReference, MetaProbe
from autograder.checks.properties import Property
from autograder.checks.raises import Raises
from autograder.checks.recipes import case, normal
from autograder.checks.symbolic import SymbolicEquals, SymbolicForm

FILES = ["ops.py", "answers.py"]
LOG_SUM_EXP = {"arg_names": ["x"]}
SOFTPLUS = {"symbols": {"x": "real"}}


def ops(name, kind, **params):
    return kind(name, "ops", name.split(":")[0], **params)


def answers(name, kind, **params):
    return kind(name, "answers", name.split(":")[0], **params)


CHECKS = [
    ops("log_sum_exp: values and gradients", MatchesReference, **LOG_SUM_EXP, grad_wrt=[0], cases=[
        case(1, "float32", normal(5, 4)), case(2, "float64", normal(3, 7, scale=3.0)), case(3, "float32", normal(1, 1))]),
    ops("log_sum_exp: stable at |x| up to 1e4 in float32", MatchesReference, **LOG_SUM_EXP,
        stability="exp overflows in float32 beyond about 88: subtract the largest element before the exp and add "
                  "it back after the log", cases=[case(4, "float32", normal(4, 6, scale=1e4))]),
    ops("log_sum_exp: device probe", MetaProbe, shapes=[[3, 4]]),
    ops("log_sum_exp: shifting x shifts the result", Property, property="shift_equivariant"),
    ops("log_sum_exp: rejects a 0-d tensor", Raises, error="ValueError",
        cases=[{"args": [{"tensor": 1.0}], "why": "for a 0-d x"}]),
    ops("log_sum_exp: no torch.logsumexp", ForbiddenCalls, calls=["torch.logsumexp"]),
    answers("softplus_derivative: a sympy expression of x", SymbolicForm, **SOFTPLUS),
    answers("softplus_derivative: equals the derivative", SymbolicEquals, **SOFTPLUS),
    answers("mc_logsumexp_bounds: well-formed", ChoiceFormat, options="abc"),
    answers("mc_logsumexp_bounds: answer key", MultipleChoice, options="abc"),
]
''',
    "mistakes.py": '''"""Known mistakes of {id}, for the feedback: each function computes what the mistaken code returns;
a hint marked PUBLIC_SAFE was reviewed as stating no hidden answer (it shows in public checks)."""
from autograder.checks.diagnoses import PUBLIC_SAFE


def log_sum_exp_naive(x):
    return x.exp().sum(-1).log()


MISTAKES = {
    "log_sum_exp": [
        ("the log of the sum of exponentials as written: exp overflows in float32 beyond about 88",
         log_sum_exp_naive, PUBLIC_SAFE)],
}
''',
    "rubric.md": '''# {id}: rubrics of the hand-graded questions

For instructors and TAs only: this file stays in solutions/{id}/ and is never released. On
Gradescope, create a question per heading below with its points, and paste each `+points: description`
line as one rubric item (positive scoring).

## Question 4: why subtract the largest element? (2 points)

Answer. With m = max_j x_j, log sum_j exp(x_j) = m + log sum_j exp(x_j - m); every exponent is then
at most 0, so no exp overflows, and the largest term is exp(0) = 1, so the sum is at least 1 and its
log does not underflow.

- +1: the identity, with the factor exp(m) taken out of the sum
- +1: why neither the exponentials overflow nor the log underflows afterwards
''',
}

ASSIGNMENT_FILES = {
    "README.md": '''# {title}

Made by `course new {id}`: edit it into your own assignment (docs/authoring.md).

You submit `ops.py` and `answers.py`. Run `python check.py` for the public checks after each edit;
the hidden checks run when your submission is graded.

## Part A: code in `ops.py` (autograded)

### Question 1: a stable log-sum-exp, `log_sum_exp(x)`

Return $\\log \\sum_j e^{x_j}$ over the last dimension of `x`, for a tensor of any shape with at
least one dimension, with gradients. It must stay finite and accurate in float32 for $|x_j|$ up to
$10^4$, where $e^{x_j}$ overflows. Do not call `torch.logsumexp`. A 0-d `x` raises `ValueError`.

## Part B: answers in `answers.py` (autograded)

### Question 2: `softplus_derivative(x)`

The derivative of $\\mathrm{softplus}(x) = \\log(1 + e^x)$, as a sympy expression of the symbol `x`.

### Question 3: `mc_logsumexp_bounds()`

Which bounds hold for every $x \\in \\mathbb{R}^n$, with $\\mathrm{lse}(x) = \\log \\sum_j e^{x_j}$?
(a) $\\mathrm{lse}(x) \\le \\max_j x_j$; (b) $\\max_j x_j \\le \\mathrm{lse}(x) \\le \\max_j x_j + \\log n$;
(c) $\\mathrm{lse}(x) \\ge \\sum_j x_j$.

## Part C: written answers (graded by hand on Gradescope)

### Question 4: why subtract the largest element? (2 points)

Show why computing $\\log \\sum_j e^{x_j}$ after subtracting $\\max_j x_j$ from every element gives the
same value, and why it avoids overflow and underflow.

## Autograded checks

Points and visibility come from the instructors' `course.yml`, from which this table is written.

{table}
''',
    "properties.py": '''"""Properties every correct answer of {id} has: part of the specification, run by the public checks
(python check.py) and by grading."""
from __future__ import annotations

from autograder.checks.properties import expect, tensor


def shift_equivariant(call, data):
    """log_sum_exp(x + c) = log_sum_exp(x) + c for every constant c."""
    from hypothesis import strategies as st

    x = tensor(data, (3, 4), -20.0, 20.0)
    c = data.draw(st.floats(-50.0, 50.0))
    shifted, plain = call(x + c), call(x)
    expect(bool(((shifted - plain - c).abs() <= 1e-6 * (1 + plain.abs())).all()),
           f"log_sum_exp(x + {c}) is not log_sum_exp(x) + {c}: {shifted.tolist()} against {(plain + c).tolist()}")


PROPERTIES = {f.__name__: f for f in (shift_equivariant,)}
''',
}

COURSE_ENTRY = '''  - id: {id}
    title: "{title}"
    due: {due}
    checks:
      log_sum_exp:
        "values and gradients": {points: 2, visibility: public}
        "stable at |x| up to 1e4 in float32": {points: 1, visibility: public}
        "device probe": {points: 0.5, visibility: public}
        "shifting x shifts the result": {points: 0.5, visibility: public}
        "rejects a 0-d tensor": {points: 0.5, visibility: public}
        "no torch.logsumexp": {points: 0.5, visibility: public}
      softplus_derivative:
        "a sympy expression of x": {points: 0.5, visibility: public}
        "equals the derivative": {points: 1.5, visibility: hidden}
      mc_logsumexp_bounds:
        "well-formed": {points: 0.5, visibility: public}
        "answer key": {points: 1, visibility: hidden}
'''


def new(root: Path, assignment_id: str, title: str | None = None) -> list[str]:
    """Write the assignment's folders and course.yml entry, then its stubs; return what was written."""
    root = Path(root)
    course = config.load(root / "course.yml")
    if any(a.id == assignment_id for a in course.assignments):
        raise config.ConfigError(f"course.yml already has an assignment {assignment_id!r}")
    folders = {"solutions": root / "solutions" / assignment_id, "assignments": root / "assignments" / assignment_id}
    for folder in folders.values():
        if folder.exists():
            raise config.ConfigError(f"{folder} exists: choose a new id, or remove it")
    values = {"id": assignment_id, "title": title or f"{assignment_id}: a stable log-sum-exp, to start from",
              "due": (dt.date.today() + dt.timedelta(days=14)).isoformat() + "T23:00:00+00:00",
              "table": f"{stubs.TABLE_BEGIN}\n{stubs.TABLE_END}"}   # `course stubs` writes the table in between
    if not re.fullmatch(r"[a-z][a-z0-9_]*", assignment_id):
        raise config.ConfigError(f"{assignment_id!r} is no assignment id: lowercase letters, digits and _, a letter first")
    written = []
    for kind, files in (("solutions", SOLUTION_FILES), ("assignments", ASSIGNMENT_FILES)):
        folders[kind].mkdir(parents=True)
        for name, text in files.items():
            (folders[kind] / name).write_text(fill(text, values))
            written.append(f"{kind}/{assignment_id}/{name}")
    text = (root / "course.yml").read_text()
    (root / "course.yml").write_text(text.rstrip("\n") + "\n" + fill(COURSE_ENTRY, values))
    written.append("course.yml")
    written += [f"assignments/{assignment_id}/{name}" for name in stubs.generate(root, assignment_id)]
    return sorted(set(written))


def fill(template: str, values: dict) -> str:
    """The template with {id}, {title} and {due} filled in (its other braces are code's, or LaTeX's)."""
    for key, value in values.items():
        template = template.replace("{" + key + "}", value)
    return template
