"""The Gradescope autograder: what `course gradescope ASSIGNMENT OUT.zip` builds.

    setup.sh          run once, as root, on Gradescope's Ubuntu 22.04 image: Python 3.11 and the
                      pinned packages, bubblewrap, references readable by root alone, and every
                      check prepared once (`course prepare`)
    run_autograder    run per submission, as root: grade /autograder/submission into
                      /autograder/results/results.json (a valid fallback file if grading dies)
    course/           this package, course.yml and this assignment's references and checks

Student code runs as an unprivileged user of its own (docs/security.md). Tests relocate
/autograder with $DGM_AUTOGRADER_ROOT and reuse their own interpreter with $DGM_PYTHON.
"""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

from . import config, results
from .checks import properties
from .leaks import RUBRIC_FILE

UV_VERSION = "0.13.9"   # installs Python 3.11 (Ubuntu 22.04 has 3.10, which numpy 2.4 no longer supports)
# uv's --torch-backend. "cpu", PyTorch's CPU build, by default: Gradescope's standard machines have
# no GPU, and a grading then peaks at about 550 MiB (benchmarks/memory.py) against about 1,250 MiB
# with PyPI's CUDA build, which loads CUDA's libraries even without a GPU: the default container has
# 768 MB. "auto" takes the CUDA build where setup finds a GPU.
TORCH_BUILDS = ("cpu", "auto")
COURSE_FILES = ["pyproject.toml", "constraints.txt", "README.md", "course.yml"]

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (Ubuntu 22.04).
set -euo pipefail
AUTOGRADER=${{DGM_AUTOGRADER_ROOT:-/autograder}}
COURSE=$AUTOGRADER/source/course
if [ -z "${{DGM_PYTHON:-}}" ]; then
    apt-get update -qq
    apt-get install -y -qq python3-pip bubblewrap >/dev/null
    python3 -m pip install -q uv=={uv}
    # a Python that any user (student code runs as an unprivileged one) may execute: not under /root
    export UV_PYTHON_INSTALL_DIR=/opt/uv-python
    python3 -m uv venv -q --python 3.11 "$AUTOGRADER/venv"
    python3 -m uv pip install -q --python "$AUTOGRADER/venv/bin/python" --torch-backend {torch} \
        -c "$COURSE/constraints.txt" "$COURSE"
fi
# student code runs as an unprivileged user: it may reach the interpreter (enter /autograder, read the venv) but
# the references and hidden checks are root's alone
chmod o+x "$AUTOGRADER"
chown -R root:root "$COURSE"
chmod -R go-rwx "$COURSE"
# every check's hidden inputs and expected values, computed once here instead of in each grading
DGM_COURSE_ROOT="$COURSE" "${{DGM_PYTHON:-$AUTOGRADER/venv/bin/python}}" -m autograder prepare {assignment}
"""

RUN = """#!/usr/bin/env bash
# Gradescope runs this as root for every submission.
AUTOGRADER=${{DGM_AUTOGRADER_ROOT:-/autograder}}
RESULTS=$AUTOGRADER/results/results.json
PYTHON=${{DGM_PYTHON:-$AUTOGRADER/venv/bin/python}}

# If the grader itself dies (killed, out of memory, broken install), Gradescope still gets a
# valid results.json that says so, instead of an opaque "autograder failed".
fallback() {{
    if ! "$PYTHON" -c 'import json, sys; json.load(open(sys.argv[1]))' "$RESULTS" 2>/dev/null; then
        mkdir -p "$(dirname "$RESULTS")"
        cat > "$RESULTS" <<'JSON'
{fallback}
JSON
    fi
}}
trap fallback EXIT

mkdir -p "$AUTOGRADER/results"
rm -f "$RESULTS"
cd "$AUTOGRADER/source"
# only the expected files are read from the submission (the engine copies them)
DGM_COURSE_ROOT="$AUTOGRADER/source/course" \\
    "$PYTHON" -m autograder grade {assignment} "$AUTOGRADER/submission" --results "$RESULTS"
"""


def fallback_json(assignment_id: str) -> str:
    return json.dumps(results.failure(assignment_id, "the grader stopped before writing its results"))


def build(root: Path, assignment_id: str, out_zip: Path, torch: str = "cpu") -> Path:
    """Write the autograder zip of the assignment, installing torch's `torch` build (TORCH_BUILDS);
    return its path."""
    root, out_zip = Path(root), Path(out_zip)
    config.load(root / "course.yml").assignment(assignment_id)   # a clear error for unknown ids
    out_zip.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out_zip, "w", zipfile.ZIP_DEFLATED) as archive:
        _add_text(archive, "setup.sh", SETUP.format(uv=UV_VERSION, torch=torch, assignment=assignment_id), executable=True)
        _add_text(archive, "run_autograder", RUN.format(assignment=assignment_id,
                                                        fallback=fallback_json(assignment_id)), executable=True)
        for name in COURSE_FILES:
            archive.write(root / name, f"course/{name}")
        for folder in (root / "autograder", root / "solutions" / assignment_id):
            for path in sorted(folder.rglob("*")):
                # the rubric is for the graders, who paste it into Gradescope's manual questions
                if path.is_file() and "__pycache__" not in path.parts and path.name != RUBRIC_FILE:
                    archive.write(path, f"course/{path.relative_to(root)}")
        public_properties = root / "assignments" / assignment_id / properties.PROPERTIES_FILE
        if public_properties.is_file():
            archive.write(public_properties, f"course/{public_properties.relative_to(root)}")
    return out_zip


def _add_text(archive: zipfile.ZipFile, name: str, text: str, executable: bool) -> None:
    info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
    info.external_attr = (0o755 if executable else 0o644) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, text)

