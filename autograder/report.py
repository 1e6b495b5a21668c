"""The class report: `course report ASSIGNMENT SOURCE --out DIR`, what a class got wrong.

SOURCE is what `course grade-all` wrote (its results folder: <submission>/results.json), or
Gradescope's "Export Submissions" (the zip, or its folder: submission_metadata.yml and a
submission_ID folder per submission). Where the export's metadata holds each submission's
autograder results (`:results:`), they are read and no student code is extracted or run; where it
holds none, the export is graded first with the batch grader (batch.grade_all).

Everything counted comes from the tests' `extra_data` (results.extra_data): the function and check,
the likely cause's stable id, what stopped the student's code; never from message text. DIR gets
index.html (self-contained: figures embedded as data URIs, inline style, no script), summary.json
and a CSV per table, and the gradebook as Canvas and Moodle import it (gradebook-canvas.csv,
gradebook-moodle.csv).
"""
from __future__ import annotations

import base64
import csv
import html
import io
import json
import statistics
import tempfile
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml
from tqdm import tqdm

from . import batch, config

# A check whose discrimination is below FLAG_BELOW, once FLAG_FROM submissions are graded, is
# flagged: strong students fail it about as often as weak ones (PrairieLearn's and classical test
# theory's rule of thumb, docs/report.md).
FLAG_BELOW = 0.2
FLAG_FROM = 10
STOPPED = {"timeout": "timed out", "crash": "crashed the worker", "import": "its file does not import",
           "missing": "its file is missing", "not_implemented": "not implemented (the stub)",
           "budget": "the time budget was spent", "unreadable": "a result the grader cannot read",
           "exception": "raised an exception"}
PER = ("assignment", "function")
CSS = """body{font-family:system-ui,sans-serif;margin:2em auto;padding:0 1.5em;max-width:70em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left}
th{background:#f0f0f0}td.n{text-align:right}tr.flag td{background:#fff3e0}img{max-width:100%}
caption{text-align:left;font-weight:bold;padding:.3em 0}"""


class ReportError(Exception):
    """A SOURCE the report cannot read, or an option it does not know."""


@dataclass
class Submission:
    name: str                # its folder (Gradescope's submission_ID in an export)
    people: list[dict]       # each submitter: {"name", "sid", "email", "login"}
    data: dict | None        # results.json; None where grading failed
    problem: str = ""


def build(root: Path, assignment_id: str, source: Path, out: Path, per: str = "assignment",
          submissions: Path | None = None, jobs: int = 1, device: str | None = None) -> Path:
    """Read (or grade) SOURCE and write the report into `out`; the path of its index.html.
    `submissions`: with a results folder, the folder that was graded (its Gradescope metadata
    names the students; only its submissions are reported)."""
    if per not in PER:
        raise ReportError(f"the gradebook has a column per {' or per '.join(PER)}, not per {per!r}")
    assignment = config.load(Path(root) / "course.yml").assignment(assignment_id)
    class_ = load(root, assignment_id, Path(source), Path(out) / "results", submissions, jobs, device)
    summary = summarize(assignment, class_)
    return write(Path(out), assignment, class_, summary, per, Path(source))


# --- reading -------------------------------------------------------------------------------

def load(root: Path, assignment_id: str, source: Path, graded_into: Path, submissions: Path | None = None,
         jobs: int = 1, device: str | None = None) -> list[Submission]:
    """Every submission of SOURCE with its results; an export without results is graded into
    `graded_into` first."""
    if not source.exists():
        raise ReportError(f"{source}: no such file or folder")
    if source.is_file():
        return _from_zip(root, assignment_id, source, graded_into, jobs, device)
    if (source / batch.EXPORT_METADATA).is_file():
        metadata = read_metadata((source / batch.EXPORT_METADATA).read_bytes())
        if has_results(metadata):
            return from_metadata(metadata)
        return _graded(root, assignment_id, source, metadata, graded_into, jobs, device)
    people = people_of(Path(submissions)) if submissions else None
    return read_results(source, people)


