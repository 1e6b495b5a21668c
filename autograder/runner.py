"""Calling graded functions: `Submission` runs the student's in a worker process, `Reference`
runs the hidden reference in the judge. Both answer `call(...)` with a `Result`."""
from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from . import calls, source, wire
from .sandbox import INSIDE, Sandbox, end_group, worker_environment
from .template import TemplateError, template_for

ENGINE_FOLDER = "check_engine"   # the engine copy in a released student folder (release.py)
IMPORT_TIMEOUT = 30.0
STARTUP_TIMEOUT = 300.0   # starting Python and importing torch, before any student code runs
# A call may take SLOWDOWN times the reference's own time on its check's inputs, and never less
# than its check's floor (Python loops are slower than vectorised code, machines differ; the floor
# decides for the fast references of this course); course.yml's timeout caps it.
SLOWDOWN = 50.0
FLOOR_SECONDS = 5.0
SYMPY_FLOOR_SECONDS = 10.0   # answers may derive with sympy (integrate, solve, simplify) in a fresh worker
DEATHS_PER_FUNCTION = 2      # a function that ends the worker this often is not called again


def time_limit(reference_seconds: float, cap: float, floor: float = FLOOR_SECONDS) -> float:
    """Seconds a student's call may take, given the reference's slowest call of that function."""
    return min(cap, max(floor, SLOWDOWN * reference_seconds))


class StudentError(Exception):
    """The student's code did not produce an answer; the message is written for the student.
    raised: the name of the exception type the student's function raised, if it raised one.
    stop: what stopped it, one of STOPS (class reports count them)."""

    def __init__(self, message: str, raised: str | None = None, stop: str = "exception"):
        super().__init__(message)
        self.raised, self.stop = raised, stop


# What can stop a student's function from answering: it ran past its time limit, ended the worker
# (a crash), its file failed to import or is missing, it is the stub's NotImplementedError, the
# grading's time budget was spent, it returned what the grader cannot read, or it raised.
STOPS = ("timeout", "crash", "import", "missing", "not_implemented", "budget", "unreadable", "exception")


class WorkerDied(StudentError):
    """The worker process ended during a request (a crash, os._exit, a broken protocol)."""


class GraderError(RuntimeError):
    """Grading itself cannot go on (the worker does not start): no score is better than a wrong one."""


@dataclass
class Result:
    value: object            # decoded: wire.TensorInfo, a plain value, a sympy object, a list
    grads: list | None       # TensorInfo or None per argument in grad_wrt


def encode_arguments(args, kwargs):
    def one(a):
        sympy = sys.modules.get("sympy")   # not imported: `a` is no sympy object

        if sympy is not None and isinstance(a, sympy.Symbol):
            return wire.encode_symbol(a.name, {k: v for k, v in a.assumptions0.items() if k in (
                "real", "positive", "nonnegative", "negative", "integer")})
        return wire.encode(a)

    return [one(a) for a in args], {k: one(v) for k, v in (kwargs or {}).items()}


def start_template(hidden: list[Path]) -> None:
    """Start the worker template now where workers will be forked from one (as root under
    bubblewrap), without waiting for its torch import: a first grading's judge loads meanwhile."""
    template = template_for(hidden) if Sandbox(hidden=hidden).uses_template else None
    if template is not None:   # None: it could not fork a worker here, workers are exec'd
        template.start()


