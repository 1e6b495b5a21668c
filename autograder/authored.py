"""Loading what instructors write: checks.py, properties.py, mistakes.py and the reference files.
A mistake in one is an AuthoringError of one line that names the file and line, never a traceback
(`course --debug` shows one)."""
from __future__ import annotations

import importlib.util
import traceback
from pathlib import Path

from .checks.params import AuthoringError


def shown(path: Path) -> str:
    """A course file's path as instructors see it: from the course folder (solutions/ID/checks.py)."""
    path = Path(path).resolve()
    parts = path.parts
    for top in ("solutions", "assignments"):
        if top in parts:
            return str(Path(*parts[len(parts) - 1 - parts[::-1].index(top):]))
    return str(path)


def load_module(path: Path, name: str):
    """Execute an instructor's file as a module named `name`; its errors as AuthoringError."""
    path = Path(path)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except AuthoringError as error:
        raise AuthoringError(f"{located(path, error)}: {error}") from None
    except SyntaxError as error:
        raise AuthoringError(f"{shown(path)}:{error.lineno}: SyntaxError: {error.msg}") from None
    except Exception as error:  # noqa: BLE001 - whatever the file raises is the instructor's to see
        raise AuthoringError(f"{located(path, error)}: {type(error).__name__}: {error}") from None
    return module


def preparing(check, reference, device: str, folder: Path):
    """check.prepare(reference, device); where it fails (the reference raises, or disagrees with
    the check), an AuthoringError naming the check and the line of `folder` (the solution folder)
    that raised."""
    try:
        return check.prepare(reference, device)
    except AuthoringError:
        raise
    except Exception as error:  # noqa: BLE001 - a reference or a check that cannot be prepared
        frames = [f for f in traceback.extract_tb(error.__traceback__) if Path(f.filename).resolve().is_relative_to(
            Path(folder).resolve())]
        where = f" at {shown(Path(frames[-1].filename))}:{frames[-1].lineno}" if frames else ""
        raise AuthoringError(f'{shown(Path(folder) / "checks.py")}: {check.function} "{check.name.split(": ", 1)[1]}": '
                             f"preparing it with the reference failed{where}: {type(error).__name__}: {error}") from None


def located(path: Path, error: BaseException) -> str:
    """The file and the line of it where `error` arose: the file's outermost frame (the statement
    it was executing: a check of CHECKS, rather than a helper it calls)."""
    lines = [frame.lineno for frame in traceback.extract_tb(error.__traceback__)
             if Path(frame.filename).resolve() == Path(path).resolve()]
    return f"{shown(path)}:{lines[0]}" if lines else shown(path)
