"""Hostile submissions gain nothing and break nothing (threat model: docs/security.md).

Each submission is the hw1_vae reference with one part made hostile. Each test asserts the score
(the hostile function loses its points, the rest keeps full marks), a clear message, and a valid
results.json written by the judge alone. They run as root (as CI does), with bubblewrap."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import os

import jsonschema
import pytest

from autograder import engine, results
from autograder.sandbox import Sandbox
from conftest import ROOT, make_submission

# These tests state what holds where the grader runs as root (Gradescope, CI). As an ordinary user
# some attacks end differently (e.g. signalling gives another error); docs/security.md has the table.
pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the hostile-submission suite runs as root, like CI")

SCHEMA = json.loads((ROOT / "tests" / "gradescope_schema.json").read_text())
FUNCTIONS = {"gaussian_kl", "iwae_bound"}
KL_POINTS = 5  # gaussian_kl's checks in course.yml
FULL = 14      # gaussian_kl and iwae_bound together


def grade(tmp_path, kl_body=None, module_code="", extra_files=None, root=ROOT):
    """Grade gaussian_kl and iwae_bound of a hostile submission; return (results.json data, by name)."""
    vae = {}
    if kl_body is not None:
        vae["gaussian_kl"] = "def gaussian_kl(mu, logvar):\n" + "".join(f"    {l}\n" for l in kl_body.splitlines())
    folder = make_submission(tmp_path / "submission", vae=vae)
    if module_code:
        path = folder / "vae.py"
        path.write_text(module_code + "\n" + path.read_text())
    for name, text in (extra_files or {}).items():
        (folder / name).write_text(text)
    report = engine.grade(root, "hw1_vae", folder, device="cpu", only=FUNCTIONS)
    out = tmp_path / "results" / "results.json"
    results.write_json(results.gradescope(report), out)
    data = json.loads(out.read_text())
    jsonschema.validate(data, SCHEMA)
    assert out.stat().st_size < 2**20
    return data, {t["name"]: t for t in data["tests"]}


def kl_lost(tests, fragment=None, others_intact=True):
    """gaussian_kl lost points (with `fragment`, or one of several, in some message); iwae_bound
    kept all of its own unless the attack also sabotaged the rest of the student's own module."""
    kl = [t for n, t in tests.items() if n.startswith("gaussian_kl:")]
    assert sum(t["score"] for t in kl) < KL_POINTS
    if others_intact:
        assert all(t["status"] == "passed" for n, t in tests.items() if n.startswith("iwae_bound:"))
    if fragment:
        fragments = fragment if isinstance(fragment, tuple) else (fragment,)
        assert any(f in t["output"] for t in kl for f in fragments), [t["output"] for t in kl]


@pytest.fixture(autouse=True, scope="module")
def confined():
    """As root, with bubblewrap installed (.ci/run installs it), nothing may be missing. Without
    the sandbox these attacks are real (kill -1 as root ends every process of the machine), so
    none of them may run."""
    missing = Sandbox().missing()
    if missing:
        pytest.fail(f"the sandbox is not in force, hostile submissions not run: {missing}", pytrace=False)


def test_without_bubblewrap_the_report_says_what_is_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("DGM_BUBBLEWRAP", "0")
    data, _ = grade(tmp_path)
    assert data["score"] == FULL
    assert "Not in force: no bubblewrap" in data["output"]


def test_reference_baseline(tmp_path):
    data, _ = grade(tmp_path)
    assert data["score"] == FULL


FORGED = '{"score": 1000, "tests": []}'


@pytest.mark.parametrize("how", ["at import", "at exit"])
def test_writing_results_json_directly(tmp_path, how):
    target = tmp_path / "results" / "results.json"
    write = f"open({str(target)!r}, 'w').write({FORGED!r})"
    code = {"at import": f"import os\ntry:\n    os.makedirs({str(target.parent)!r}, exist_ok=True)\n    {write}\nexcept Exception:\n    pass",
            "at exit": f"import atexit\natexit.register(lambda: {write})"}[how]
    data, _ = grade(tmp_path, module_code=code)
    time.sleep(0.5)
    assert data["score"] == FULL
    assert json.loads(target.read_text())["score"] == FULL   # the judge's file, not the forgery


def test_detached_process_that_writes_later(tmp_path):
    marker = tmp_path / "late.txt"
    body = ("import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(2)\n"
            f"    open({str(marker)!r}, 'w').write('forged')\n    os._exit(0)\nreturn mu.sum(-1) * 0")
    _, tests = grade(tmp_path, body)
    time.sleep(3)
    kl_lost(tests)
    assert not marker.exists()


