"""How the worker is confined: limits, another user, and the kernel's namespaces.

- Resource limits (always): data memory, processes, file size, open files, no core dumps.
- Another user (when the judge runs as root, as on Gradescope and in CI): the worker drops to an
  unprivileged user of its own before it starts, so root-only files, the judge's processes and the
  workers of other gradings running at the same time (grade-all --jobs) are out of its reach. Under
  a worker template (autograder/template.py) every submission has a user of its own.
- bubblewrap (when installed and allowed, as on Debian and Ubuntu): the whole file system
  read-only, the hidden folders (references, hidden checks) replaced by empty ones, a private /tmp,
  no network, and its own process namespace, so that nothing it starts outlives it.

`Sandbox.missing()` names what could not be put in force, for the report.
"""
from __future__ import annotations

import functools
import glob
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

NOBODY = 65534
# The worker users: WORKER_UIDS + (the judge's pid << 6 | a serial number of the submission within
# the judge) gives each grading running at the same time a user of its own (pids are unique among
# running processes; pid_max is at most 2**22), so they share no process limit and cannot signal
# or trace one another; a batch judge's worker template gives each of its submissions its own.
# Unnamed, above systemd's container ranges, at most 2**31 - 1.
WORKER_UIDS = 0x70000000
SERIALS = 64
INSIDE = "/tmp/submission"   # where the submission copy (a template's submissions) appears inside bubblewrap
TEMPLATE_CAPABILITIES = ("CAP_SETUID", "CAP_SETGID", "CAP_SYS_ADMIN")   # autograder/template.py says why


# The judge's environment variables that reach student code: torch's choice of CPU kernels, so that
# a run under another kernel set (CI's second pass, ATEN_CPU_CAPABILITY=avx2) computes both sides
# with it. Nothing else crosses.
PASSED_ON = ("ATEN_CPU_CAPABILITY",)


def worker_environment(**settings) -> dict:
    """The environment of a worker (or of the template it is forked from): PATH, a UTF-8 locale,
    the variables of PASSED_ON that are set, and `settings`."""
    passed = {name: os.environ[name] for name in PASSED_ON if name in os.environ}
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", **passed, **settings}


@dataclass(frozen=True)
class Limits:
    memory_mb: int = 2048     # RLIMIT_DATA: heap and anonymous mappings (not CUDA's reservations)
    processes: int = 512      # RLIMIT_NPROC, threads included (torch starts a few)
    file_mb: int = 64         # RLIMIT_FSIZE: largest file the worker may write
    open_files: int = 256


