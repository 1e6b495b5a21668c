"""course.yml: the instructors' file. Assignments, due dates, and points and visibility per check.

    assignments:
      - id: hw1_vae
        title: Variational autoencoders
        due: 2026-12-04T23:00:00+00:00
        timeout: 60                  # the most seconds one call may take (optional)
        time_budget: 480             # seconds for grading a whole submission (optional)
        memory_mb: 2048              # the worker's data memory, MB (optional)
        checks:
          reparameterize:            # the function or answer graded
            gradient path: {points: 2, visibility: public}
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .sandbox import Limits


# Gradescope stops an autograder after 10 minutes by default and then shows no result at all;
# grading stops its checks earlier, leaving time for starting up and writing results.json.
DEFAULT_TIME_BUDGET = 480.0


class ConfigError(ValueError):
    """course.yml is missing, malformed or disagrees with the assignments' checks."""


class CheckSetting(BaseModel):
    model_config = ConfigDict(extra="forbid")
    points: float = Field(ge=0)
    visibility: Literal["public", "hidden"]


class Assignment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    due: dt.datetime
    timeout: float = Field(default=60.0, gt=0)
    time_budget: float = Field(default=DEFAULT_TIME_BUDGET, gt=0)
    memory_mb: int = Field(default=Limits().memory_mb, ge=256)
    checks: dict[str, dict[str, CheckSetting]]

    def settings(self) -> dict[str, CheckSetting]:
        """Full check name ("function: check") -> its points and visibility."""
        return {f"{function}: {check}": setting
                for function, checks in self.checks.items() for check, setting in checks.items()}

    @property
    def max_points(self) -> float:
        return sum(s.points for s in self.settings().values())


class Course(BaseModel):
    model_config = ConfigDict(extra="forbid")
    assignments: list[Assignment]

    @field_validator("assignments")
    @classmethod
    def unique_ids(cls, assignments):
        ids = [a.id for a in assignments]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"assignment ids must be unique; repeated: {', '.join(duplicates)}")
        return assignments

    def assignment(self, assignment_id: str) -> Assignment:
        for a in self.assignments:
            if a.id == assignment_id:
                return a
        known = ", ".join(a.id for a in self.assignments)
        raise ConfigError(f"course.yml has no assignment {assignment_id!r} (known: {known})")


def load(path: Path) -> Course:
    try:
        raw = yaml.safe_load(Path(path).read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path} not found") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{path} is not valid YAML: {error}") from None
    try:
        return Course.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(f"{path} has {error.error_count()} problem(s):\n" +
                          "\n".join(_describe(e, raw) for e in error.errors())) from None


def _describe(error: dict, raw) -> str:
    where, node = "", raw
    for part in error["loc"]:
        if isinstance(part, int) and isinstance(node, list) and part < len(node):
            node = node[part]
            label = node.get("id") if isinstance(node, dict) else None
            where += f"[{part}]" + (f" ({label})" if label else "")
        else:
            where += f".{part}" if where else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return f"  {where}: {error['msg']}"


def reconcile(assignment: Assignment, checks) -> None:
    """Every check must have settings and every setting a check; answers stay hidden."""
    settings = assignment.settings()
    names = [c.name for c in checks]
    problems = [f"  check {n!r} has no points in course.yml" for n in names if n not in settings]
    problems += [f"  course.yml gives points to {n!r}, which is not a check of {assignment.id}"
                 for n in settings if n not in names]
    problems += [f"  {c.name!r} cannot be public: {c.why_not_public()}"
                 for c in checks if c.why_not_public() and settings.get(c.name) and
                 settings[c.name].visibility == "public"]
    if problems:
        raise ConfigError(f"course.yml and the checks of {assignment.id} disagree:\n" + "\n".join(problems))