def test_printing_fake_results(tmp_path):
    body = 'print(\'{"score": 1000}\')\nimport sys\nsys.stdout.flush()\nreturn mu.sum(-1) * 0'
    data, tests = grade(tmp_path, body)
    kl_lost(tests, "expected")
    assert data["score"] < FULL


@pytest.mark.parametrize("attack,outcome", [
    ("os.kill(os.getppid(), signal.SIGKILL)", "Operation not permitted"),   # another user's process
    # nothing else in its namespace, or (forked from a worker template) only the template, root's:
    # the call reaches nothing and the function returns its wrong value
    ("os.kill(-1, signal.SIGKILL)", ("No such process", "expected")),
    ("os.killpg(0, signal.SIGKILL)", "ended the Python process"),            # only itself
])
def test_killing_or_signalling_the_grader(tmp_path, attack, outcome):
    _, tests = grade(tmp_path, f"import os, signal\n{attack}\nreturn mu.sum(-1)")
    kl_lost(tests, outcome)


def test_monkeypatching_comparisons_in_the_worker(tmp_path):
    code = ("import math, numpy, torch\ntorch.allclose = lambda *a, **k: True\ntorch.equal = lambda *a, **k: True\n"
            "torch.Tensor.__eq__ = lambda *a, **k: True\nmath.isclose = lambda *a, **k: True\n"
            "numpy.allclose = lambda *a, **k: True\ntorch.testing.assert_close = lambda *a, **k: None")
    _, tests = grade(tmp_path, "return mu.sum(-1) * 0", module_code=code)
    kl_lost(tests, "expected", others_intact=False)   # patching its own torch may break its own iwae


def test_object_whose_eq_lies(tmp_path):
    body = "class Liar:\n    def __eq__(self, other):\n        return True\n    shape = mu.shape[:-1]\nreturn Liar()"
    _, tests = grade(tmp_path, body)
    kl_lost(tests, "cannot send a value of type Liar")


def test_tensor_subclass_with_lying_torch_function(tmp_path):
    body = ("class Liar(torch.Tensor):\n    @classmethod\n    def __torch_function__(cls, func, types, args=(), kwargs=None):\n"
            "        return torch.zeros(())\nreturn (mu.sum(-1) * 0).as_subclass(Liar)")
    _, tests = grade(tmp_path, body)
    kl_lost(tests)


@pytest.mark.parametrize("value", ["float('nan')", "float('inf')"])
def test_nan_and_inf(tmp_path, value):
    _, tests = grade(tmp_path, f"return mu.sum(-1) * 0 + {value}")
    kl_lost(tests, "overflow")


def test_forged_protocol_message_with_a_pickle(tmp_path):
    body = ("import os, json, struct\nframe = json.dumps({'ok': True, 'value': {'t': 'pickle', 'data': 'gASV'}}).encode()\n"
            "for fd in range(3, 20):\n    try:\n        if os.readlink(f'/proc/self/fd/{fd}').startswith('pipe:'):\n"
            "            os.write(fd, struct.pack('>Q', len(frame)) + frame)\n    except OSError:\n        pass\n"
            "return mu.sum(-1) * 0")
    data, tests = grade(tmp_path, body)
    kl_lost(tests, others_intact=False)   # its own later answers arrive out of turn: they can only lose
    assert data["score"] < FULL


def test_sympy_object_that_runs_code_when_printed(tmp_path):
    source = ("def kl_univariate_gaussians(mu_q, sigma_q, mu_p, sigma_p):\n"
              "    class Evil(sympy.Function):\n        def _sympystr(self, printer):\n"
              "            open('/tmp/pwned', 'w').write('x')\n            return 'evil'\n"
              "        def __str__(self):\n            open('/tmp/pwned', 'w').write('x')\n            return 'evil'\n"
              "    return Evil(mu_q)")
    folder = make_submission(tmp_path / "submission", answers={"kl_univariate_gaussians": source})
    report = engine.grade(ROOT, "hw1_vae", folder, device="cpu", only={"kl_univariate_gaussians"})
    assert report.score == 0
    assert all("does not accept" in r.message for r in report.results)
    assert not (ROOT / "pwned").exists()