def _from_zip(root, assignment_id, path: Path, graded_into: Path, jobs, device) -> list[Submission]:
    if not zipfile.is_zipfile(path):
        raise ReportError(f"{path}: neither a results folder nor a Gradescope export (a zip, or its folder)")
    with zipfile.ZipFile(path) as archive:
        members = [m for m in archive.namelist() if m.rpartition("/")[2] == batch.EXPORT_METADATA]
        if not members:
            raise ReportError(f"{path}: a zip without {batch.EXPORT_METADATA}, so not a Gradescope export")
        member = min(members, key=len)
        metadata = read_metadata(archive.read(member))
        if has_results(metadata):
            return from_metadata(metadata)
        with tempfile.TemporaryDirectory(prefix="dgm-report-") as scratch:
            archive.extractall(scratch)   # zipfile keeps every member inside scratch
            export = Path(scratch) / member.rpartition("/")[0]
            return _graded(root, assignment_id, export, metadata, graded_into, jobs, device)


def _graded(root, assignment_id, export: Path, metadata: dict, graded_into: Path, jobs, device) -> list[Submission]:
    """An export without results, graded as `grade-all` grades it (kept in `graded_into`: a second
    report re-scores from the records instead of grading again)."""
    batch.grade_all(root, assignment_id, export, graded_into / "grades.csv", graded_into, jobs, device)
    return read_results(graded_into, {str(folder): batch.submitters(entry) for folder, entry in metadata.items()})


