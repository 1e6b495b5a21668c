"""What a check kind's parameters are, declared once per kind (`Params`, a pydantic model: a typed
field per parameter, required or with its default) and validated when checks.py builds a check: an
unknown, mistyped or missing parameter is an `AuthoringError` with one line that names it (and the
parameter meant). docs/authoring.md's reference of the kinds is generated from these declarations
(`reference_markdown`), and so is the list of what a recipe may say (RECIPES)."""
from __future__ import annotations

import difflib
import inspect
import types
import typing
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

DTYPES = Literal["float32", "float64", "bfloat16", "float16"]
DOMAINS = Literal["positive", "nonnegative", "real", "probability", "cosine"]

# A recipe (tensors.make_input) is a dict with one of these keys, and the options listed with it;
# "function" takes its elementwise function's parameters (wire.ELEMENTWISE), "module" its kind's
# settings (autograder.modules) and "scale". "on_cpu" keeps an argument of a device probe on the CPU.
RECIPES = {
    "normal": {"scale", "shift", "unit_rows", "dtype", "on_cpu"},
    "uniform": {"low", "high", "unit_rows", "dtype", "on_cpu"},
    "value": set(),
    "function": set(),
    "module": {"scale", "on_cpu"},
    "list": set(),
    "tensor": {"dtype", "on_cpu"},
    "permutation": {"on_cpu"},
    "integers": {"low", "high", "on_cpu"},
}


class AuthoringError(ValueError):
    """An instructor's mistake in an assignment's checks.py, properties.py or mistakes.py (or a
    reference that fails its own check): one line that says where and what."""


def _recipe(recipe: Any) -> Any:
    """A recipe's keys, checked against RECIPES (and a function's or module's own settings)."""
    if not isinstance(recipe, dict):
        raise ValueError(f"a recipe is a dict such as {{'normal': [3, 4]}}, got {type(recipe).__name__}")
    kinds = [k for k in recipe if k in RECIPES]
    if len(kinds) != 1:
        raise ValueError(f"a recipe needs exactly one of {', '.join(RECIPES)}; got {', '.join(map(str, recipe)) or 'none'}")
    kind = kinds[0]
    allowed = set(RECIPES[kind]) | {kind}
    if kind == "function":
        from ..wire import ELEMENTWISE

        if recipe["function"] not in ELEMENTWISE:
            raise ValueError(f"unknown elementwise function {recipe['function']!r} (known: {', '.join(ELEMENTWISE)})")
        allowed |= set(ELEMENTWISE[recipe["function"]])
    if kind == "module":
        from .. import modules

        try:
            allowed |= set(modules.kind_of(recipe["module"]).settings)
        except modules.DescriptionError as error:
            raise ValueError(str(error)) from None
    if kind == "list":
        for item in recipe["list"] if isinstance(recipe["list"], list) else [None]:
            _recipe(item)
    unknown = sorted(set(recipe) - allowed)
    if unknown:
        guess = difflib.get_close_matches(unknown[0], sorted(allowed), n=1)
        raise ValueError(f"unknown key {unknown[0]!r} in a {kind} recipe" + (f" (did you mean {guess[0]!r}?)" if guess else ""))
    return recipe


Recipe = Annotated[dict, AfterValidator(_recipe)]


class Params(BaseModel):
    """A check kind's parameters: none, unless the kind declares its own subclass."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Case(BaseModel):
    """One case of a matches_reference check (recipes.case builds it)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
    seed: int = Field(description="seeds the inputs' draws and the call's random state")
    dtype: DTYPES = Field(description="the floating dtype of the drawn tensors")
    args: list[Recipe] = Field(description="a recipe per positional argument")
    kwargs: dict[str, Recipe] = Field({}, description="recipes of keyword arguments")


def validate(kind: type, params: dict, function: str, check: str) -> BaseModel:
    """The kind's Params from `params`, or an AuthoringError naming the check and the problem."""
    try:
        return kind.Params.model_validate(params)
    except ValidationError as error:
        raise AuthoringError(f'{function} "{check}": {describe(error, kind.Params)}') from None


def describe(error: ValidationError, model: type[BaseModel]) -> str:
    """The first problem of a validation as a sentence: an unknown parameter with the one meant,
    a missing one, or what is wrong with one's value."""
    first, more = error.errors()[0], error.error_count() - 1
    where = _location(first["loc"])
    if first["type"] == "extra_forbidden" and len(first["loc"]) == 1:
        guess = difflib.get_close_matches(str(first["loc"][0]), list(model.model_fields), n=1)
        text = f"unknown parameter {where}" + (f" (did you mean {guess[0]}?)" if guess else "")
    elif first["type"] == "missing":
        text = f"missing required parameter {where}"
    else:
        text = f"parameter {where}: {first['msg'].removeprefix('Value error, ')}"
    return text + (f" (and {more} more problem{'s' * (more > 1)})" if more else "")


def _location(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def reference_markdown(kinds: dict[str, type], recipe_builders: list) -> str:
    """docs/authoring.md's reference: per check kind its parameters (type, required or default,
    what it means), then the recipes' keys and the builders' signatures (checks/recipes.py)."""
    lines = []
    for name in sorted(kinds):
        kind = kinds[name]
        doc = inspect.getdoc(kind) or ""
        lines += [f"#### `{name}` ({kind.__name__})", "", doc.split("\n\n")[0].replace("\n", " "), ""]
        fields = kind.Params.model_fields
        if not fields:
            lines += ["No parameters.", ""]
            continue
        lines += ["| parameter | type | default | meaning |", "| --- | --- | --- | --- |"]
        for field_name, field in fields.items():
            default = "required" if field.is_required() else f"`{field.default!r}`"
            cells = [f"`{field_name}`", f"`{_type_name(field.annotation)}`", default, field.description or ""]
            lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
        lines.append("")
    lines += ["#### Recipes", "", "A recipe is a dict with exactly one of these keys, and the options listed with it:", "",
              "| key | options |", "| --- | --- |"]
    lines += [f"| `{key}` | {', '.join(f'`{o}`' for o in sorted(options)) or '—'} |" for key, options in RECIPES.items()]
    lines += ["", "`function` takes its elementwise function's parameters, `module` its kind's settings "
              "(autograder/modules.py). The builders in `autograder/checks/recipes.py`:", ""]
    for builder in recipe_builders:
        summary = (inspect.getdoc(builder) or "").split("\n")[0]
        lines.append(f"- `{builder.__name__}{inspect.signature(builder)}`: {summary}")
    return "\n".join(lines) + "\n"


def _type_name(annotation) -> str:
    """A parameter's type as a reader writes it: list[recipe], 'values' | 'structure', str | None."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Annotated:
        return "recipe" if args[0] is dict else _type_name(args[0])
    if origin is Literal:
        return " | ".join(repr(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(a) for a in args)
    if origin in (list, dict):
        return f"{origin.__name__}[{', '.join(_type_name(a) for a in args)}]"
    return "None" if annotation is type(None) else getattr(annotation, "__name__", str(annotation))