def test_reading_the_references_and_hidden_checks(tmp_path):
    body = "\n".join([
        "found = []",
        f"for path in [{str(ROOT / 'solutions' / 'hw1_vae' / 'vae.py')!r}, {str(ROOT / 'solutions' / 'hw1_vae' / 'checks.py')!r},",
        f"             {str(ROOT / 'solutions' / 'hw3_gans' / 'answers.py')!r}]:",
        "    try:",
        "        found.append(open(path).read()[:40])",
        "    except OSError as error:",
        "        found.append(type(error).__name__)",
        "raise RuntimeError(repr(found))"])
    _, tests = grade(tmp_path, body)
    kl_lost(tests, "FileNotFoundError")
    outputs = " ".join(t["output"] for t in tests.values())
    assert "hw1_vae" not in outputs and "BEGIN SOLUTION" not in outputs and "import" not in outputs


def test_searching_memory_for_expected_values(tmp_path):
    body = ("import gc, inspect\ncandidates = [o for o in gc.get_objects() if isinstance(o, torch.Tensor) and o.shape == mu.shape[:-1]]\n"
            "frames = [f.frame.f_locals for f in inspect.stack()]\n"
            "return candidates[0] if candidates else mu.sum(-1) * 0")
    _, tests = grade(tmp_path, body)
    kl_lost(tests, "expected")


def test_startup_files_in_the_submission_folder(tmp_path):
    poison = "raise SystemExit('poisoned')\n"
    data, _ = grade(tmp_path, extra_files={"sitecustomize.py": poison, "usercustomize.py": poison,
                                           "conftest.py": poison, "torch.py": poison, "math.py": poison})
    assert data["score"] == FULL


def test_endless_loop_that_swallows_signals_and_exceptions(tmp_path, monkeypatch):
    monkeypatch.setattr("autograder.runner.IMPORT_TIMEOUT", 30.0)
    body = ("import signal\nfor s in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM):\n    signal.signal(s, signal.SIG_IGN)\n"
            "while True:\n    try:\n        pass\n    except BaseException:\n        pass")
    root = short_timeout(tmp_path)
    _, tests = grade(tmp_path, body, root=root)
    kl_lost(tests, "did not finish within 3 s")


def test_fork_storm(tmp_path):
    # the storm names itself (children inherit the name), since other tests' workers, run in
    # parallel, are nobody's processes too
    body = ("import ctypes, os\nctypes.CDLL(None).prctl(15, b'forkstorm313', 0, 0, 0)\n"
            "while True:\n    try:\n        os.fork()\n    except OSError:\n        pass")
    _, tests = grade(tmp_path, body, root=short_timeout(tmp_path))
    kl_lost(tests, "did not finish")
    assert not leftover("forkstorm313", by_name=True)


