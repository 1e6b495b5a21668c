"""The submitted source, read as text and parsed, never executed: which names each top-level
function uses, and where it uses a name the assignment forbids. The judge reads it to say which
graded helper a failing function calls (engine.name_failing_helpers) and for the forbidden_calls
checks."""
from __future__ import annotations

import ast

MAX_SOURCE_BYTES = 1 << 20   # larger files are not parsed: the notes they would give are skipped


def read(path) -> str | None:
    """A submitted file's text, or None if it is too large or not text."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if len(data) > MAX_SOURCE_BYTES:
        return None
    return data.decode("utf-8", "replace")


def functions(text: str) -> dict[str, ast.FunctionDef]:
    """The top-level function definitions of a module's source; {} where it does not parse."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return {}
    return {node.name: node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}


def names_used(node: ast.AST) -> set[str]:
    """Every name a function's body refers to, as a variable or an attribute (torch.logsumexp: both)."""
    found = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            found.add(child.id)
        elif isinstance(child, ast.Attribute):
            found.add(child.attr)
    return found


def uses(sources: dict[str, str], graded: set[str]) -> dict[str, set[str]]:
    """{graded function: the other graded functions it calls}, directly or through the module's
    own helpers that are not graded (a `_gather` of the student's own)."""
    defined: dict[str, set[str]] = {}
    for text in sources.values():
        for name, node in functions(text).items():
            defined.setdefault(name, set()).update(names_used(node))
    out = {}
    for function in graded & set(defined):
        seen, todo, reached = {function}, [function], set()
        while todo:
            for name in defined.get(todo.pop(), set()):
                if name in graded:
                    reached.add(name)
                elif name in defined and name not in seen:
                    seen.add(name)
                    todo.append(name)
        out[function] = reached - {function}
    return out


def aliases(tree: ast.AST) -> dict[str, str]:
    """What each imported or assigned name stands for, as a dotted path: `import torch as T` gives
    {"T": "torch"}, `from torch import logsumexp as lse` {"lse": "torch.logsumexp"},
    `lse = torch.logsumexp` too (module level or in a function)."""
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for name in node.names:
                found[name.asname or name.name.split(".")[0]] = name.name if name.asname else name.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for name in node.names:
                found[name.asname or name.name] = f"{node.module}.{name.name}"
    for node in ast.walk(tree):   # after the imports: an assignment of an imported path is an alias too
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            path = dotted(node.value, found)
            if path and "." in path:
                found[node.targets[0].id] = path
    return found


def dotted(node: ast.AST, known: dict[str, str]) -> str | None:
    """The dotted path an expression names (`F.kl_div` with F = torch.nn.functional gives
    "torch.nn.functional.kl_div"), or None where it is not a chain of names."""
    if isinstance(node, ast.Name):
        return known.get(node.id, node.id)
    if isinstance(node, ast.Attribute):
        base = dotted(node.value, known)
        return f"{base}.{node.attr}" if base else None
    return None


def forbidden_uses(text: str, function: str, forbidden: list[str]) -> list[tuple[int, str]]:
    """(line, what) for each use of a forbidden name (a dotted path: "torch.logsumexp" also forbids
    what lies below it) in `function` and the module's own functions it calls: through any import
    or alias, as a tensor method of the same name (`x.logsumexp(-1)`), or by its name in a string
    (`getattr(torch, "logsumexp")`)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    known, defined = aliases(tree), functions(text)
    found = []
    for node in _reached(function, defined):
        for child in ast.walk(node):
            line = getattr(child, "lineno", 0)
            path = dotted(child, known) if isinstance(child, (ast.Name, ast.Attribute)) else None
            for name in forbidden:
                last = name.rsplit(".", 1)[-1]
                if path and (path == name or path.startswith(name + ".")):
                    found.append((line, name))
                elif isinstance(child, ast.Attribute) and child.attr == last and "." in name and not (
                        path and path.split(".")[0] in known.values()):
                    found.append((line, f"{name}, as the method .{last}"))
                elif isinstance(child, ast.Constant) and child.value in (name, last) and "." in name:
                    found.append((line, f"{name}, indirectly (by its name in a string)"))
    return sorted(set(found))


def _reached(function: str, defined: dict[str, ast.AST]) -> list[ast.AST]:
    """The function's definition and those of the module's functions it calls, transitively."""
    if function not in defined:
        return []
    seen, todo = {function}, [function]
    while todo:
        for name in names_used(defined[todo.pop()]):
            if name in defined and name not in seen:
                seen.add(name)
                todo.append(name)
    return [defined[name] for name in sorted(seen)]
