"""The untrusted side: imports the student's files and calls their functions on request.

Started by the judge in an isolated interpreter (`sandbox.python_running`) with the submission
copy as its argument. It talks over the pipe that was its stdout; the student's own prints go to
stderr. It holds no reference, no expected value and no verdict: it only answers "what does your
function return on these inputs".
"""
from __future__ import annotations

import importlib
import os
import sys
import traceback

from . import calls, wire


def main() -> None:
    serve(os.path.abspath(sys.argv[1]))


def serve(folder: str) -> None:
    """Answer the judge's requests (stdin) on the pipe that was stdout, for the files in `folder`;
    also where a worker template's forked child starts (autograder/template.py)."""
    channel_in, channel_out = 0, os.dup(1)
    os.dup2(2, 1)  # student prints must never reach the protocol channel
    sys.path.insert(0, folder)
    os.chdir(folder)
    sys.dont_write_bytecode = True
    warm_up(os.environ.get("DGM_DEVICE", "cpu"))
    wire.send(channel_out, {"ready": True})
    me = os.getpid()
    while True:
        try:
            request = wire.receive(channel_in)
        except EOFError:
            return
        reply = answer(request, folder)
        if os.getpid() != me:  # a process the student forked came back here: it must not answer
            os._exit(0)
        wire.send(channel_out, reply)


def warm_up(device: str) -> None:
    """Import torch and start what the checks use (meta kernels for the device probes, the
    simulated GPU, CUDA when grading there) while the judge prepares, rather than on the first
    call: start-up time is the grader's, not the student's."""
    import torch

    from . import fake_device  # noqa: F401 - the device probes' simulated GPU

    skip_dynamo_import(torch)
    torch.zeros(1, device="meta").exp()
    if (device == "auto" or device.startswith("cuda")) and torch.cuda.is_available():   # auto: the judge's default
        torch.zeros(1, device="cuda" if device == "auto" else device).exp()   # CUDA's start: seconds


_dynamo_skipped = False
META_KERNELS = ("torch._refs", "torch._prims", "torch._decomp", "torch._meta_registrations")


def skip_dynamo_import(torch) -> None:
    """torch's Python meta kernels (its references, `torch._refs`), which the device probes run, are
    wrapped by `torch._disable_dynamo`, whose first call imports torch._dynamo (about a CPU-second:
    inductor, triton, torch.distributed) only to keep torch.compile from tracing into them, and then
    caches the function it will call as `fn.__dynamo_disable`. Nothing in a worker compiles those
    kernels, so each such wrapper gets its own function cached instead: the same calls, without the
    import. Other wrappers (optimizers, say) are left as they are; on a torch whose internals differ,
    this changes nothing."""
    import gc
    import types

    global _dynamo_skipped
    if _dynamo_skipped:   # a worker forked from the template: done there
        return
    _dynamo_skipped = True
    try:
        code = torch._disable_dynamo(lambda: None).__code__
        cell = code.co_freevars.index("fn")
    except (AttributeError, TypeError, ValueError):
        return
    for wrapper in gc.get_objects():
        if type(wrapper) is types.FunctionType and wrapper.__code__ is code:
            fn = wrapper.__closure__[cell].cell_contents
            if str(getattr(fn, "__module__", "")).startswith(META_KERNELS) and getattr(fn, "__dynamo_disable", None) is None:
                fn.__dynamo_disable = fn


def answer(request: dict, folder: str) -> dict:
    try:
        module = importlib.import_module(request["module"])
    except BaseException as error:  # noqa: BLE001 - SyntaxError, sys.exit, anything at import
        return {"ok": False, "stage": "import", "error": describe(error, folder)}
    if request.get("op") == "import":
        return {"ok": True}
    fn = getattr(module, request["function"], None)
    if not callable(fn):
        return {"ok": False, "stage": "lookup",
                "error": {"type": "AttributeError",
                          "message": f"{request['module']}.py has no function {request['function']}()"}}
    try:
        args, kwargs = calls.decode_arguments(request["args"], request["kwargs"])
        output, grads = calls.invoke(fn, args, kwargs, request["seed"], request["grad_wrt"],
                                     request["cotangent_seed"], bool(request.get("jacobian")))
    except BaseException as error:  # noqa: BLE001 - student code may raise anything, SystemExit too
        return {"ok": False, "stage": "call", "error": describe(error, folder)}
    try:
        value = wire.encode(output)
        encoded_grads = None if grads is None else [None if g is None else wire.encode(g) for g in grads]
    except BaseException as error:  # noqa: BLE001
        return {"ok": False, "stage": "result", "error": describe(error, folder)}
    return {"ok": True, "value": value, "grads": encoded_grads}


def describe(error: BaseException, folder: str) -> dict:
    """Type, message and the student's own lines of the traceback; never trusts __str__."""
    try:
        message = str(error)[:2000]
    except BaseException:  # noqa: BLE001 - a hostile __str__
        message = "(the exception's message could not be printed)"
    where = []
    if isinstance(error, SyntaxError) and error.filename:
        where.append(f"{os.path.basename(error.filename)}, line {error.lineno}: {(error.text or '').strip()}")
        message = str(error.msg)
    for frame in traceback.extract_tb(error.__traceback__):
        if os.path.isabs(frame.filename) and frame.filename.startswith(folder + os.sep):
            where.append(f"{os.path.basename(frame.filename)}, line {frame.lineno}, in {frame.name}: {frame.line}")
    return {"type": type(error).__name__, "message": message, "where": where[-3:]}


if __name__ == "__main__":
    main()