class Submission:
    """The student's files, copied into a fresh folder and served by a restartable worker."""

    def __init__(self, folder: Path, files: list[str], timeout: float = 60.0, sandbox: Sandbox | None = None,
                 device: str = "cpu", deadline: float | None = None):
        self.time_limit = timeout   # seconds per call; the engine sets it for each check
        self.deadline = deadline    # time.monotonic() at which the whole run's budget is spent
        self.device = device
        self.hung: dict[str, StudentError] = {}   # function -> why its calls are not tried again
        self.stops: list[str] = []   # what stopped the student's code so far (StudentError.stop), in order
        self.deaths: dict[str, int] = {}   # function -> how often a call of it ended the worker
        self.sandbox = sandbox or Sandbox()
        # as root under bubblewrap, workers are forked from a template that has imported torch
        self.template = template_for(self.sandbox.hidden) if self.sandbox.uses_template else None
        if self.template is not None:
            self.sandbox.serial = self.template.admit()   # a user of its own
        self.workdir = self.template.folder() if self.template else Path(tempfile.mkdtemp(prefix="dgm-submission-"))
        self.present = set()
        self.sources: dict[str, str] = {}   # the submitted files' text, as submitted (read, never run here)
        for name in files:
            found = find_file(Path(folder), name)
            if found is not None:
                shutil.copyfile(found, self.workdir / name)
                self.present.add(Path(name).stem)
                text = source.read(self.workdir / name)
                if text is not None:
                    self.sources[name] = text
        self.sandbox.prepare(self.workdir)
        self.process = None
        self.ready = False
        self.imported: set[str] = set()
        self.broken: dict[str, StudentError] = {}   # module -> why it cannot be used

    # -- process management
    def start(self) -> None:
        """Start the worker, without waiting for its torch import (under a template: start the
        template, if need be; the worker is forked from it when first needed)."""
        if self.process is not None:
            if self.process.poll() is None:
                return
            self.kill()   # what the ended worker started, and its pipes
        self.imported, self.ready = set(), False
        self.log = tempfile.TemporaryFile()
        if self.template is not None:
            self.template.start()
            return
        command, inside = self.sandbox.command(self.workdir)
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
            cwd=self.workdir, env=self._environment(inside), start_new_session=True,
            preexec_fn=self.sandbox.preexec())

    def _environment(self, home: str) -> dict:
        return worker_environment(HOME=home, DGM_DEVICE=self.device)   # the worker warms up this device

    def _wait_until_ready(self) -> None:
        """Block until the worker has imported torch; a failure here is the grader's, not the student's."""
        if self.ready:
            return
        try:
            if self.process is None:
                home = f"{INSIDE}/{self.workdir.name}"
                self.process = self.template.spawn(self.workdir, self.sandbox.uid, self.sandbox.limits,
                                                   self._environment(home), self.log)
            wire.receive(self.process.stdout.fileno(), STARTUP_TIMEOUT)
        except (TimeoutError, EOFError, wire.WireError, TemplateError) as error:
            why = f"{type(error).__name__}: {error if isinstance(error, TemplateError) else self._log_tail()}"
            self.kill()
            if self.template is not None and not self.template.works:
                self._without_template(why)
                return self._wait_until_ready()
            raise GraderError(f"the worker process did not start ({why})") from None
        if self.template is not None:
            self.template.works = True
        self.ready = True

    def _without_template(self, why: str) -> None:
        """Where the template cannot start even one worker on this machine (a kernel or bubblewrap
        without what it needs), exec workers as without it; the reason goes to stderr."""
        self.template.broken = why
        print(f"the worker template did not start a worker ({why}); starting workers without it", file=sys.stderr)
        self.template = None
        self.start()

    def kill(self) -> None:
        """End the worker and everything it started: its process group (an exec'd worker), or every
        process of its user (a worker forked by the template)."""
        if self.process is not None:
            if self.template is None:
                end_group(self.process)
            else:
                self.process.kill()
                try:
                    self.process.wait()
                except subprocess.TimeoutExpired:   # still root, not yet its user, or the template hangs
                    self.template.stop()
            self.process.stdin.close()
            self.process.stdout.close()
            self.process = None

    def close(self) -> None:
        self.kill()
        self.sandbox.reap()
        shutil.rmtree(self.workdir, ignore_errors=True)

    # -- time
    def out_of_time(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def out_of_time_message(self) -> str:
        return ("not run: grading used up its time budget (course.yml's time_budget) on slower "
                "functions before this check; make the functions that timed out finish")

    def _seconds_left(self, limit: float) -> tuple[float, bool]:
        """The time this call may take, and whether the run's budget (not the call's) bounds it."""
        if self.deadline is None or self.deadline - time.monotonic() >= limit:
            return limit, False
        return max(0.0, self.deadline - time.monotonic()), True

    # -- calls
    def call(self, module, function, args=(), kwargs=None, *, seed=0, grad_wrt=(),
             cotangent_seed=0, symbols=None, jacobian=False) -> Result:
        try:
            return self._call(module, function, args, kwargs, seed=seed, grad_wrt=grad_wrt,
                              cotangent_seed=cotangent_seed, symbols=symbols, jacobian=jacobian)
        except StudentError as error:
            self.stops.append(error.stop)
            raise

    def _call(self, module, function, args, kwargs, *, seed, grad_wrt, cotangent_seed, symbols, jacobian) -> Result:
        if function in self.hung:   # one timeout per function, not one per check
            raise self.hung[function]
        if self.out_of_time():
            raise StudentError(self.out_of_time_message(), stop="budget")
        self._ensure_imported(module)
        encoded_args, encoded_kwargs = encode_arguments(args, kwargs)
        limit, by_budget = self._seconds_left(self.time_limit)
        try:
            reply = self._exchange({"op": "call", "module": module, "function": function,
                                    "args": encoded_args, "kwargs": encoded_kwargs, "seed": seed,
                                    "grad_wrt": list(grad_wrt), "cotangent_seed": cotangent_seed,
                                    "jacobian": jacobian},
                                   limit, f"{function}()")
        except TimeoutError:
            if by_budget:
                raise StudentError(self.out_of_time_message(), stop="budget") from None
            self.hung[function] = StudentError(f"{function}() did not finish within {limit:g} s (an infinite "
                                               "loop, or far too much work?); its other checks were not run",
                                               stop="timeout")
            raise self.hung[function] from None
        except WorkerDied as death:
            self.deaths[function] = self.deaths.get(function, 0) + 1
            if self.deaths[function] >= DEATHS_PER_FUNCTION:   # each death costs a worker restart
                self.hung[function] = StudentError(f"{death}; it did so {DEATHS_PER_FUNCTION} times, its other "
                                                   "checks were not run", stop="crash")
            raise StudentError(str(death), stop="crash") from None
        if not reply.get("ok"):
            error = reply.get("error") if isinstance(reply.get("error"), dict) else {}
            raised = str(error.get("type"))[:80] if reply.get("stage") == "call" else None
            raise StudentError(explain_error(reply, function), raised, stop=stop_of(reply))
        try:
            value = wire.decode(reply.get("value"), symbols)
            grads = reply.get("grads")
            grads = None if grads is None else [None if g is None else wire.decode_tensor(g) for g in grads]
        except (wire.WireError, KeyError, TypeError, ValueError, AttributeError) as error:
            raise StudentError(f"{function}() returned something the grader cannot use: {error}",
                               stop="unreadable") from None
        return Result(value, grads)

    def _ensure_imported(self, module: str) -> None:
        if module in self.broken:
            raise self.broken[module]
        if module not in self.present:
            self.broken[module] = StudentError(f"{module}.py is missing from the submission", stop="missing")
            raise self.broken[module]
        if module in self.imported and self.process is not None:
            return
        if self.out_of_time():
            raise StudentError(self.out_of_time_message(), stop="budget")
        limit, by_budget = self._seconds_left(IMPORT_TIMEOUT)
        try:
            reply = self._exchange({"op": "import", "module": module}, limit, f"importing {module}.py")
        except TimeoutError:
            if by_budget:
                raise StudentError(self.out_of_time_message(), stop="budget") from None
            self.broken[module] = StudentError(f"importing {module}.py did not finish within {IMPORT_TIMEOUT:g} s "
                                               "(an infinite loop, or far too much work at import?)", stop="import")
            raise self.broken[module] from None
        except StudentError as error:
            self.broken[module] = StudentError(str(error), stop="import")
            raise self.broken[module] from None
        if not reply.get("ok"):
            self.broken[module] = StudentError(explain_error(reply, module), stop="import")
            raise self.broken[module]
        self.imported.add(module)

    def _exchange(self, request: dict, timeout: float, what: str) -> dict:
        """The worker's reply; TimeoutError (after killing the worker) when it takes too long."""
        self.start()
        self._wait_until_ready()
        try:
            wire.send(self.process.stdin.fileno(), request)
            return wire.receive(self.process.stdout.fileno(), timeout)
        except TimeoutError:
            self.kill()   # SIGKILL to the process group: a loop that ignores signals ends too
            raise
        except (EOFError, BrokenPipeError, OSError, wire.WireError, ValueError):
            raise WorkerDied(f"{what} ended the Python process: {self._death_note()}") from None

    def _log_tail(self) -> str:
        self.log.seek(0)
        return self.log.read()[-500:].decode("utf-8", "replace").strip()

    def _death_note(self) -> str:
        process = self.process
        try:
            code = process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        self.kill()
        if code is None:
            return "it broke the grader's protocol"
        if code > 128 and self.sandbox.bubblewrap and self.template is None:
            code = 128 - code   # bubblewrap reports a signal the way shells do, as 128 + its number
        if code < 0:
            name = signal.Signals(-code).name
            return f"killed by {name}" + (" (a crash in native code)" if name == "SIGSEGV" else "")
        return f"exit code {code} (os._exit or a fatal error)"


def find_file(folder: Path, name: str) -> Path | None:
    """The submitted file `name`: at the top of the folder, else the shallowest copy below it (an
    upload of a whole folder), skipping hidden folders, macOS's __MACOSX and the engine copy of a
    released folder. Never a symbolic link: one could point at a reference that the grader, unlike
    the student, may read."""
    if (folder / name).is_file() and not (folder / name).is_symlink():
        return folder / name
    found = [p for p in folder.rglob(name) if p.is_file() and not p.is_symlink() and not any(
        part.startswith(".") or part in ("__MACOSX", ENGINE_FOLDER) for part in p.relative_to(folder).parts[:-1])]
    return min(found, key=lambda p: (len(p.parts), str(p)), default=None)


def stop_of(reply: dict) -> str:
    """What stopped a call that the worker answered with an error (STOPS)."""
    error = reply.get("error") if isinstance(reply.get("error"), dict) else {}
    if reply.get("stage") == "import":
        return "import"
    if reply.get("stage") == "result":
        return "unreadable"
    if error.get("type") == "NotImplementedError" and not error.get("message"):
        return "not_implemented"
    return "exception"


def explain_error(reply: dict, what: str) -> str:
    """Turn the worker's description of an exception into a sentence for the student."""
    error = reply.get("error") if isinstance(reply.get("error"), dict) else {}
    kind, message = str(error.get("type", "Error"))[:80], str(error.get("message", ""))[:500]
    where = error.get("where") if isinstance(error.get("where"), list) else []
    stage = reply.get("stage")
    if stage == "import":
        head = f"importing {what}.py failed with {kind}: {message}"
    elif stage == "result":
        head = f"{what}() returned a value the grader cannot read: {message}"
    elif kind == "NotImplementedError" and not message:   # the stubs' bare raise, not torch's
        head = f"{what}() is not implemented yet (it raises NotImplementedError)"
    elif kind == "SystemExit":
        head = f"{what}() called sys.exit({message})"
    else:
        head = f"{what}() raised {kind}: {message}"
    return head + "".join(f"\n    at {str(w)[:300]}" for w in where[:3])


class Reference:
    """The hidden reference implementation, called in the judge's own process, and the
    assignment's known mistakes (an optional mistakes.py next to it: MISTAKES maps a graded
    function to (hint, function) pairs, each function computing what that mistake returns, or
    (hint, function, PUBLIC_SAFE) for a hint reviewed as stating no hidden answer: only those are
    shown by checks that students see before the due date)."""

    def __init__(self, folder: Path, files: list[str], graded: set[str] | None = None):
        self.slowest: dict[str, float] = {}   # function -> seconds of its slowest call so far
        self.modules = {Path(name).stem: _load_module(Path(folder) / name) for name in files}
        mistakes = Path(folder) / "mistakes.py"
        self.mistakes = known_mistakes(mistakes, graded) if mistakes.exists() else {}
        self.public = False   # preparing a check shown before the due date: public-safe hints only

    @contextlib.contextmanager
    def shown_at_once(self, public: bool = True):
        """Prepare checks that students see at once (`public`): their known mistakes are the ones
        whose hints are reviewed as public-safe."""
        self.public = public
        try:
            yield self
        finally:
            self.public = False

    @contextlib.contextmanager
    def untimed(self):
        """Calls that set no time limit: a property's examples (many calls, of which one may meet a
        garbage collection), which its check's limit does not need."""
        kept = dict(self.slowest)
        try:
            yield
        finally:
            self.slowest = kept

    def mistaken_values(self, function, args, kwargs=None, *, seed=0) -> list[dict]:
        """{"hint", "value" (encoded)} of each known mistake of `function` on these inputs (only the
        public-safe ones while preparing a check shown at once)."""
        return [{"hint": hint, "value": wire.encode(calls.invoke(fn, list(args), dict(kwargs or {}), seed)[0])}
                for hint, fn, public_safe in self.mistakes.get(function, []) if public_safe or not self.public]

    def encoded_value(self, module, function, args, kwargs=None, *, seed=0, then=None) -> dict:
        """The reference's output on these inputs, `then` applied to it, encoded; no time is
        recorded (checks/variants.py: candidate causes on altered inputs)."""
        output = calls.invoke(getattr(self.modules[module], function), list(args), dict(kwargs or {}), seed)[0]
        return wire.encode(then(output) if then else output)

    def call(self, module, function, args=(), kwargs=None, *, seed=0, grad_wrt=(),
             cotangent_seed=0, symbols=None, jacobian=False) -> Result:
        fn = getattr(self.modules[module], function)
        started = time.perf_counter()
        output, grads = calls.invoke(fn, list(args), dict(kwargs or {}), seed, grad_wrt, cotangent_seed, jacobian)
        self.slowest[function] = max(self.slowest.get(function, 0.0), time.perf_counter() - started)
        if grads is not None and not jacobian:   # an input the output does not depend on has a zero gradient
            grads = [calls.zero_gradient(args[i]) if g is None else g for i, g in zip(grad_wrt, grads)]
        value = wire.decode(wire.encode(output), symbols)
        grads = None if grads is None else [None if g is None else wire.decode_tensor(wire.encode(g)) for g in grads]
        return Result(value, grads)


def known_mistakes(path: Path, graded: set[str] | None = None) -> dict[str, list[tuple]]:
    """mistakes.py's MISTAKES as {function: [(hint, function, public_safe), ...]}; a malformed
    entry, or a key that is none of the `graded` functions, is an error that names it."""
    import difflib

    from .authored import shown
    from .checks.diagnoses import PUBLIC_SAFE
    from .checks.params import AuthoringError

    table = getattr(_load_module(path), "MISTAKES", None)
    if not isinstance(table, dict):
        raise AuthoringError(f"{shown(path)}: MISTAKES must be a dict {{function: [(hint, function), ...]}}")
    known = {}
    for function, entries in table.items():
        if graded is not None and function not in graded:
            guess = difflib.get_close_matches(str(function), sorted(graded), n=1)
            raise AuthoringError(f"{shown(path)}: MISTAKES has {function!r}, which is no graded function"
                                 + (f" (did you mean {guess[0]!r}?)" if guess else ""))
        known[function] = []
        for number, entry in enumerate(entries if isinstance(entries, list) else [None], 1):
            ok = isinstance(entry, tuple) and len(entry) in (2, 3) and isinstance(entry[0], str) and callable(entry[1])
            if not ok or (len(entry) == 3 and entry[2] != PUBLIC_SAFE):
                raise AuthoringError(f"{shown(path)}: MISTAKES[{function!r}] entry {number} must be (hint, function) "
                                     "or (hint, function, PUBLIC_SAFE)")
            known[function].append((entry[0], entry[1], len(entry) == 3))
    return known


def _load_module(path: Path):
    """A reference file or mistakes.py; its errors as one located line (authored.AuthoringError)."""
    from . import authored

    return authored.load_module(path, f"_reference_{path.parent.name}_{path.stem}")
