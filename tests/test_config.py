"""course.yml errors name the place and the problem."""
from __future__ import annotations

import pytest

from autograder import config, engine
from conftest import ASSIGNMENTS, ROOT


def load_text(tmp_path, text):
    path = tmp_path / "course.yml"
    path.write_text(text)
    return config.load(path)


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_the_course_file_is_valid_and_matches_the_checks(assignment_id):
    """Every check has its points and every entry a check; the students' README states the total
    (its checks table is written from course.yml and drift-checked: tests/test_stubs.py)."""
    assignment = config.load(ROOT / "course.yml").assignment(assignment_id)
    config.reconcile(assignment, engine.load_suite(ROOT / "solutions" / assignment_id).checks)
    readme = (ROOT / "assignments" / assignment_id / "README.md").read_text()
    assert assignment.max_points > 0 and f"| **Autograded total** | **{assignment.max_points:g}** |" in readme


@pytest.mark.parametrize("text,fragment", [
    ("assignments: [{id: hw1, title: t, due: 2026-01-01, checks: {f: {c: {points: 1, visibility: visable}}}}]",
     "assignments[0] (hw1).checks.f.c.visibility: Input should be 'public' or 'hidden'"),
    ("assignments: [{id: hw1, title: t, due: 2026-01-01, checks: {f: {c: {points: -1, visibility: public}}}}]",
     "points: Input should be greater than or equal to 0"),
    ("assignments: [{id: hw1, title: t, checks: {}}]", "assignments[0] (hw1).due: Field required"),
    ("assignments: [{id: Hw 1, title: t, due: 2026-01-01, checks: {}}]", "id: String should match pattern"),
    ("assignments: [{id: a, title: t, due: 2026-01-01, checks: {}}, {id: a, title: u, due: 2026-01-01, checks: {}}]",
     "repeated: a"),
    ("assignments: [{id: a, title: t, due: 2026-01-01, checks: {}, point: 3}]", "point: Extra inputs are not permitted"),
    ("assignments: [unclosed", "is not valid YAML"),
])
def test_malformed_course_files_get_clear_errors(tmp_path, text, fragment):
    with pytest.raises(config.ConfigError) as error:
        load_text(tmp_path, text)
    assert fragment in str(error.value)


def test_checks_and_settings_must_agree(tmp_path):
    text = (ROOT / "course.yml").read_text()
    text = text.replace('"gradient path": {points: 2, visibility: public}', '"gradient paths": {points: 2, visibility: public}')
    text = text.replace('"answer key": {points: 1.5, visibility: hidden}', '"answer key": {points: 1.5, visibility: public}', 1)
    assignment = load_text(tmp_path, text).assignment("hw1_vae")
    with pytest.raises(config.ConfigError) as error:
        config.reconcile(assignment, engine.load_suite(ROOT / "solutions" / "hw1_vae").checks)
    message = str(error.value)
    assert "check 'reparameterize: gradient path' has no points in course.yml" in message
    assert "'reparameterize: gradient paths', which is not a check of hw1_vae" in message
    assert "'mc_marginal_likelihood: answer key' cannot be public" in message


def test_a_check_whose_property_lives_in_solutions_stays_hidden(tmp_path):
    """solutions/ASSIGNMENT/properties.py never reaches students, so its checks cannot be public;
    assignments/ASSIGNMENT/properties.py does, and holds every other property."""
    text = (ROOT / "course.yml").read_text().replace(
        '"the order of the K samples does not matter": {points: 1, visibility: hidden}',
        '"the order of the K samples does not matter": {points: 1, visibility: public}')
    assignment = load_text(tmp_path, text).assignment("hw1_vae")
    suite = engine.load_suite(ROOT / "solutions" / "hw1_vae")
    with pytest.raises(config.ConfigError) as error:
        config.reconcile(assignment, suite.checks)
    assert ("'iwae_bound: the order of the K samples does not matter' cannot be public: its property lives in "
            "solutions/") in str(error.value)
    public = [c for c in suite.checks if c.kind == "property" and not c.secret]
    assert public and all(c.function_of_property.__module__.startswith("_properties_assignments_") for c in public)


def test_a_property_that_no_file_defines_is_an_error(tmp_path):
    from autograder.checks import properties
    from autograder.checks.properties import Property

    check = Property("f: a property", "m", "f", property="no_such_property")
    with pytest.raises(ValueError, match="no property 'no_such_property'"):
        properties.bind([check], {}, {}, "hw9")


def test_unknown_assignment():
    with pytest.raises(config.ConfigError, match="no assignment 'hw9' .known: hw1_vae"):
        config.load(ROOT / "course.yml").assignment("hw9")
