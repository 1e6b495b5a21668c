"""The worker template: a process that imports torch once and forks each submission's worker.

Starting a worker costs a Python start and a torch import (about 2 CPU-seconds); a batch judge
pays it for every submission, and every grading for every restart after a timeout or a crash.
Where the judge runs as root with bubblewrap (Gradescope, CI, batch grading on a server), it
starts instead one template in a bubblewrap sandbox like a worker's (read-only file system, the
hidden folders empty, no network, its own process namespace), holding nothing but torch and this
package, and running as root with only the capabilities to change users (CAP_SETUID, CAP_SETGID)
and to give each worker IPC and network namespaces of its own (CAP_SYS_ADMIN). For each worker the judge
sends the submission folder (bound under `sandbox.INSIDE`), its user, limits and environment, and
the worker's pipes over a control socket; the template forks, and the child enters new IPC and
network namespaces, drops to the submission's user (all capabilities gone; bubblewrap set no-new-privileges
for good), applies the limits and serves the judge exactly as an exec'd worker would
(`worker.serve`). Every submission has a user of its own (`sandbox.worker_uid`); the judge ends a
worker by signalling every process of that user. The sandbox's /tmp and /dev/shm are root's, so a
worker cannot leave files there. A template serves at most `sandbox.SERIALS` submissions, so that
no user recurs in its sandbox. See docs/security.md.
"""
from __future__ import annotations

import atexit
import ctypes
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

from . import sandbox as sandboxes
from .sandbox import INSIDE, Limits

MESSAGE_BYTES = 65536
CLONE_NEWIPC, CLONE_NEWNET = 0x08000000, 0x40000000
STARTUP_TIMEOUT = 300.0


class TemplateError(RuntimeError):
    """The template did not start, or ended."""


class Template:
    """The judge's side: one template process, started again when it died or served its users."""

    def __init__(self, hidden: list[Path]):
        self.hidden = list(hidden)
        self.root = Path(tempfile.mkdtemp(prefix="dgm-template-"))   # bound at INSIDE
        self.root.chmod(0o711)   # a worker may enter its own folder here, not list the others
        self.process: subprocess.Popen | None = None
        self.generation = 0   # how often it was started: a worker of an earlier one is gone with it
        self.served = 0       # submissions admitted to this one: their serials are 0 .. served - 1
        self.works = False    # whether a template of these settings ever started a worker here
        self.broken = ""      # why, if it failed before it ever did: workers are exec'd instead

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        """Start the template if it is not running (without waiting for its torch import)."""
        if self.running():
            return
        self.stop()
        self.control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.log = tempfile.TemporaryFile()
        command = [*sandboxes.bubblewrap_prefix(True, self.hidden, self.root, template=True),
                   *sandboxes.python_running("from autograder.template import main; main()"), str(theirs.fileno())]
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=self.log, pass_fds=(theirs.fileno(),), start_new_session=True,
                                        env=sandboxes.worker_environment())
        theirs.close()
        self.ready = False
        self.generation += 1

    def admit(self) -> int:
        """A new submission's serial (its user, `sandbox.worker_uid(serial)`); a template that has
        served SERIALS submissions is replaced, so that no user recurs in one sandbox."""
        if self.served >= sandboxes.SERIALS:
            self.stop()
            self.served = 0
        self.served += 1
        return self.served - 1

    def folder(self) -> Path:
        return Path(tempfile.mkdtemp(prefix="submission-", dir=self.root))

    def spawn(self, workdir: Path, uid: int, limits: Limits, environment: dict, log) -> ForkedWorker:
        """Fork a worker serving the submission copy in `workdir` (under this template's root)."""
        self.start()
        request_read, request_write = os.pipe()
        reply_read, reply_write = os.pipe()
        message = {"folder": f"{INSIDE}/{workdir.relative_to(self.root)}", "uid": uid,
                   "limits": vars(limits), "environment": environment}
        try:
            if not self.ready:
                self._receive(STARTUP_TIMEOUT)
                self.ready = True
            socket.send_fds(self.control, [json.dumps(message).encode()], [request_read, reply_write, log.fileno()])
            self._receive(STARTUP_TIMEOUT)["pid"]   # forked
        except (OSError, KeyError, ValueError, TemplateError) as error:
            os.close(request_write)
            os.close(reply_read)
            tail = self._log_tail()
            self.stop()
            raise TemplateError(f"the worker template failed ({type(error).__name__}: {error})"
                                f"{': ' + tail if tail else ''}") from None
        finally:
            os.close(request_read)
            os.close(reply_write)
        return ForkedWorker(self, self.generation, uid, os.fdopen(request_write, "wb", 0),
                            os.fdopen(reply_read, "rb", 0))

    def _receive(self, timeout: float) -> dict:
        """The template's next message; TimeoutError, or TemplateError once it has ended."""
        if self.process is None:
            raise TemplateError("the worker template is not running")
        ready, _, _ = select.select([self.control], [], [], timeout)
        if not ready:
            raise TimeoutError
        data = self.control.recv(MESSAGE_BYTES)
        if not data:
            raise TemplateError("the worker template ended")
        return json.loads(data)

    def _log_tail(self) -> str:
        self.log.seek(0)
        return self.log.read()[-1500:].decode("utf-8", "replace").strip()

    def stop(self) -> None:
        """End the template, and with its process namespace every worker it forked."""
        if self.process is not None:
            sandboxes.end_group(self.process)
            self.control.close()
            self.process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


