"""Grading: run an assignment's checks against a submission and collect scored results.

`grade` runs every check, preparing hidden ones with the reference in this (trusted) process;
`check_public` runs only the public checks from the data frozen next to the stubs, so it works
in a student's folder that has no reference at all.
"""
from __future__ import annotations

import contextlib
import difflib
import functools
import hashlib
import importlib
import importlib.metadata
import importlib.util
import json
import math
import sys
import time
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import authored, config, prepared, source
from . import checks as check_kinds
from .checks import AuthoringError, Check, Verdict, forbidden, properties
from .runner import GraderError, Reference, Submission, start_template, time_limit
from .sandbox import Limits, Sandbox

PUBLIC_CHECKS_FILE = "public_checks.json"


@dataclass
class CheckResult:
    name: str
    score: float
    max_score: float
    message: str
    visibility: str
    kind: str
    evidence: bool = False   # the function's values were right somewhere (see `gate`)
    # the local check only: passed, but its points are held back until grading checks the answer
    held: bool = False
    cause: str | None = None         # the stable id of the likely cause named (diagnoses.Cause)
    cause_label: str | None = None   # its short label, for class reports
    stopped: str | None = None       # what stopped the student's code in this check (runner.STOPS)
    # graded helpers this function calls whose own checks fail (name_failing_helpers)
    failing_helpers: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.score >= self.max_score

    @property
    def function(self) -> str:
        return self.name.split(": ", 1)[0]


@dataclass
class Report:
    assignment: str
    results: list[CheckResult] = field(default_factory=list)
    execution_time: float = 0.0
    public_only: bool = False
    notes: list[str] = field(default_factory=list)   # protections that were not in force
    # a timeout, a worker's death or the spent budget decided something: another run may differ
    time_dependent: bool = False

    @property
    def score(self) -> float:
        return sum(r.score for r in self.results)

    @property
    def max_score(self) -> float:
        return sum(r.max_score for r in self.results)

    def of(self, function: str) -> Report:
        """This report narrowed to the checks of one function or answer."""
        return replace(self, results=[r for r in self.results if r.name.startswith(f"{function}: ")])


class UnknownFunction(ValueError):
    """A function asked for by name (check.py NAME) that the assignment does not grade."""


def with_helpers(asked: set[str] | None, student, graded: set[str]) -> set[str] | None:
    """The functions asked for and the graded functions they call (the student's source says
    which), so that checking one function alone still shows a failing helper it inherits."""
    if asked is None:
        return None
    uses, wanted, todo = source.uses(student.sources, graded), set(asked), list(asked)
    while todo:
        for helper in uses.get(todo.pop(), ()):
            if helper not in wanted:
                wanted.add(helper)
                todo.append(helper)
    return wanted


def check_names(asked: set[str] | None, graded: list[str], assignment: str) -> None:
    """Raise UnknownFunction, naming the closest graded functions first, for a name that is not one."""
    unknown = sorted(set(asked or ()) - set(graded))
    if not unknown:
        return
    name = unknown[0]
    ranked = sorted(dict.fromkeys(graded), key=lambda g: -difflib.SequenceMatcher(None, name, g).ratio())
    close = difflib.get_close_matches(name, ranked, n=1)
    guess = f"; did you mean {close[0]}?" if close else "."
    raise UnknownFunction(f"{name!r} is not a graded function of {assignment}{guess} The graded functions, "
                          f"closest first: {', '.join(ranked)}")


@dataclass
class Suite:
    """An assignment's checks: the submitted file names and the check objects, in order."""
    files: list[str]
    checks: list