def read_metadata(text: bytes) -> dict:
    """submission_metadata.yml: {submission folder: entry}."""
    try:
        data = load_yaml(text)
    except (yaml.YAMLError, TypeError, KeyError) as error:   # a list as a key; an alias of no anchor
        raise ReportError(f"{batch.EXPORT_METADATA} is not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise ReportError(f"{batch.EXPORT_METADATA} does not map submissions to their metadata")
    return data


_RESOLVER, _CONSTRUCTOR = yaml.resolver.Resolver(), yaml.constructor.SafeConstructor()
_NO_KEY = object()


def load_yaml(text: bytes):
    """What yaml.safe_load returns, built from the parser's events: PyYAML's node graph costs ten
    times as much (7 s for the metadata of 500 submissions of 55 checks, 1 s this way). Anchors and
    aliases are kept; a value with a tag of Ruby's is read as untagged data (a BigDecimal as a float)."""
    stack: list[list] = []   # [the open mapping or sequence, its pending key]
    anchors: dict = {}
    resolved: dict[str, object] = {}
    root = None
    for event in yaml.parse(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
        kind = type(event)
        if kind is yaml.ScalarEvent:
            value = _scalar(event, resolved)
        elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            value = {} if kind is yaml.MappingStartEvent else []
        elif kind is yaml.AliasEvent:
            value = anchors[event.anchor]
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            stack.pop()
            continue
        else:   # the stream's and documents' starts and ends
            continue
        if getattr(event, "anchor", None):
            anchors[event.anchor] = value
        if not stack:
            root = value
        elif isinstance(stack[-1][0], list):
            stack[-1][0].append(value)
        elif stack[-1][1] is _NO_KEY:
            stack[-1][1] = value
        else:
            stack[-1][0][stack[-1][1]] = value
            stack[-1][1] = _NO_KEY
        if kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            stack.append([value, _NO_KEY])
    return root


def _scalar(event, resolved: dict):
    """A scalar's value as YAML 1.1 reads it (null, bool, int, float, timestamp, str); `resolved`
    keeps the plain ones met before (keys and values repeat in every entry)."""
    text, tag = event.value, event.tag
    if event.implicit[0]:   # plain and untagged: its form decides
        if text not in resolved:
            tag = _RESOLVER.resolve(yaml.ScalarNode, text, (True, False))
            resolved[text] = _CONSTRUCTOR.yaml_constructors[tag](_CONSTRUCTOR, yaml.ScalarNode(tag, text))
        return resolved[text]
    if tag and tag.endswith(":BigDecimal"):   # Ruby's decimals, "18:0.1e2": precision, then the value
        return float(text.rpartition(":")[2])
    if tag is not None and tag in _CONSTRUCTOR.yaml_constructors:   # !!int and the like
        return _CONSTRUCTOR.yaml_constructors[tag](_CONSTRUCTOR, yaml.ScalarNode(tag, text))
    return text


def has_results(metadata: dict) -> bool:
    return any(isinstance(entry, dict) and ":results" in entry for entry in metadata.values())


def from_metadata(metadata: dict) -> list[Submission]:
    """The export's own autograder results, one submission per entry."""
    return [submission(str(folder), batch.submitters(entry), entry.get(":results") if isinstance(entry, dict) else None,
                       "no autograder results in the export")
            for folder, entry in sorted(metadata.items(), key=lambda item: str(item[0]))]


def person(folder: str) -> dict:
    """A student known by a folder name only: an email address, or else a login."""
    email = folder if "@" in folder else ""
    return {"name": folder, "sid": "", "email": email, "login": "" if email else folder}


def people_of(submissions_dir: Path) -> dict[str, list[dict]]:
    """The folder that was graded: each submission folder's people."""
    metadata = submissions_dir / batch.EXPORT_METADATA
    if metadata.is_file():
        return {str(folder): batch.submitters(entry) for folder, entry in read_metadata(metadata.read_bytes()).items()}
    return {folder.name: [person(folder.name)] for folder in batch.find_submissions(submissions_dir)}


def read_results(results_dir: Path, people: dict[str, list[dict]] | None = None) -> list[Submission]:
    """<submission>/results.json as grade-all writes them; with `people`, only those submissions."""
    folders = sorted(p.parent for p in results_dir.glob("*/results.json"))
    if people is not None:
        folders = [f for f in folders if f.name in people]
    if not folders:
        raise ReportError(f"{results_dir} holds no results (<submission>/results.json, as grade-all writes "
                          f"them) and is no Gradescope export ({batch.EXPORT_METADATA})")
    class_ = []
    for folder in tqdm(folders, desc="reading results", unit="submission", delay=2):
        try:
            data = json.loads((folder / "results.json").read_text())
            problem = "grading failed"
        except (OSError, ValueError) as error:
            data, problem = None, f"results.json unreadable: {error}"
        names = (people or {}).get(folder.name) or [person(folder.name)]
        class_.append(submission(folder.name, names, data, problem))
    return class_


def submission(name: str, people: list[dict], data, problem: str) -> Submission:
    """A graded submission, or one whose grading failed (no tests: results.failure's file)."""
    people = people or [person(name)]
    if isinstance(data, dict) and isinstance(data.get("tests"), list) and data["tests"]:
        return Submission(name, people, data)
    if isinstance(data, dict) and data.get("output"):
        problem = str(data["output"])
    return Submission(name, people, None, problem)


# --- counting ------------------------------------------------------------------------------

def total(s: Submission) -> float:
    """A graded submission's score: results.json's, else the sum of its tests' (Gradescope's spec
    makes the top-level score optional)."""
    if s.data.get("score") is not None:
        return float(s.data["score"])
    return sum(float(t.get("score") or 0) for t in s.data["tests"])


def function_of(test: dict) -> str:
    """The function of a results.json test: its extra_data's, else the start of its name."""
    return (test.get("extra_data") or {}).get("function") or str(test.get("name", "")).partition(": ")[0]


def summarize(assignment: config.Assignment, class_: list[Submission]) -> dict:
    """Every figure of the report (no student is named in it)."""
    import numpy as np

    graded = [s for s in class_ if s.data]
    names = _check_names(assignment, graded)
    column = {name: j for j, name in enumerate(names)}
    present, passed = np.zeros((len(graded), len(names)), dtype=bool), np.zeros((len(graded), len(names)))
    score, possible = np.zeros_like(passed), np.zeros_like(passed)
    for i, s in enumerate(graded):
        for test in s.data["tests"]:
            j = column[str(test.get("name"))]
            present[i, j], passed[i, j] = True, test.get("status") == "passed"
            score[i, j], possible[i, j] = float(test.get("score") or 0), float(test.get("max_score") or 0)
    totals = np.array([total(s) for s in graded])
    maxima = possible.sum(axis=1)
    return {"assignment": assignment.id, "submissions": len(class_), "graded": len(graded),
            "scores": _distribution(totals, maxima, assignment.max_points),
            "checks": _checks(names, present, passed, totals[:, None] - score, possible),
            "functions": _functions(names, score, possible, _through_helpers(graded)),
            "causes": _counted(graded, "cause", "cause_label"),
            "stopped": _counted(graded, "stopped", None),
            "not_graded": len(class_) - len(graded),
            "without_extra_data": sum(not any("extra_data" in t for t in s.data["tests"]) for s in graded)}


def _check_names(assignment: config.Assignment, graded: list[Submission]) -> list[str]:
    """course.yml's checks in its order, then any other check a results.json holds."""
    names = dict.fromkeys(assignment.settings())
    for s in graded:
        names.update(dict.fromkeys(str(t.get("name")) for t in s.data["tests"]))
    return list(names)


def _distribution(totals, maxima, max_points: float) -> dict:
    import numpy as np

    if not len(totals):
        return {"n": 0, "max_points": max_points}
    q1, q3 = np.percentile(totals, [25, 75])
    return {"n": len(totals), "max_points": float(maxima.max()), "mean": float(totals.mean()),
            "median": float(statistics.median(totals)), "q1": float(q1), "q3": float(q3),
            "min": float(totals.min()), "max": float(totals.max()),
            "zero": int((totals <= 0).sum()), "full": int(((totals >= maxima - 1e-9) & (maxima > 0)).sum())}


def discrimination(item, rest) -> float | None:
    """The Pearson correlation of passing a check (0/1) with the score on the other checks; None
    where it is undefined (all pass, all fail, or the rest score is the same for everyone)."""
    import numpy as np

    if len(item) < 2 or item.std() == 0 or rest.std() == 0:
        return None
    return float(np.corrcoef(item, rest)[0, 1])


def _checks(names, present, passed, rest, possible) -> list[dict]:
    """Every check a grading holds, with its pass rate and discrimination, the hardest first."""
    rows = []
    for j, name in enumerate(names):
        graded = present[:, j]
        n, k = int(graded.sum()), int(passed[graded, j].sum())
        d = discrimination(passed[graded, j], rest[graded, j])
        function, _, check = name.partition(": ")
        rows.append({"name": name, "function": function, "check": check,
                     "max_score": float(possible[graded, j].max()) if n else 0.0, "submissions": n,
                     "passed": k, "pass_rate": k / n if n else None, "discrimination": d,
                     "flagged": d is not None and n >= FLAG_FROM and d < FLAG_BELOW})
    return sorted((r for r in rows if r["submissions"]), key=lambda r: r["pass_rate"])


def _functions(names, score, possible, through_helpers: Counter) -> list[dict]:
    """Per function: its points, the points the class earned as a share of the points possible, and
    the submissions in which it failed a check because a graded helper it calls fails."""
    columns: dict[str, list[int]] = {}
    for j, name in enumerate(names):
        columns.setdefault(name.partition(": ")[0], []).append(j)
    rows = []
    for function, js in columns.items():
        total = possible[:, js].sum()
        if total > 0:
            rows.append({"function": function, "points": float(possible[:, js].sum(axis=1).max()),
                         "earned_share": float(score[:, js].sum() / total),
                         "through_helpers": through_helpers[function]})
    return rows


def _through_helpers(graded: list[Submission]) -> Counter:
    """Per function, the submissions in which a failing check names a failing helper."""
    counts: Counter = Counter()
    for s in graded:
        counts.update({function_of(t) for t in s.data["tests"]
                       if t.get("status") != "passed" and (t.get("extra_data") or {}).get("failing_helpers")})
    return counts


def _counted(graded: list[Submission], key: str, label_key: str | None) -> list[dict]:
    """Per function, each value of extra_data[key] with the number and share of submissions that
    got it (once per submission and function, however many checks name it), most frequent first."""
    counts: Counter = Counter()
    labels: dict[tuple[str, str], str] = {}
    for s in graded:
        seen = set()
        for test in s.data["tests"]:
            extra = test.get("extra_data") or {}
            if extra.get(key):
                found = (function_of(test), str(extra[key]))
                seen.add(found)
                labels.setdefault(found, str(extra.get(label_key) or "") if label_key else STOPPED.get(found[1], ""))
        counts.update(seen)
    return [{"function": function, key: value, "label": labels[(function, value)] or value,
             "submissions": n, "share": n / len(graded)}
            for (function, value), n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


# --- writing -------------------------------------------------------------------------------

def write(out: Path, assignment: config.Assignment, class_: list[Submission], summary: dict, per: str,
          source: Path) -> Path:
    """summary.json, the CSVs, both gradebooks, the figures, and index.html; the path of index.html."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    _csv(out / "checks.csv", summary["checks"], ["name", "function", "check", "max_score", "submissions",
                                                 "passed", "pass_rate", "discrimination", "flagged"])
    _csv(out / "functions.csv", summary["functions"], ["function", "points", "earned_share", "through_helpers"])
    _csv(out / "causes.csv", summary["causes"], ["function", "cause", "label", "submissions", "share"])
    _csv(out / "stopped.csv", summary["stopped"], ["function", "stopped", "label", "submissions", "share"])
    _csv(out / "scores.csv", _score_rows(class_), ["submission", "students", "score", "max"])
    _csv(out / "not_graded.csv", _failed_rows(class_), ["submission", "students", "problem"])
    write_gradebooks(out, assignment.id, class_, summary, per)
    figures = _figures(summary, class_)
    for name, png in figures.items():
        (out / name).write_bytes(png)
    page = out / "index.html"
    page.write_text(render(assignment, summary, class_, figures, source))
    return page


def _csv(path: Path, rows: list[dict], fields: list[str]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def _students(s: Submission) -> str:
    return "; ".join(p["email"] or p["login"] or p["name"] or p["sid"] for p in s.people)


def _score_rows(class_: list[Submission]) -> list[dict]:
    return [{"submission": s.name, "students": _students(s), "score": total(s) if s.data else "",
             "max": sum(float(t.get("max_score") or 0) for t in s.data["tests"]) if s.data else ""}
            for s in class_]


def _failed_rows(class_: list[Submission]) -> list[dict]:
    return [{"submission": s.name, "students": _students(s), "problem": s.problem} for s in class_ if not s.data]


def _grades(s: Submission, functions: list[str] | None) -> list[str]:
    """A submission's points, in total or per function; empty where grading failed (an import
    leaves an empty cell's grade as it is)."""
    if functions is None:
        return [f"{total(s):g}" if s.data else ""]
    earned: Counter = Counter()
    for test in s.data["tests"] if s.data else []:
        earned[function_of(test)] += float(test.get("score") or 0)
    return [f"{earned[f]:g}" if s.data else "" for f in functions]


def write_gradebooks(out: Path, assignment_id: str, class_: list[Submission], summary: dict, per: str) -> None:
    """One row per student (each member of a group), one column per assignment or per function:
    gradebook-canvas.csv in the layout of Canvas's gradebook import (Student, ID, SIS User ID, SIS
    Login ID, Section, then a column per assignment) and gradebook-moodle.csv for Moodle's CSV grade
    import (an identifying column to map from, then the grade columns)."""
    functions = None if per == "assignment" else [f["function"] for f in summary["functions"]]
    columns = [assignment_id] if functions is None else [f"{assignment_id}: {f}" for f in functions]
    canvas = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *columns]]
    moodle = [["Email address", "ID number", "Username", "Full name", *columns]]
    for s in class_:
        grades = _grades(s, functions)
        for p in s.people:
            canvas.append([p["name"], "", p["sid"], p["login"] or p["email"], "", *grades])
            moodle.append([p["email"], p["sid"], p["login"], p["name"], *grades])
    for name, rows in (("gradebook-canvas.csv", canvas), ("gradebook-moodle.csv", moodle)):
        with (out / name).open("w", newline="") as handle:
            csv.writer(handle).writerows(rows)


def _png(figure) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()


def _figures(summary: dict, class_: list[Submission]) -> dict[str, bytes]:
    """The score histogram and the pass rate of every check (hardest at the top), as PNG."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    totals = [total(s) for s in class_ if s.data]
    top = summary["scores"]["max_points"] or 1
    histogram = Figure(figsize=(8, 3.2), dpi=100, layout="constrained")
    axes = histogram.add_subplot()
    axes.hist(totals, bins=min(20, max(5, round(top))), range=(0, top), color="#4c72b0", edgecolor="white")
    axes.set(xlabel=f"score (of {top:g})", ylabel="submissions", title=f"{len(totals)} submissions graded")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    checks = summary["checks"]
    bars = Figure(figsize=(9, 0.26 * len(checks) + 1.2), dpi=100, layout="constrained")
    axes = bars.add_subplot()
    axes.barh(range(len(checks)), [100 * c["pass_rate"] for c in checks],
              color=["#dd8452" if c["flagged"] else "#4c72b0" for c in checks])
    axes.set_yticks(range(len(checks)), [c["name"] for c in checks], fontsize=8)
    axes.invert_yaxis()
    axes.set(xlim=(0, 100), xlabel="passed (% of graded submissions); orange: low discrimination")
    return {"scores.png": _png(histogram), "checks.png": _png(bars)}


def _cells(values) -> str:
    return "".join(f'<td class="n">{v:g}</td>' if isinstance(v, (int, float)) else f"<td>{html.escape(str(v))}</td>"
                   for v in values)


def _table(table_id: str, caption: str, header: list[str], rows: list[list], flags=()) -> str:
    """An HTML table (every cell escaped); a row saying "none" where there are no rows."""
    body = "".join(f'<tr{" class=flag" if flag else ""}>{_cells(row)}</tr>'
                   for row, flag in zip(rows, list(flags) or [False] * len(rows), strict=True))
    body = body or f'<tr><td colspan="{len(header)}">none</td></tr>'
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    return f'<table id="{table_id}"><caption>{html.escape(caption)}</caption><tr>{head}</tr>{body}</table>'


def _percent(share) -> str:
    return "—" if share is None else f"{100 * share:.0f}%"


def _image(png: bytes, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'


def render(assignment: config.Assignment, summary: dict, class_: list[Submission], figures: dict, source: Path) -> str:
    """index.html: every table and figure, self-contained."""
    d = summary["scores"]
    stats = [[label, round(d[key], 3) if key in d else "—"] for label, key in (
        ("graded", "n"), ("mean", "mean"), ("median", "median"), ("first quartile", "q1"),
        ("third quartile", "q3"), ("lowest", "min"), ("highest", "max"), ("at zero", "zero"),
        ("at full marks", "full"), ("points possible", "max_points"))]
    checks = summary["checks"]
    check_rows = [[c["name"], c["max_score"], c["passed"], c["submissions"], _percent(c["pass_rate"]),
                   "—" if c["discrimination"] is None else f"{c['discrimination']:.2f}"] for c in checks]
    items = [c for c in checks if c["flagged"]]
    sections = [
        f"<h1>{html.escape(assignment.id)}: {html.escape(assignment.title)}, class report</h1>",
        (f"<p>{summary['submissions']} submissions from <code>{html.escape(str(source))}</code>; "
         f"{summary['graded']} graded, {summary['not_graded']} not graded (listed at the end).</p>"),
        (f"<p><strong>{summary['without_extra_data']} graded submissions carry no extra_data</strong> (graded by "
         "an older grader, or exported without it): their likely causes and stops are not counted.</p>"
         if summary["without_extra_data"] else ""),
        "<h2>Scores</h2>", _image(figures["scores.png"], "histogram of the scores"),
        _table("scores", "The score distribution", ["statistic", "value"], stats),
        ("<h2>Likely causes</h2><p>Per function, each known mistake or generic cause named by a failing check, "
         "with the submissions that got it (each once per function), most frequent first.</p>"),
        _table("causes", "Likely causes", ["function", "likely cause", "id", "submissions", "share"],
               [[c["function"], c["label"], c["cause"], c["submissions"], _percent(c["share"])]
                for c in summary["causes"]]),
        "<h2>Checks</h2>", _image(figures["checks.png"], "pass rate of every check"),
        _table("checks", "Every check, the hardest first (discrimination: see the item analysis)",
               ["check", "points", "passed", "of", "pass rate", "discrimination"], check_rows,
               [c["flagged"] for c in checks]),
        _table("functions", "Points earned per function, as a share of its points",
               ["function", "points", "earned", "failed through a failing helper (submissions)"],
               [[f["function"], f["points"], _percent(f["earned_share"]), f["through_helpers"]]
                for f in summary["functions"]]),
        "<h2>What stopped the students' code</h2>",
        _table("stopped", "Checks decided by a timeout, a crash, an import failure, a missing file...",
               ["function", "what stopped it", "submissions", "share"],
               [[s["function"], s["label"], s["submissions"], _percent(s["share"])] for s in summary["stopped"]]),
        ("<h2>Item analysis</h2>"
         "<p>Discrimination: the correlation of passing a check with the score on all other checks. Flagged "
         f"(orange above): below {FLAG_BELOW:g} with at least {FLAG_FROM} submissions graded; strong students "
         "fail such a check about as often as weak ones, so it may be broken or ambiguous. "
         "&quot;—&quot;: undefined (everyone passed, or everyone failed).</p>"),
        _table("items", "Flagged checks", ["check", "pass rate", "discrimination"],
               [[c["name"], _percent(c["pass_rate"]), f"{c['discrimination']:.2f}"] for c in items]),
        "<h2>Not graded</h2>",
        _table("not-graded", "Submissions whose grading failed", ["submission", "students", "problem"],
               [[r["submission"], r["students"], r["problem"]] for r in _failed_rows(class_)]),
        ("<p>The same figures: summary.json, checks.csv, functions.csv, causes.csv, stopped.csv, scores.csv, "
         "not_graded.csv; gradebooks: gradebook-canvas.csv, gradebook-moodle.csv.</p>"),
    ]
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(assignment.id)} '
            f"class report</title><style>{CSS}</style></head><body>{''.join(sections)}</body></html>\n")