class ForkedWorker:
    """A worker forked by the template, seen from the judge as a process: its pipes, its exit
    code (the template reports it; a worker of a template that ended is gone with it), and its
    end (a signal to every process of its user)."""

    GONE = -signal.SIGKILL   # the exit code of a worker whose template ended

    def __init__(self, template: Template, generation: int, uid: int, stdin, stdout):
        self.template, self.generation, self.uid = template, generation, uid
        self.stdin, self.stdout = stdin, stdout
        self.returncode: int | None = None

    def _template_gone(self) -> bool:
        return self.template.generation != self.generation or not self.template.running()

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                self.wait(0)
            except subprocess.TimeoutExpired:
                pass
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Its exit code; subprocess.TimeoutExpired as Popen.wait (30 s when no timeout is given)."""
        if self.returncode is None:
            if self._template_gone():
                self.returncode = self.GONE
                return self.returncode
            try:
                self.returncode = self.template._receive(30.0 if timeout is None else timeout)["exit"]
            except TimeoutError:
                raise subprocess.TimeoutExpired("worker", timeout) from None
            except (TemplateError, KeyError, ValueError):
                self.template.stop()
                self.returncode = self.GONE
        return self.returncode

    def kill(self) -> None:
        sandboxes.signal_all_of(self.uid, signal.SIGKILL)


_template: Template | None = None


def template_for(hidden: list[Path]) -> Template | None:
    """This process's template for these hidden folders (one at a time: each holds torch), or None
    where a template could not fork even one worker here (workers are then exec'd). Made and used
    from the main thread: bubblewrap's --die-with-parent follows the thread that started it."""
    global _template
    if _template is not None and _template.broken:
        return None
    if _template is None or _template.hidden != list(hidden):
        if _template is not None:
            _template.close()
        else:
            atexit.register(lambda: _template and _template.close())   # its folder, not only its process
        _template = Template(hidden)
    return _template


# -- the template process (inside bubblewrap)

def main() -> None:
    from . import worker

    control = socket.socket(fileno=int(sys.argv[1]))
    worker.warm_up("cpu")   # never CUDA here: a CUDA context does not survive fork; each worker starts its own
    control.send(json.dumps({"ready": True}).encode())
    while True:
        data, fds, _, _ = socket.recv_fds(control, MESSAGE_BYTES, 3)
        if not data:
            return
        request = json.loads(data)
        child = os.fork()
        if child == 0:
            _become_worker(request, fds, control)
        for fd in fds:
            os.close(fd)
        control.send(json.dumps({"pid": child}).encode())
        _, status = os.waitpid(child, 0)
        control.send(json.dumps({"exit": os.waitstatus_to_exitcode(status)}).encode())


def _own_namespaces() -> None:
    """System V IPC objects and POSIX message queues outlive their processes, and a socket can
    outlive its process in flight: each worker gets IPC and network namespaces of its own (no
    network, as an exec'd worker), so nothing of one submission's reaches the next."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWIPC | CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWIPC | CLONE_NEWNET) failed")


def _become_worker(request: dict, fds: list[int], control: socket.socket) -> None:
    """In the forked child: the submission's pipes, session, folder, limits and user; then serve."""
    code = 0
    try:
        from . import worker

        control.close()
        for target, fd in enumerate(fds):   # the request pipe, the reply pipe, the log
            os.dup2(fd, target)
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))
        os.setsid()
        _own_namespaces()
        sandboxes._confine(Limits(**request["limits"]), request["uid"])   # the capabilities go here
        os.chdir(request["folder"])   # the worker's own, which root without CAP_DAC_OVERRIDE may not enter
        os.environ.clear()
        os.environ.update(request["environment"])
    except BaseException:  # noqa: BLE001 - the judge reads why from the log
        traceback.print_exc()
        code = 1
    else:
        worker.serve(request["folder"])
    finally:
        os._exit(code)