def test_a_concurrent_grading_is_out_of_reach_of_a_fork_storm(tmp_path):
    """Gradings at the same time (grade-all --jobs) run their workers as users of their own: a
    submission that holds every process its user may have (RLIMIT_NPROC counts per user, across
    sandboxes) leaves another grading's worker free to start threads and processes (as torch's
    thread pool, CUDA and DataLoader workers do; here a correct gaussian_kl computed in a thread)."""
    # light processes (a sleep each), so that the user's process limit, not memory, ends the storm
    storm = ("import subprocess, time\nwhile True:\n    try:\n        subprocess.Popen(['sleep', '313.5'])\n"
             "    except OSError:\n        break\ntime.sleep(120)\n")
    folder = make_submission(tmp_path / "storm")
    (folder / "vae.py").write_text(storm + (folder / "vae.py").read_text())
    background = subprocess.Popen([sys.executable, "-m", "autograder", "--root", str(ROOT), "grade", "hw1_vae",
                                   str(folder), "--results", str(tmp_path / "storm.json")],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while storm_size() < 400:   # the limit is 512 processes and threads
            assert time.monotonic() < deadline and background.poll() is None, "the storm did not start"
            time.sleep(0.2)
        data, _ = grade(tmp_path / "calm", THREADED_KL)
        assert storm_size() >= 400, "the storm ended before the other grading was done"
        assert data["score"] == FULL, data["output"]
    finally:
        background.kill()
        background.wait()
    assert not leftover("sleep 313.5")


THREADED_KL = ("import threading\nout = []\nthread = threading.Thread(target=lambda: out.append("
               "0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(-1)))\nthread.start()\nthread.join()\nreturn out[0]")


def storm_size() -> int:
    run = subprocess.run(["pgrep", "-c", "-f", "^sleep 313.5"], capture_output=True, text=True)
    return int(run.stdout.strip() or 0)


def test_memory_grab(tmp_path):
    _, tests = grade(tmp_path, "hoard = bytearray(16 * 2**30)\nreturn mu.sum(-1)")
    kl_lost(tests, "MemoryError")


def test_huge_output(tmp_path):
    body = "import sys\nfor _ in range(200):\n    sys.stderr.write('x' * 2**20)\nreturn mu.sum(-1) * 0"
    data, tests = grade(tmp_path, body)
    kl_lost(tests)
    assert len(json.dumps(data)) < 2**20


def test_leftover_child_processes(tmp_path):
    body = "import subprocess\nsubprocess.Popen(['sleep', '313'], start_new_session=True)\nreturn mu.sum(-1) * 0"
    _, tests = grade(tmp_path, body)
    kl_lost(tests)
    assert not leftover("sleep 313")


def test_leftovers_of_a_grading_without_bubblewrap_end_with_it(monkeypatch):
    """Without bubblewrap a process can leave the worker's group; when the grading ends, every
    process and temporary file of the worker's user goes (a batch judge's next submission gets
    the same user), and nothing of another user."""
    monkeypatch.setattr("autograder.sandbox.worker_user_can_run_python", lambda: True)
    sandbox = Sandbox(use_bubblewrap=False)
    uid = sandbox.uid
    left = subprocess.Popen(["sleep", "319"], user=uid, group=uid, extra_groups=[], start_new_session=True)
    other = subprocess.Popen(["sleep", "320"], user=uid + 1, group=uid + 1, extra_groups=[], start_new_session=True)
    planted = [Path(tempfile.mkdtemp()), Path(tempfile.mkstemp(dir="/dev/shm")[1])]
    (planted[0] / "inside").write_text("for the next submission")
    for path in (*planted, planted[0] / "inside"):
        os.chown(path, uid, uid)
    kept = Path(tempfile.mkstemp()[1])
    try:
        sandbox.reap()
        assert left.wait(timeout=10) == -9
        assert other.poll() is None and kept.exists()
        assert not any(p.exists() for p in planted)
    finally:
        other.kill()
        kept.unlink()


CORRECT_KL = "return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(-1)"


def test_a_forked_worker_holds_no_capability_and_no_way_to_gain_one(tmp_path):
    body = ("import os\nstatus = open('/proc/self/status').read()\n"
            "assert os.getuid() != 0 and 'CapEff:\\t0000000000000000' in status and 'NoNewPrivs:\\t1' in status, status\n"
            + CORRECT_KL)
    data, _ = grade(tmp_path, body)
    assert data["score"] == FULL


def test_what_a_submission_leaves_is_gone_before_the_next_one(tmp_path, monkeypatch):
    """One judge grades submissions one after another, forking their workers from one template
    (as a batch judge does): each has a user of its own and an IPC namespace of its own, the
    processes of one are gone before the next starts, and it cannot leave files in /tmp or
    /dev/shm. After SERIALS submissions the template is replaced."""
    from autograder import sandbox, template

    monkeypatch.setattr(sandbox, "SERIALS", 2)
    if template._template is not None:   # a template of its own, from its first submission on
        template._template.close()
        template._template = None
    leave = ("import contextlib, os, subprocess\nfor folder in ('/tmp', '/dev/shm'):\n"
             "    with contextlib.suppress(OSError):   # bubblewrap's /tmp is root's: not writable\n"
             "        open(f'{folder}/left-by-{os.getuid()}', 'w').write('x')\n"
             "subprocess.Popen(['sleep', '331'], start_new_session=True)\n"
             "import ctypes\nassert ctypes.CDLL(None).shmget(4242, 4096, 0o1666) >= 0   # IPC_CREAT, for all\n"
             + CORRECT_KL)
    look = ("import os, glob\nseen = glob.glob('/tmp/left-by-*') + glob.glob('/dev/shm/left-by-*')\n"
            "others = [p for p in os.listdir('/proc') if p.isdigit() and int(p) != os.getpid() and "
            "os.stat(f'/proc/{p}').st_uid == os.getuid()]\n"
            "segments = open('/proc/sysvipc/shm').read().splitlines()[1:]\n"
            "assert not seen and not others and not segments, (seen, others, segments)\n" + CORRECT_KL)
    templates = []
    for i, body in enumerate((leave, look, leave, look)):
        data, tests = grade(tmp_path / str(i), body)
        assert data["score"] == FULL, [t["output"] for t in tests.values() if t["status"] != "passed"]
        templates.append(template._template.process.pid)
        assert not leftover("sleep 331")
    assert templates[0] == templates[1] != templates[2] == templates[3]


def test_a_template_that_died_is_started_again(tmp_path):
    from autograder import template

    grade(tmp_path / "first", CORRECT_KL)
    os.killpg(template._template.process.pid, 9)
    data, _ = grade(tmp_path / "second", CORRECT_KL)
    assert data["score"] == FULL


def test_a_worker_that_closes_its_channel_and_sleeps(tmp_path):
    """The judge sees the channel end while the worker lives on: the function loses its checks,
    the rest of the grading (and, under a template, the template) goes on."""
    body = "import os, time\nos.closerange(3, 1000)\ntime.sleep(1000)\n" + CORRECT_KL
    _, tests = grade(tmp_path / "sleeper", body)
    kl_lost(tests, "ended the Python process")
    data, _ = grade(tmp_path / "next", CORRECT_KL)
    assert data["score"] == FULL


def test_where_a_template_cannot_start_a_worker_workers_are_exec_d(tmp_path, monkeypatch, capfd):
    from autograder import sandbox, template

    if template._template is not None:
        template._template.close()
        template._template = None
    # without CAP_SYS_ADMIN the forked child cannot have namespaces of its own
    monkeypatch.setattr(sandbox, "TEMPLATE_CAPABILITIES", ("CAP_SETUID", "CAP_SETGID"))
    try:
        data, _ = grade(tmp_path, CORRECT_KL)
        assert data["score"] == FULL
        assert "the worker template did not start a worker" in capfd.readouterr().err
        assert template.template_for(Sandbox().hidden) is None
    finally:
        template._template.close()
        template._template = None


def test_no_network(tmp_path):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    body = f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)\nreturn mu.sum(-1)"
    try:
        _, tests = grade(tmp_path, body)
    finally:
        server.close()
    kl_lost(tests, "raised")


