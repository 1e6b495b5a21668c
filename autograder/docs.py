"""The generated parts of docs/: the reference of the check kinds' parameters and of the recipes in
docs/authoring.md, written from their declarations (checks/params.py) between two markers, so that
it never drifts from the code (tests/test_authoring.py)."""
from __future__ import annotations

from pathlib import Path

from .checks import params, recipes, registry

AUTHORING = Path("docs") / "authoring.md"
BEGIN = "<!-- the check kinds: written by `course docs` from their declarations, do not edit -->"
END = "<!-- end of the check kinds -->"


def kinds_reference() -> str:
    builders = [recipes.case, recipes.normal, recipes.uniform, recipes.value]
    return params.reference_markdown(registry(), builders)


def expected(text: str) -> str:
    """docs/authoring.md's text with the generated reference written anew between the markers."""
    if BEGIN not in text or END not in text:
        raise ValueError(f"{AUTHORING} lacks the markers of the generated reference ({BEGIN} ... {END})")
    head, rest = text.split(BEGIN, 1)
    return f"{head}{BEGIN}\n{kinds_reference()}{END}{rest.split(END, 1)[1]}"


def write(root: Path) -> list[Path]:
    """Write the generated parts where they differ; return the files written."""
    path = Path(root) / AUTHORING
    text = path.read_text()
    new = expected(text)
    if new == text:
        return []
    path.write_text(new)
    return [path]
