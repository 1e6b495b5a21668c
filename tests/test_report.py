"""`course report`: a class built from hw1's own mutants and correct variants in known proportions
is graded once (`grade-all --jobs 2`, which writes the report), and the report recovers every
proportion exactly; a Gradescope export holding the same results gives the same report without
grading or extracting anything; an export without results is graded first; the page works offline
in a real browser (Debian's chromium, driven by Playwright)."""
from __future__ import annotations

import ast
import csv
import json
import shutil
import statistics
import subprocess
import sys
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import yaml

from autograder import batch, config, engine, report, results, runner
from conftest import ROOT, make_submission
from test_hw1_correct_variants import VARIANTS
from test_hw1_mutants import CAUSES, SIGNATURES, VAE_MUTANTS, body

HW1 = "hw1_vae"
FILES = engine.load_suite(ROOT / "solutions" / HW1).files
FUNCTIONS = {Path(name).stem: [node.name for node in ast.parse((ROOT / "solutions" / HW1 / name).read_text()).body
                               if isinstance(node, ast.FunctionDef) and not node.name.startswith("_")]
             for name in FILES}
GRADED = list(config.load(ROOT / "course.yml").assignment(HW1).checks)
KL_MEAN, IWAE_ELBO = ("gaussian_kl", "mean instead of sum"), ("iwae_bound", "the ELBO instead of the IWAE bound")
# the class: kind -> (how many, the mutants of test_hw1_mutants it hands in)
CLASS = {
    "reference": (16, []), "variants": (4, []), "kl-mean": (10, [KL_MEAN]), "iwae-elbo": (6, [IWAE_ELBO]),
    "kl-mean-and-iwae-elbo": (4, [KL_MEAN, IWAE_ELBO]), "beta-ignored": (5, [("negative_elbo", "beta ignored")]),
    "kl-sign": (4, [("gaussian_kl", "KL sign")]), "syntax-error": (3, []), "no-answers": (3, []),
    "raises": (2, []), "stub": (3, []),
}
SIZE = sum(count for count, _ in CLASS.values())
# the generic causes (checks/diagnoses.py's ids) that test_hw1_mutants.CAUSES describes for these mutants
GENERIC = {KL_MEAN: "mean-for-sum", ("gaussian_kl", "KL sign"): "opposite-sign"}
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"]
TABLES = ["scores", "causes", "checks", "functions", "stopped", "items", "not-graded"]


def planted_cause(function: str, mistake: str) -> str:
    """The cause id the mutant table promises for a mutant."""
    text = CAUSES[(function, mistake)]
    return "known: " + text.removeprefix("known mistake: ") if text.startswith("known mistake: ") \
        else GENERIC[(function, mistake)]


def make(kind: str, folder: Path) -> Path:
    """One submission of a kind of CLASS."""
    code = {(f, m): c for f, m, c, *_ in VAE_MUTANTS}
    files: dict[str, dict[str, str]] = {"vae": {f: body(f, SIGNATURES[f], code[(f, m)]) for f, m in CLASS[kind][1]}}
    if kind == "variants":
        files = {stem: {f: VARIANTS[(stem, f)][0] for f in names} for stem, names in FUNCTIONS.items()}
    if kind == "raises":
        files = {"vae": {"iwae_bound": "def iwae_bound(log_weights):\n    raise RuntimeError('not today')\n"}}
    make_submission(folder, HW1, **files)
    if kind == "stub":
        for name in FILES:
            shutil.copy(ROOT / "assignments" / HW1 / name, folder / name)
    if kind == "syntax-error":
        (folder / "vae.py").write_text("def reparameterize(mu, logvar)\n    return mu\n")
    if kind == "no-answers":
        (folder / "answers.py").unlink()
    return folder


def make_class(folder: Path) -> dict[str, str]:
    """The class's submission folders; {folder name: kind}."""
    kinds = {f"{kind}-{i:02d}": kind for kind, (count, _) in CLASS.items() for i in range(count)}
    for name, kind in kinds.items():
        make(kind, folder / name)
    return kinds