def load_suite(solution_folder: Path) -> Suite:
    """The checks of solutions/ASSIGNMENT/checks.py, each property check given its function from
    assignments/ASSIGNMENT/properties.py or solutions/ASSIGNMENT/properties.py. An authoring
    mistake is an AuthoringError: one line naming the file, the check and what is wrong."""
    solution_folder = Path(solution_folder)
    where = authored.shown(solution_folder / "checks.py")
    module = authored.load_module(solution_folder / "checks.py", "_suite")
    files, checks = getattr(module, "FILES", None), getattr(module, "CHECKS", None)
    if not isinstance(files, list) or not isinstance(checks, list) or not all(isinstance(c, Check) for c in checks):
        raise AuthoringError(f"{where}: FILES must be a list of file names and CHECKS a list of checks")
    suite = Suite(list(files), list(checks))
    public = solution_folder.parent.parent / "assignments" / solution_folder.name / properties.PROPERTIES_FILE
    properties.bind(suite.checks, properties.load_library(public),
                    properties.load_library(solution_folder / properties.PROPERTIES_FILE), where)
    forbidden.bind(suite.checks)
    proven = {c.function for c in suite.checks if c.proves_values}
    unproven = sorted({c.function for c in suite.checks} - proven)
    if unproven:
        raise AuthoringError(f"{where}: {', '.join(unproven)} ha{'ve' if len(unproven) > 1 else 's'} no check that "
                             "compares values (with the reference or a key), so no other check of it could ever "
                             "count (engine.gate)")
    for check in suite.checks:   # the advice of a stability check must not recommend a forbidden call
        advice = getattr(check.settings, "stability", None) or ""
        named = sorted(name for name in check.avoid if "." not in name and name in advice)
        if named:
            raise AuthoringError(f"{check.located(where)}: its stability advice recommends {named[0]}, which a "
                                 f"forbidden_calls check of {check.function} forbids")
    return suite


def _load(root: Path, assignment_id: str):
    """The assignment's settings, its solution folder and its suite, checked against each other."""
    assignment = config.load(Path(root) / "course.yml").assignment(assignment_id)
    folder = Path(root) / "solutions" / assignment_id
    suite = load_suite(folder)
    config.reconcile(assignment, suite.checks)
    return assignment, folder, suite


def default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class Judge:
    """An assignment ready to grade submissions one after another: its settings, suite and
    reference, and each check's inputs, expected values and time limit, prepared once (they are
    the same for every student: every draw is seeded)."""

    def __init__(self, root: Path, assignment, folder: Path, suite: Suite, device: str | None, digest: str):
        self.root, self.assignment, self.folder, self.suite = Path(root), assignment, folder, suite
        self.asked_device, self.digest = device, digest
        self.prepared: dict[str, tuple] = {}   # check name -> (prepared data, seconds per call)
        self.kept: tuple | None = None   # where the prepared checks are kept on disk, and their key

    # loaded on first use, so that a first grading starts its worker (which imports torch) first
    @functools.cached_property
    def reference(self) -> Reference:
        return Reference(self.folder, self.suite.files, {c.function for c in self.suite.checks})

    @functools.cached_property
    def device(self) -> str:
        return self.asked_device or default_device()

    def prepare(self, check) -> tuple:
        if check.name not in self.prepared:
            public = self.assignment.settings()[check.name].visibility == "public"
            with self.reference.shown_at_once(public):   # public-safe hints only in checks shown at once
                data = authored.preparing(check, self.reference, self.device, self.folder)
            limit = time_limit(self.reference.slowest.get(check.function, 0.0), self.assignment.timeout,
                               check.floor_seconds)
            self.prepared[check.name] = prepared.as_stored(data), limit
        return self.prepared[check.name]

    def prepare_all(self, checks) -> None:
        """Prepare `checks` before the first call (a first grading's worker still imports torch
        meanwhile): from disk where they are kept there, else with the reference, then kept."""
        if self.kept is None:
            self.kept = (prepared.location(self.root, self.assignment.id, self.device),
                         preparation_key(self.digest, self.device))
            self.prepared.update(prepared.load(*self.kept) or {})
        missing = [c for c in checks if c.name not in self.prepared]
        for check in missing:
            with contextlib.suppress(Exception):   # a grader bug recurs, and costs its check, in _run_one
                self.prepare(check)
        if missing and len(self.prepared) == len(self.suite.checks):
            prepared.save(*self.kept, self.prepared)

    def grade(self, student: Submission, only: set[str] | None = None) -> Report:
        """Every check (of the functions in `only`, if given) on the student's started worker."""
        check_names(only, [c.function for c in self.suite.checks], self.assignment.id)
        only = with_helpers(only, student, {c.function for c in self.suite.checks})
        settings = self.assignment.settings()
        report = Report(self.assignment.id, notes=student.sandbox.missing())
        checks = [c for c in self.suite.checks if only is None or c.function in only]
        self.prepare_all(checks)
        warm_up(checks, search=False)   # hypothesis runs here only to shrink a replayed failure
        # Public checks first: a timeout or a spent budget met in a hidden check must not show in a
        # public one's message before the due date. Reported in the suite's order.
        order = sorted(range(len(checks)), key=lambda i: settings[checks[i].name].visibility != "public")
        outcomes = {}
        for i in order:
            check, setting = checks[i], settings[checks[i].name]
            outcomes[i] = _run_one(check, setting.points, setting.visibility,
                                   lambda c=check: self.prepare(c), student, self.device)
        finish(report, checks, [outcomes[i] for i in range(len(checks))], student)
        return report