@dataclass
class Sandbox:
    hidden: list[Path] = field(default_factory=list)   # folders the worker must not see
    limits: Limits = Limits()
    # DGM_BUBBLEWRAP=0 turns bubblewrap off (to debug a worker, or to test the fallback)
    use_bubblewrap: bool = field(default_factory=lambda: os.environ.get("DGM_BUBBLEWRAP", "1") != "0")
    serial: int = 0   # the submission's number within this judge (its worker template)

    @property
    def bubblewrap(self) -> bool:
        return self.use_bubblewrap and bubblewrap_works(os.geteuid() == 0)

    @property
    def uid(self) -> int:
        return worker_uid(self.serial)

    @property
    def uses_template(self) -> bool:
        """Whether workers are forked from a worker template (autograder/template.py): as root,
        under bubblewrap, with users of their own. DGM_TEMPLATE=0 turns it off."""
        return (os.geteuid() == 0 and self.bubblewrap and worker_uid() != NOBODY
                and os.environ.get("DGM_TEMPLATE", "1") != "0")

    @property
    def switch_user(self) -> bool:
        """As root: under bubblewrap always; without it only if the worker's user can run the interpreter."""
        return os.geteuid() == 0 and (self.bubblewrap or worker_user_can_run_python())

    def command(self, workdir: Path) -> tuple[list[str], str]:
        """The command that starts the worker, and the submission folder as the worker sees it."""
        worker = python_running("from autograder.worker import main; main()")
        if not self.bubblewrap:
            return [*worker, str(workdir)], str(workdir)
        return [*bubblewrap_prefix(self.switch_user, self.hidden, workdir), *worker, INSIDE], INSIDE

    def prepare(self, workdir: Path) -> None:
        """Give the submission copy to the worker's user."""
        if self.switch_user:
            for path in (workdir, *workdir.iterdir()):
                os.chown(path, self.uid, self.uid)

    def preexec(self):
        """Runs in the child between fork and exec. Under bubblewrap the user is switched inside it,
        after the mounts (which need root); without it, here, after the limits."""
        return functools.partial(_confine, self.limits, self.uid if self.switch_user and not self.bubblewrap else None)

    def reap(self) -> None:
        """After a grading, end every process of the worker's user, and without bubblewrap remove
        its files from the shared temporary folders. Without bubblewrap a process can leave the
        worker's group (setsid) and outlive the grading; under a worker template the process
        namespace outlives each worker (its /tmp and /dev/shm are root's: workers write nothing
        there). An exec'd bubblewrap needs nothing: its namespace and its private /tmp end with the
        worker. Not with `nobody`, whom concurrent gradings share."""
        if not self.switch_user or self.uid == NOBODY or (self.bubblewrap and not self.uses_template):
            return
        signal_all_of(self.uid, signal.SIGKILL)
        if self.bubblewrap:
            return
        for folder in (Path("/tmp"), Path("/var/tmp"), Path("/dev/shm")):
            for entry in folder.iterdir() if folder.is_dir() else ():
                if entry.lstat().st_uid != self.uid:
                    continue
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)   # it follows no link
                else:
                    entry.unlink(missing_ok=True)

    def missing(self) -> list[str]:
        gaps = []
        if not self.switch_user:
            gaps.append("the worker runs as the grader's own user (grading as root switches it to "
                        "an unprivileged user when bubblewrap is available or such a user may run the "
                        "interpreter)")
        if not self.bubblewrap:
            gaps.append("no bubblewrap: the worker can read files the grader's user can read, use the "
                        "network, and leave processes behind")
        return gaps


def worker_uid(serial: int = 0) -> int:
    """The worker's user for this judge's submission number `serial`: its own where this user
    namespace maps it, else `nobody` (a container that maps only the first 65,536 users)."""
    uid = WORKER_UIDS + (os.getpid() << 6 | serial % SERIALS)
    return uid if _mapped(uid) else NOBODY


@functools.lru_cache(maxsize=None)
def _mapped(uid: int) -> bool:
    try:
        ranges = [tuple(map(int, line.split())) for line in Path("/proc/self/uid_map").read_text().splitlines()]
    except (OSError, ValueError):
        return False
    return any(inside <= uid < inside + count for inside, _, count in ranges)


def end_group(process: subprocess.Popen) -> None:
    """SIGKILL to the group of a process started in a session of its own (which no loop can
    ignore), then reap it."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def signal_all_of(uid: int, signal_number: int) -> None:
    """Send a signal to every process of `uid`, from a child that becomes that user: kill(-1)
    then reaches that user's processes and nothing else."""
    child = os.fork()
    if child == 0:
        try:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            os.kill(-1, signal_number)
        finally:
            os._exit(0)
    os.waitpid(child, 0)