def course(*args, timeout=600):
    return subprocess.run([sys.executable, "-m", "autograder", "--root", str(ROOT), *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The class graded by `grade-all --jobs 2`, which writes the report next to the CSV."""
    base = tmp_path_factory.mktemp("class")
    kinds = make_class(base / "class")
    run = course("grade-all", HW1, base / "class", "--csv", base / "out" / "grades.csv", "--jobs", 2,
                 "--device", "cpu", timeout=900)
    assert run.returncode == 0, run.stderr
    return {"base": base, "kinds": kinds, "run": run, "results": base / "out" / "results",
            "report": base / "out" / "report",
            "summary": json.loads((base / "out" / "report" / "summary.json").read_text())}


def kind_results(graded) -> dict[str, dict]:
    """Each kind's results.json, after checking that every member of the kind got the very same verdicts."""
    verdicts: dict[str, dict] = {}
    for name, kind in graded["kinds"].items():
        data = results.read_json(graded["results"] / name / "results.json")
        seen = [(t["name"], t["status"], t["score"], t["extra_data"]) for t in data["tests"]]
        first = verdicts.setdefault(kind, data)
        assert seen == [(t["name"], t["status"], t["score"], t["extra_data"]) for t in first["tests"]], name
    return verdicts


def mixture(graded, of) -> Counter:
    """Σ over kinds of (the kind's count) × of(the kind's results.json), a Counter."""
    total: Counter = Counter()
    for kind, data in kind_results(graded).items():
        for key, value in of(data).items():
            total[key] += CLASS[kind][0] * value
    return total


def read_csv(path: Path) -> list[dict]:
    return list(csv.DictReader(path.read_text().splitlines()))


def rounded(value):
    """A summary with its floats rounded: submissions read in another order sum in another order."""
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    return [rounded(v) for v in value] if isinstance(value, list) else value


def per_function(data: dict, key: str) -> Counter:
    extras = [t["extra_data"] for t in data["tests"]]
    return Counter({(extra["function"], extra[key]) for extra in extras if key in extra})


def test_grade_all_writes_the_report_and_says_where(graded):
    assert f"report: {graded['report'] / 'index.html'}" in graded["run"].stdout
    for name in ("index.html", "summary.json", "checks.csv", "functions.csv", "causes.csv", "stopped.csv",
                 "scores.csv", "not_graded.csv", "gradebook-canvas.csv", "gradebook-moodle.csv"):
        assert (graded["report"] / name).is_file(), name


def test_the_score_distribution_is_the_planted_one(graded):
    summary, verdicts = graded["summary"], kind_results(graded)
    scores = [verdicts[kind]["score"] for kind, (count, _) in CLASS.items() for _ in range(count)]
    d = summary["scores"]
    assert summary["submissions"] == summary["graded"] == d["n"] == SIZE == 60
    assert d["full"] == CLASS["reference"][0] + CLASS["variants"][0] == 20
    assert d["zero"] == CLASS["stub"][0] == scores.count(0)
    assert d["mean"] == pytest.approx(statistics.fmean(scores), abs=1e-12)
    assert d["median"] == statistics.median(scores)
    assert [d["q1"], d["q3"]] == pytest.approx(list(np.percentile(scores, [25, 75])), abs=1e-12)
    assert d["max_points"] == config.load(ROOT / "course.yml").assignment(HW1).max_points


def test_every_pass_rate_is_the_planted_one(graded):
    checks = {c["name"]: c for c in graded["summary"]["checks"]}
    expected = mixture(graded, lambda data: Counter({t["name"]: t["status"] == "passed" for t in data["tests"]}))
    assert {name: c["passed"] for name, c in checks.items()} == dict(expected)
    assert all(c["submissions"] == SIZE and c["pass_rate"] == c["passed"] / SIZE for c in checks.values())
    rates = [c["pass_rate"] for c in graded["summary"]["checks"]]
    assert rates == sorted(rates)   # the hardest first
    kl = [c for name, c in checks.items() if name.startswith("gaussian_kl: ")]
    wrong_kl = sum(CLASS[k][0] for k in ("kl-mean", "kl-mean-and-iwae-elbo", "kl-sign", "syntax-error", "stub"))
    assert min(c["passed"] for c in kl) == SIZE - wrong_kl


def test_the_likely_causes_are_counted_as_planted(graded):
    counted = {(c["function"], c["cause"]): c["submissions"] for c in graded["summary"]["causes"]}
    planted = Counter()
    for count, mutants in CLASS.values():
        planted.update({(f, planted_cause(f, m)): count for f, m in mutants})
    assert planted[("gaussian_kl", "mean-for-sum")] == 14
    assert {key: counted.get(key) for key in planted} == dict(planted)
    assert counted == dict(mixture(graded, lambda data: per_function(data, "cause")))
    shares = [c["share"] for c in graded["summary"]["causes"]]
    assert shares == sorted(shares, reverse=True)   # the most frequent first
    kl_mean = next(c for c in graded["summary"]["causes"] if c["cause"] == "mean-for-sum")
    assert kl_mean["label"] == "averaged where a sum is asked" and kl_mean["share"] == 14 / 60


def test_what_stopped_the_code_is_counted_per_function(graded):
    counted = {(s["function"], s["stopped"]): s["submissions"] for s in graded["summary"]["stopped"]}
    planted = Counter({(f, "import"): 3 for f in FUNCTIONS["vae"] if f in GRADED})
    planted.update({(f, "missing"): 3 for f in FUNCTIONS["answers"] if f in GRADED})
    planted.update({(f, "not_implemented"): 3 for f in GRADED})
    planted[("iwae_bound", "exception")] = 2
    assert counted == dict(planted)


def test_points_per_function_are_the_planted_shares(graded):
    def points(data: dict, key: str) -> Counter:
        total: Counter = Counter()
        for t in data["tests"]:
            total[t["extra_data"]["function"]] += t[key]
        return total

    earned = mixture(graded, lambda data: points(data, "score"))
    possible = mixture(graded, lambda data: points(data, "max_score"))
    functions = {f["function"]: f for f in graded["summary"]["functions"]}
    assert list(functions) == GRADED
    shares = {f: earned[f] / possible[f] for f in GRADED}
    assert {f: v["earned_share"] for f, v in functions.items()} == pytest.approx(shares)
    calls_a_wrong_kl = ("kl-mean", "kl-mean-and-iwae-elbo", "kl-sign")
    assert functions["negative_elbo"]["through_helpers"] == sum(CLASS[k][0] for k in calls_a_wrong_kl)


def test_every_stop_the_runner_records_has_a_label():
    assert set(report.STOPPED) == set(runner.STOPS)


def test_discrimination_is_the_correlation_with_the_rest_score():
    assert report.discrimination(np.array([1, 1, 0, 0.]), np.array([3, 2, 1, 0.])) == pytest.approx(2 / 5 ** 0.5)
    assert report.discrimination(np.array([1, 1, 1.]), np.array([3, 2, 1.])) is None    # everyone passed
    assert report.discrimination(np.array([0, 0, 1, 1.]), np.array([3, 2, 1, 0.])) == pytest.approx(-2 / 5 ** 0.5)


def test_a_check_strong_students_fail_as_often_as_weak_ones_is_flagged():
    assignment = config.load(ROOT / "course.yml").assignment(HW1)
    names = list(assignment.settings())
    broken = names[3]
    class_ = []
    for i in range(20):   # student i passes the first i checks, and the broken one every other time
        tests = [{"name": n, "score": float(passed), "max_score": 1.0, "status": "passed" if passed else "failed"}
                 for j, n in enumerate(names) for passed in [(i % 2 == 0) if n == broken else j < i]]
        data = {"score": sum(t["score"] for t in tests), "tests": tests}
        class_.append(report.Submission(f"s{i}", [report.person(f"s{i}")], data))
    checks = {c["name"]: c for c in report.summarize(assignment, class_)["checks"]}
    assert checks[broken]["flagged"] and abs(checks[broken]["discrimination"]) < 0.2
    assert not any(c["flagged"] for name, c in checks.items() if name != broken)
    assert not any(c["flagged"] for c in report.summarize(assignment, class_[:9])["checks"])   # too few to tell


def export_of(graded, folder: Path, with_results: bool = True) -> Path:
    """The class as Gradescope's "Export Submissions" lays it out: submission_metadata.yml (each entry's
    :submitters, :created_at, :score and :results, the autograder's results.json) and a submission_ID
    folder per submission; the first two submissions are one group's."""
    export, metadata = folder / "assignment_4242_export", {}
    for number, name in enumerate(graded["kinds"]):
        submitters = [{":name": f"Student {name}", ":sid": f"{number:05d}", ":email": f"{name}@uni.edu"}]
        if number == 0:
            submitters.append({":name": "Partner", ":sid": "99999", ":email": "partner@uni.edu"})
        data = results.read_json(graded["results"] / name / "results.json")
        entry = {":submitters": submitters, ":created_at": "2026-12-04 22:00:00.000000000 +00:00",
                 ":score": data["score"], ":history": []}
        metadata[f"submission_{1000 + number}"] = {**entry, ":results": data} if with_results else entry
        shutil.copytree(graded["base"] / "class" / name, export / f"submission_{1000 + number}")
    (export / batch.EXPORT_METADATA).write_text(yaml.safe_dump(metadata, allow_unicode=True))
    return export


def zipped(folder: Path) -> Path:
    archive = folder.with_suffix(".zip")
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for path in sorted(folder.rglob("*")):
            out.write(path, path.relative_to(folder.parent))
    return archive


def test_a_gradescope_export_gives_the_same_report_without_grading_or_extracting(graded, tmp_path, monkeypatch):
    export = export_of(graded, tmp_path)
    def refuse(*args, **kwargs):
        raise AssertionError("nothing is graded or extracted where the export holds the results")
    monkeypatch.setattr(batch, "grade_all", refuse)
    monkeypatch.setattr(zipfile.ZipFile, "extractall", refuse)
    for source in (zipped(export), export):
        out = tmp_path / f"report-{source.suffix or 'folder'}"
        report.build(ROOT, HW1, source, out)
        assert rounded(json.loads((out / "summary.json").read_text())) == rounded(graded["summary"])
        rows = read_csv(out / "gradebook-canvas.csv")
        assert len(rows) == SIZE + 1   # the group's two members each get the group's score
        assert rows[0]["Student"] == "Student reference-00" and rows[1]["SIS Login ID"] == "partner@uni.edu"
        assert rows[0]["hw1_vae"] == rows[1]["hw1_vae"] == "38" and rows[0]["SIS User ID"] == "00000"


@pytest.mark.parametrize("text", [
    "a: 1\nb: [1, 2.5, yes, null, ~, '3', 2020-01-01, !!int '7', !!str 8, \"q\"]\nc: &x {k: v}\nd: *x\n",
    "- 1\n- - 2\n  - 3\n- {a: {b: c}}\n", "x: |\n  multi\n  line\n0x1f: 0o17\n", "plain", ""])
def test_the_metadata_reads_as_yaml_safe_load_reads_it(text):
    assert report.load_yaml(text.encode()) == yaml.safe_load(text)


def test_ruby_typed_values_of_an_export_are_read_as_data():
    text = "--- !ruby/hash:ActiveSupport::HashWithIndifferentAccess\n:score: !ruby/object:BigDecimal 18:0.95e2\n"
    assert report.load_yaml(text.encode()) == {":score": 95.0}


def test_an_export_without_results_is_graded_first(graded, tmp_path):
    export = tmp_path / "assignment_7_export"
    for number, kind in enumerate(("reference", "stub")):
        make(kind, export / f"submission_{number}")
    (export / batch.EXPORT_METADATA).write_text(yaml.safe_dump({
        "submission_0": {":submitters": [{":name": "Ann", ":sid": "1", ":email": "ann@uni.edu"}]},
        "submission_1": {":submitters": [{":name": "Ben", ":sid": "2", ":email": "ben@uni.edu"}]}}))

    run = course("report", HW1, zipped(export), "--out", tmp_path / "out", "--jobs", 2, "--device", "cpu")

    assert run.returncode == 0, run.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert (summary["graded"], summary["scores"]["full"], summary["scores"]["zero"]) == (2, 1, 1)
    assert (tmp_path / "out" / "results" / "submission_1" / "results.json").is_file()   # kept, for a second report
    moodle = read_csv(tmp_path / "out" / "gradebook-moodle.csv")
    assert [(r["Email address"], r["ID number"], r["hw1_vae"]) for r in moodle] == [("ann@uni.edu", "1", "38"),
                                                                                   ("ben@uni.edu", "2", "0")]


def test_failed_gradings_are_listed_not_dropped(graded, tmp_path):
    source = tmp_path / "results"
    for name in ("reference-00", "stub-00"):
        shutil.copytree(graded["results"] / name, source / name)
    results.write_json(results.failure(HW1, "RuntimeError: the grader broke"), source / "broken" / "results.json")
    (source / "garbled").mkdir()
    (source / "garbled" / "results.json").write_text("{not json")
    old = results.read_json(graded["results"] / "kl-mean-00" / "results.json")   # graded before extra_data
    results.write_json({**old, "tests": [{k: v for k, v in t.items() if k != "extra_data"} for t in old["tests"]]},
                       source / "old-grader" / "results.json")

    run = course("report", HW1, source, "--out", tmp_path / "out")

    assert run.returncode == 0, run.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert (summary["submissions"], summary["graded"], summary["not_graded"]) == (5, 3, 2)
    assert summary["without_extra_data"] == 1 and summary["scores"]["mean"] == (38 + 0 + old["score"]) / 3
    assert {c["name"]: c["passed"] for c in summary["checks"]}["gaussian_kl: values and gradients"] == 1
    failed = {r["submission"]: r["problem"] for r in read_csv(tmp_path / "out" / "not_graded.csv")}
    assert set(failed) == {"broken", "garbled"} and "the grader broke" in failed["broken"]
    assert "unreadable" in failed["garbled"]
    page = (tmp_path / "out" / "index.html").read_text()
    assert "the grader broke" in page and "garbled" in page and "1 graded submissions carry no extra_data" in page
    canvas = {r["Student"]: r["hw1_vae"] for r in read_csv(tmp_path / "out" / "gradebook-canvas.csv")}
    assert canvas["broken"] == ""   # no grade, not 0


def test_the_gradebook_per_function_adds_up_to_the_score(graded, tmp_path):
    run = course("report", HW1, graded["results"], "--out", tmp_path, "--per", "function")
    assert run.returncode == 0, run.stderr
    scores = {r["submission"]: float(r["score"]) for r in read_csv(tmp_path / "scores.csv")}
    rows = read_csv(tmp_path / "gradebook-canvas.csv")
    assert list(rows[0])[:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert list(rows[0])[5:] == [f"{HW1}: {f}" for f in GRADED]
    assert {r["Student"]: sum(float(r[f"{HW1}: {f}"]) for f in GRADED) for r in rows} == pytest.approx(scores)


def test_cli_errors_are_one_line_and_exit_2(tmp_path):
    for args in ((HW1, tmp_path / "nowhere"), (HW1, tmp_path), ("hw9_nothing", tmp_path)):
        run = course("report", *args, "--out", tmp_path / "out")
        assert run.returncode == 2 and run.stderr.startswith("error: ") and run.stderr.count("\n") == 1, run.stderr
    assert "no such file or folder" in course("report", HW1, tmp_path / "nowhere", "--out", tmp_path / "o").stderr


def test_grade_all_skips_the_report_on_request(tmp_path):
    make("reference", tmp_path / "class" / "alone")
    run = course("grade-all", HW1, tmp_path / "class", "--csv", tmp_path / "grades.csv", "--device", "cpu",
                 "--no-report")
    assert run.returncode == 0, run.stderr
    assert "report:" not in run.stdout and not (tmp_path / "report").exists()


def test_the_report_in_a_real_browser(graded):
    """Every image loads and every table is there, offline: nothing but the page itself is requested."""
    if not shutil.which("chromium"):
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    page_url = (graded["report"] / "index.html").as_uri()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=BROWSER_ARGS)
        try:
            page = browser.new_page()
            requested = []
            page.on("request", lambda request: requested.append(request.url))
            page.goto(page_url, wait_until="load")
            images = page.eval_on_selector_all("img", "els => els.map(e => [e.complete, e.naturalWidth])")
            tables = page.eval_on_selector_all("table", "els => els.map(e => [e.id, e.rows.length])")
        finally:
            browser.close()
    assert len(images) == 2 and all(done and width > 0 for done, width in images)
    assert [t for t, _ in tables] == TABLES and all(rows >= 2 for _, rows in tables)
    assert all(url == page_url or url.startswith("data:") for url in requested), requested