# Judges of this process, by course folder, assignment and device, with the digest of what they
# were made from: grading again in one process (a batch, a test suite, a notebook) reuses one.
_judges: dict[tuple, tuple[str, Judge]] = {}


def judge_for(root: Path, assignment_id: str, device: str | None = None) -> Judge:
    """This process's judge of the assignment, made anew when course.yml or the solutions changed."""
    root = Path(root).resolve()
    key, digest = (str(root), assignment_id, device), _digest(root, assignment_id)
    if key not in _judges or _judges[key][0] != digest:
        _judges[key] = digest, Judge(root, *_load(root, assignment_id), device, digest)
    return _judges[key][1]


def _digest(root: Path, assignment_id: str) -> str:
    """course.yml, every file of the assignment's solution folder and its public properties."""
    digest = hashlib.sha256((root / "course.yml").read_bytes())
    add_files(digest, root / "solutions" / assignment_id)
    add_file(digest, root / "assignments" / assignment_id / properties.PROPERTIES_FILE)
    return digest.hexdigest()


def preparation_key(judge_digest: str, device: str) -> str:
    """What every check's prepared data depends on: the judge's digest (`_digest`), the grader and
    the device."""
    digest = hashlib.sha256(f"{judge_digest} {device}".encode())
    add_grader(digest)
    return digest.hexdigest()


def add_grader(digest) -> None:
    """Feed the grader's own code, the versions of Python, torch, numpy, sympy and hypothesis, and
    torch's set of CPU kernels (ATEN_CPU_CAPABILITY: they compute other last bits) to `digest`."""
    import torch

    versions = [importlib.metadata.version(p) for p in ("torch", "numpy", "sympy", "hypothesis")]
    digest.update(" ".join([sys.version, *versions, torch.backends.cpu.get_cpu_capability()]).encode())
    add_files(digest, Path(__file__).parent)


def add_files(digest, folder: Path) -> None:
    """Feed the names and contents of every file under `folder` (bytecode caches aside) to `digest`."""
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")


def add_file(digest, path: Path) -> None:
    """Feed one file's contents (or that it is absent) to `digest`."""
    digest.update(Path(path).read_bytes() + b"\0" if Path(path).is_file() else b"absent\0")


def prepare(root: Path, assignment_id: str, device: str | None = None) -> Path | None:
    """Prepare every check of the assignment and keep them on disk (prepared.py); where they are
    kept, or None where bubblewrap is not in force. A check that cannot be prepared raises."""
    judge = judge_for(root, assignment_id, device)
    judge.prepare_all(judge.suite.checks)
    for check in judge.suite.checks:
        judge.prepare(check)   # done, unless it failed: then its error, here rather than in each grading
    return judge.kept[0]


def grade(root: Path, assignment_id: str, submission: Path, device: str | None = None,
          only: set[str] | None = None) -> Report:
    """Every check of the assignment, hidden ones included; needs solutions/ under root.
    `only` restricts grading to the checks of these functions and answers."""
    started = time.monotonic()
    # started first: on a first grading the worker imports torch while the judge loads the suite
    # (whose properties may import torch too) and the reference, and prepares the checks
    start_template([Path(root) / "solutions"])
    judge = judge_for(root, assignment_id, device)
    student = _start(root, judge.assignment, judge.suite.files, submission, device, started)
    try:
        report = judge.grade(student, only)
        report.time_dependent = bool(student.hung or student.deaths or student.out_of_time())
    finally:
        student.close()
    report.execution_time = time.monotonic() - started
    return report


def _start(root, assignment, files, submission, device, started) -> Submission:
    sandbox = Sandbox(hidden=[Path(root) / "solutions"], limits=Limits(memory_mb=assignment.memory_mb))
    student = Submission(submission, files, assignment.timeout, sandbox, device=device or "auto",
                         deadline=started + assignment.time_budget)
    student.start()
    return student