def _confine(limits: Limits, uid: int | None) -> None:
    mb = 2**20
    for limit, value in ((resource.RLIMIT_DATA, limits.memory_mb * mb), (resource.RLIMIT_NPROC, limits.processes),
                         (resource.RLIMIT_FSIZE, limits.file_mb * mb), (resource.RLIMIT_NOFILE, limits.open_files),
                         (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(limit, (value, value))
    if uid is not None:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)


def bubblewrap_prefix(as_root: bool, hidden: list[Path], workdir: Path, template: bool = False) -> list[str]:
    """bwrap's arguments: the file system read-only, what the interpreter needs reachable, the
    hidden folders empty, a private /tmp holding the submission, new namespaces. As root, bwrap
    mounts with root's rights and setpriv then drops to the worker's user for good; otherwise an
    unprivileged user namespace does the mounting. For a worker template (as root only), the
    submissions' parent folder instead of one submission, and root with TEMPLATE_CAPABILITIES."""
    needed = [Path(p).resolve() for p in (sys.executable, sys.prefix, sys.base_prefix, Path(__file__).parent)]
    args = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", *reachable(needed), "--tmpfs", "/tmp"]
    # a minimal /dev has no GPU: pass NVIDIA's device files through, so CUDA checks run there too
    args += [a for device in sorted(glob.glob("/dev/nvidia*")) for a in ("--dev-bind", device, device)]
    # the private /tmp must not hide the interpreter or this package (a checkout under /tmp, say);
    # the folders leading to them are made enterable, since bwrap would create them root-only
    under_tmp = [p for p in needed if p.is_relative_to("/tmp")]
    folders = sorted({a for p in under_tmp for a in p.parents if a.is_relative_to("/tmp") and a != Path("/tmp")})
    args += [a for folder in folders for a in ("--perms", "0755", "--dir", str(folder))]
    args += [a for p in under_tmp for a in ("--ro-bind", str(p), str(p))]
    args += [a for folder in hidden if Path(folder).is_dir() for a in ("--tmpfs", str(Path(folder).resolve()))]
    args += ["--bind", str(workdir), INSIDE, "--chdir", INSIDE, "--setenv", "HOME", INSIDE,
             "--die-with-parent", "--new-session", "--unshare-pid", "--unshare-net", "--unshare-ipc",
             "--unshare-uts", "--unshare-cgroup-try"]
    if template:   # root inside, with the capabilities to fork workers as their users
        return args + ["--cap-drop", "ALL", *[a for cap in TEMPLATE_CAPABILITIES for a in ("--cap-add", cap)]]
    if as_root:
        uid = worker_uid()
        return args + ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                       "--no-new-privs", "--"]
    return args + ["--unshare-user"]


def reachable(paths: list[Path]) -> list[str]:
    """Mounts that let the worker reach `paths` through folders only their owner may enter (pyenv under
    /root, say): each such folder becomes an empty tmpfs into which the needed children are bound."""
    needed: dict[Path, set[Path]] = {}
    for path in (p.resolve() for p in paths):
        for folder in reversed(path.parents):
            if not os.stat(folder).st_mode & 0o001:   # others may not enter it
                needed.setdefault(folder, set()).add(folder / path.relative_to(folder).parts[0])
                break
    return [arg for folder, children in needed.items()
            for arg in ("--tmpfs", str(folder), *[a for c in sorted(children) for a in ("--ro-bind", str(c), str(c))])]


def python_running(code: str) -> list[str]:
    """An isolated interpreter (`python -I`, which ignores the caller's folder and PYTHONPATH) that
    runs `code` with this package importable: as installed, or else from the folder holding this
    copy (the one vendored next to a student folder's check.py)."""
    if not _installed_here():
        code = f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parent.parent)!r}); {code}"
    return [sys.executable, "-I", "-c", code]


@functools.lru_cache(maxsize=None)
def _installed_here() -> bool:
    """Whether an isolated interpreter imports this very copy of the package."""
    probe = subprocess.run([sys.executable, "-I", "-c", "import autograder; print(autograder.__file__)"],
                           capture_output=True, text=True, timeout=60)
    return probe.returncode == 0 and Path(probe.stdout.strip()).resolve() == Path(__file__).resolve().with_name("__init__.py")


@functools.lru_cache(maxsize=None)
def worker_user_can_run_python() -> bool:
    """Whether the worker's user (any unprivileged user) may run the interpreter."""
    try:
        return subprocess.run([sys.executable, "-I", "-c", "pass"], capture_output=True, timeout=60,
                              preexec_fn=functools.partial(_confine, Limits(), worker_uid())).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


@functools.lru_cache(maxsize=None)
def bubblewrap_works(as_root: bool) -> bool:
    """Installed, allowed to make namespaces here (some containers forbid it), and able to run
    the worker as the worker's user."""
    if shutil.which("bwrap") is None:
        return False
    with tempfile.TemporaryDirectory() as folder:
        probe = [*bubblewrap_prefix(as_root, [], Path(folder)), *python_running("import autograder.worker")]
        try:
            return subprocess.run(probe, preexec_fn=functools.partial(_confine, Limits(), None),
                                  capture_output=True, timeout=60).returncode == 0
        except (OSError, subprocess.SubprocessError):
            return False