def test_writing_to_the_grader_and_the_course(tmp_path):
    body = (f"open({str(ROOT / 'autograder' / 'engine.py')!r}, 'a').write('# tampered')\nreturn mu.sum(-1)")
    _, tests = grade(tmp_path, body)
    kl_lost(tests, ("Read-only file system", "Permission denied"))
    assert "tampered" not in (ROOT / "autograder" / "engine.py").read_text()


def test_exception_at_import_with_a_hostile_str(tmp_path):
    code = "class E(Exception):\n    def __str__(self):\n        raise RuntimeError('no')\nraise E()"
    _, tests = grade(tmp_path, module_code=code)
    assert all(t["score"] == 0 for t in tests.values())
    assert all("could not be printed" in t["output"] for t in tests.values())


def test_same_score_ten_times(tmp_path):
    """A submission whose failures involve random draws and hypothesis gets one score, always."""
    body = "return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(-1) + (torch.rand(()) < 0.5).to(mu.dtype) * 1e-3"
    scores = {grade(tmp_path / str(i), body)[0]["score"] for i in range(10)}
    assert len(scores) == 1


def short_timeout(tmp_path):
    import re
    import shutil

    root = tmp_path / "course"
    root.mkdir(exist_ok=True)
    for part in ("solutions", "assignments"):
        if not (root / part).exists():
            shutil.copytree(ROOT / part, root / part)
    (root / "course.yml").write_text(re.sub(r"timeout: \d+", "timeout: 3", (ROOT / "course.yml").read_text()))
    return root


def leftover(pattern: str, by_name: bool = False, grace: float = 10.0) -> bool:
    """Whether a process whose command line (or, by_name, whose name) matches `pattern` still runs
    `grace` seconds on. The kernel ends a sandbox's processes once its bubblewrap is killed, but not
    instantly: a few thousand forks take a moment on a loaded machine."""
    deadline = time.monotonic() + grace
    while subprocess.run(["pgrep", "-x" if by_name else "-f", pattern], capture_output=True).returncode == 0:
        if time.monotonic() > deadline:
            return True
        time.sleep(0.2)
    return False


def test_a_string_of_code_for_a_sympy_answer(tmp_path):
    source = ("def kl_univariate_gaussians(mu_q, sigma_q, mu_p, sigma_p):\n"
              "    return \"__import__('os').system('touch /tmp/pwned-by-string')\"")
    folder = make_submission(tmp_path / "submission", answers={"kl_univariate_gaussians": source})
    report = engine.grade(ROOT, "hw1_vae", folder, device="cpu", only={"kl_univariate_gaussians"})
    assert report.score == 0
    assert all("expected a sympy expression" in r.message for r in report.results)
    assert not os.path.exists("/tmp/pwned-by-string")


@pytest.mark.parametrize("exit_code,fragment", [
    ("import sys\nsys.exit(3)", "called sys.exit(3)"),
    ("import os\nos._exit(7)", "exit code 7"),
    ("import ctypes\nctypes.string_at(0)", "SIGSEGV"),
])
def test_exits_and_crashes(tmp_path, exit_code, fragment):
    _, tests = grade(tmp_path, exit_code + "\nreturn mu.sum(-1)")
    kl_lost(tests, fragment)