def check_public(frozen: Path, submission: Path, properties_file: Path, only: set[str] | None = None) -> Report:
    """The public checks only, from frozen data: no reference, no course.yml needed. `only` as
    in `grade`. The properties come from `properties_file`, which runs in this process: the
    course's own (`course check`), or the student's copy in their own folder (`check.py`), never
    a file of a submission graded by someone else."""
    started = time.monotonic()
    data = json.loads(Path(frozen).read_text())
    check_names(only, [e["spec"]["function"] for e in data["checks"]], data["assignment"])
    sandbox = Sandbox(limits=Limits(memory_mb=data["memory_mb"]))
    student = Submission(submission, data["files"], data["timeout"], sandbox,
                         deadline=started + data.get("time_budget", config.DEFAULT_TIME_BUDGET))
    student.start()
    try:
        report = Report(data["assignment"], public_only=True)
        library = properties.load_library(properties_file)
        entries = [(check_kinds.from_spec(e["spec"]), e) for e in data["checks"]]
        only = with_helpers(only, student, {c.function for c, _ in entries})
        entries = [(c, e) for c, e in entries if only is None or c.function in only]
        checks = [c for c, _ in entries]
        properties.bind(checks, library, {}, str(properties_file), strict=False)
        forbidden.bind(checks)
        warm_up(checks, search=True)   # properties' examples are drawn here (freeze_public)
        outcomes = []
        for check, entry in entries:
            limit = entry.get("time_limit", data["timeout"])
            outcomes.append(_run_one(check, entry["points"], "public",
                                     lambda e=entry, t=limit: (e["prepared"], t), student, "cpu"))
        finish(report, checks, outcomes, student)
    finally:
        student.close()
    report.execution_time = time.monotonic() - started
    return report


def freeze_public(root: Path, assignment_id: str) -> dict:
    """The data that lets `check_public` run the public checks without the reference."""
    assignment, folder, suite = _load(root, assignment_id)
    reference = Reference(folder, suite.files, {c.function for c in suite.checks})
    settings = assignment.settings()
    entries = []
    for check in suite.checks:
        setting = settings[check.name]
        if setting.visibility == "public":
            # a property's examples are not frozen: hypothesis draws them in the student's own
            # environment (which shapes its draws), so the file would differ from machine to machine
            with reference.shown_at_once():   # its data ships to students: public-safe hints only
                data = None if isinstance(check, properties.Property) else authored.preparing(check, reference, "cpu",
                                                                                                folder)
            limit = time_limit(reference.slowest.get(check.function, 0.0), assignment.timeout, check.floor_seconds)
            entries.append({"spec": check.spec(), "points": setting.points, "prepared": data,
                            "time_limit": math.ceil(limit)})   # whole seconds: the file stays stable
    return {"assignment": assignment_id, "files": suite.files, "timeout": assignment.timeout,
            "time_budget": assignment.time_budget, "memory_mb": assignment.memory_mb, "checks": entries}


def warm_up(checks, search: bool) -> None:
    """Start what the checks would start on first use before the first call instead, while a first
    grading's worker still imports torch: torch (which reads the results; left to the first tensor,
    it would wait for a worker that the symbolic checks, say, started), sympy, and where property
    checks search for examples (`search`), hypothesis's one-time set-up."""
    importlib.import_module("torch")
    if any(c.computes_sympy for c in checks):
        importlib.import_module("sympy")
    if search and any(isinstance(c, properties.Property) for c in checks):
        properties.warm_up()


def _run_one(check, points, visibility, prepare, student, device) -> tuple[CheckResult, Verdict | None]:
    """The check's result, and its verdict (None where the check could not run)."""
    if student.out_of_time():
        return CheckResult(check.name, 0.0, points, student.out_of_time_message(), visibility, check.kind,
                           stopped="budget"), None
    student.stops.clear()
    try:
        data, student.time_limit = prepare()
        verdict = check.run(student, data, device)
    except (GraderError, AuthoringError):   # no grading at all: an instructor's mistake fails loudly
        raise
    except Exception:  # noqa: BLE001 - a grader bug must cost this check only, and be visible
        traceback.print_exc(file=sys.stderr)
        return CheckResult(check.name, 0.0, points, "the grader itself failed on this check; please tell your "
                           "instructor", visibility, check.kind), None
    result = CheckResult(check.name, points * verdict.credit, points, verdict.message, visibility, check.kind,
                         verdict.evidence)
    if not verdict.passed:
        result.stopped = student.stops[0] if student.stops else None
        _name_cause(result, verdict.cause)
    return result, verdict


def _name_cause(result: CheckResult, cause) -> None:
    result.cause = getattr(cause, "id", None)
    result.cause_label = getattr(cause, "label", None)


def finish(report: Report, checks: list, outcomes: list[tuple], student) -> None:
    """The report's results from the checks' outcomes, with what only the whole grading can tell:
    points for what is right (`gate`), stability diagnoses (`stability_causes`) and the graded
    helpers whose failures a function inherits (`name_failing_helpers`)."""
    report.results = [result for result, _ in outcomes]
    verdicts = [verdict for _, verdict in outcomes]
    gate(report, checks)
    forbid(report, checks, verdicts)
    stability_causes(report, checks, verdicts)
    name_failing_helpers(report, source.uses(student.sources, {c.function for c in checks}), student.hung)


def forbid(report: Report, checks: list, verdicts: list) -> None:
    """A function that uses a call the assignment forbids (a forbidden_calls check whose own verdict
    fails: not one that `gate` holds at 0 until the values are right) earns nothing from its other
    checks."""
    failed = {c.function: c for c, v in zip(checks, verdicts)
              if isinstance(c, forbidden.ForbiddenCalls) and v is not None and not v.passed}
    for check, result in zip(checks, report.results):
        rule = failed.get(check.function)
        if rule is not None and check is not rule:
            voided = forbidden.VOIDED.format(function=check.function, check=rule.name.split(": ", 1)[1])
            result.message = voided if result.passed or result.held else f"{voided}\n{result.message}"
            result.score, result.held = 0.0, False


def stability_causes(report: Report, checks: list, verdicts: list) -> None:
    """A failing stability check of a function whose values are right at moderate inputs (one of
    its other value checks passes) is wrong at large inputs: its likely cause says so
    (Verdict.unstable), the same on any CPU, whether that CPU's kernels gave inf, NaN or lost
    digits, and whatever generic cause the wrong values fitted. (Its other value checks may fail at
    large inputs too: hw2's hidden "more inputs" has logits up to 90.)"""
    by_function = _by_function(checks, report)
    for check, result, verdict in zip(checks, report.results, verdicts):
        if verdict is None or verdict.unstable is None or result.passed:
            continue
        others = [r for c, r in by_function[check.function]
                  if c.proves_values and getattr(c.settings, "stability", None) is None]
        if any(r.passed for r in others):
            result.message, cause = verdict.unstable
            _name_cause(result, cause)


def name_failing_helpers(report: Report, uses: dict[str, set[str]], hung: dict) -> None:
    """A failing check of a function that calls another graded function (its helper, as the
    student's source shows) whose own checks fail, or that did not finish, says to fix that first:
    the function is graded as written, with the student's helper."""
    failing = {r.function for r in report.results if not r.passed and not r.held}
    for result in report.results:
        if result.passed or result.held:
            continue
        for helper in sorted(uses.get(result.function, set()) & (failing | set(hung))):
            if helper == result.function:
                continue
            stop = hung[helper].stop if helper in hung else ""
            why = {"timeout": "did not finish in time", "crash": "ended the Python process"}.get(stop, "fails its own checks")
            result.message += f"\n  uses your {helper}, which {why}: fix it first"
            result.failing_helpers.append(helper)


def gate(report: Report, checks: list) -> None:
    """Points for what is right only: a check that does not compare values (shape, dtype and
    device, a device probe, a property, well-formedness) counts only once the same function's
    values are right somewhere, in some case of a check that compares them with the reference or
    the key. A function returning zeros, its input or unrelated noise passes many such checks.

    A check shown at once (public) is decided by public evidence only, so that its score never
    reveals a hidden result. Where a function's values are checked by hidden checks only (answer
    keys), its passing public checks are decided by them and therefore shown after the due date
    too; the students' local check, which cannot know, holds their points back (CheckResult.held)
    and says that they count once the answer is right."""
    for pairs in _by_function(checks, report).values():
        proofs = [r for c, r in pairs if c.proves_values]
        for check, result in pairs:
            if check.proves_values or result.score <= 0:
                continue
            shown_now = [p for p in proofs if p.visibility == "public"]
            if result.visibility == "public" and not shown_now:
                if report.public_only:   # the answer is judged by hidden checks: grading decides these points
                    result.score, result.held = 0.0, True
                    continue
                result.visibility = "hidden"
            deciding = shown_now if result.visibility == "public" else proofs
            if not any(p.evidence for p in deciding):
                names = ", ".join(repr(p.name.split(": ", 1)[1]) for p in deciding)
                result.score = 0.0
                result.message = f"passes, but counted only once the values are right (checked by {names})"


def _by_function(checks: list, report: Report) -> dict[str, list[tuple]]:
    """{function: [(check, its result), ...]}, in the suite's order."""
    grouped: dict[str, list[tuple]] = {}
    for check, result in zip(checks, report.results):
        grouped.setdefault(check.function, []).append((check, result))
    return grouped
