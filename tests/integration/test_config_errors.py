"""Every bad promote.yaml ends the run as a usage error (exit 4) with one clear line."""

from __future__ import annotations

import pytest

CANDIDATE_SHA_KEY = "models.candidate.sha256"


def assert_one_clear_line(result: pytest.RunResult, config_path, *fragments: str) -> str:
    """Exit code 4, exactly one non-empty stderr line naming the file and the fragments, no traceback."""
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str() + result.stderr.str()
    lines = [line for line in result.stderr.lines if line.strip()]
    assert len(lines) == 1, result.stderr.str()
    line = lines[0]
    assert str(config_path) in line, line
    for fragment in fragments:
        assert fragment in line, f"{fragment!r} not in {line!r}"
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    return line


CASES = {
    "unknown-top-level-key": (
        {"colour": "red"},
        ["colour: unknown key (allowed: version, seed, alpha, bootstrap, models, datasets, verdict, registry, approvals, card, require)"],
    ),
    "unknown-nested-key": ({"bootstrap": {"iterations": 10}}, ["bootstrap.iterations: unknown key (allowed: resamples, method, memory_mb, threads)"]),
    "wrong-type-seed": ({"seed": "abc"}, ["seed: expected a non-negative integer, got 'abc'"]),
    "wrong-type-resamples": ({"bootstrap": {"resamples": "many"}}, ["bootstrap.resamples: expected an integer >= 100"]),
    "wrong-type-models": ({"models": ["candidate", "baseline"]}, ["models: expected a mapping, got list"]),
    "missing-model-file": (
        {"models": {"candidate": {"path": "models/missing.pkl"}}},
        ["models.candidate.path: file not found:", "missing.pkl"],
    ),
    "missing-dataset-file": (
        {"datasets": {"holdout": {"path": "data/nope.csv"}}},
        ["datasets.holdout.path: file not found:", "nope.csv"],
    ),
    "malformed-sha256": (
        {"models": {"candidate": {"sha256": "abc123"}}},
        [f"{CANDIDATE_SHA_KEY}: expected 64 hexadecimal characters (a sha256 digest), got 'abc123'"],
    ),
    "missing-candidate": ({"models": {"candidate": None}}, ["models.candidate: required key is missing"]),
    "bad-bootstrap-method": (
        {"bootstrap": {"method": "jackknife"}},
        ["bootstrap.method: expected one of percentile, bca, got 'jackknife'"],
    ),
    "alpha-too-large": ({"alpha": 0.7}, ["alpha: expected a number strictly between 0 and 0.5, got 0.7"]),
    "alpha-zero": ({"alpha": 0}, ["alpha: expected a number strictly between 0 and 0.5, got 0"]),
    "wrong-version": ({"version": 2}, ["version: expected 1"]),
}


@pytest.mark.parametrize(("overrides", "fragments"), list(CASES.values()), ids=list(CASES))
def test_bad_config_is_a_usage_error(make_project, overrides, fragments):
    project = make_project(config=overrides, models="toy")

    result = project.run("--promote")

    assert_one_clear_line(result, project.config_path, *fragments)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        pytest.param("version: 1\nmodels: {candidate: [unclosed\n", "invalid YAML at line", id="invalid-yaml"),
        pytest.param("version: 1\n\tmodels: {}\n", "invalid YAML at line 2", id="tab-indent"),
        pytest.param("", "the file is empty", id="empty-file"),
        pytest.param("- version\n- models\n", "expected a mapping, got list", id="not-a-mapping"),
    ],
)
def test_unreadable_yaml(make_project, text, fragment):
    project = make_project(models="toy", yaml_text=text)

    result = project.run("--promote")

    assert_one_clear_line(result, project.config_path, fragment)


def test_missing_config_file(make_project):
    project = make_project(models="toy")
    project.config_path.unlink()

    result = project.run("--promote")

    assert_one_clear_line(result, project.config_path, "file not found")


def test_config_error_writes_a_block_verdict(make_project, helpers):
    project = make_project(models="toy", config={"models": {"candidate": {"sha256": "abc123"}}})

    result = project.run("--promote")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    verdict = project.verdict()
    assert verdict["decision"] == "block"
    assert helpers.reason_codes(verdict) == ["config_error"]
    message = verdict["reasons"][0]["message"]
    assert str(project.config_path) in message and CANDIDATE_SHA_KEY in message
    assert verdict["gates"] == []


def test_bad_config_is_ignored_without_promote(make_project):
    # the config is read by --promote runs and by the fixtures; a plain run of plain tests is unaffected
    project = make_project(models="toy", config={"colour": "red"}, tests="def test_plain():\n    assert True\n")

    result = project.run()

    assert result.ret == 0


def test_fixture_reports_config_error_without_promote(make_project):
    project = make_project(
        models="toy", config={"alpha": 0.7}, tests="def test_uses_model(candidate):\n    assert candidate is not None\n"
    )

    result = project.run()

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*{project.config_path}: alpha: expected a number strictly between 0 and 0.5*"])


# --- where the config comes from ---------------------------------------------------------------


def _move_config(project, relative: str) -> str:
    """Move promote.yaml to ``relative``, rewriting its paths (they are relative to the config file)."""
    target = project.path / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    depth = len(target.relative_to(project.path).parts) - 1
    text = project.config_path.read_text()
    for name in ("models/candidate.pkl", "models/baseline.pkl", "data/holdout.csv"):
        text = text.replace(name, "../" * depth + name)
    target.write_text(text)
    project.config_path.unlink()
    return relative


def test_promote_config_option_overrides(make_project, helpers):
    project = make_project(models="toy")
    relative = _move_config(project, "configs/alt.yaml")

    result = project.run("--promote", "--promote-config", relative)

    assert result.ret == 0, result.stdout.str() + result.stderr.str()
    verdict = project.verdict()
    assert verdict["decision"] == "promote"
    assert verdict["envelope"]["config"]["path"] == str(project.path / relative)
    assert verdict["envelope"]["config"]["sha256"] == helpers.sha256_path(project.path / relative)


def test_ini_promote_config_overrides(make_project):
    project = make_project(models="toy")
    relative = _move_config(project, "configs/alt.yaml")
    project.pytester.makeini(f"[pytest]\npromote_config = {relative}\n")

    result = project.run("--promote", "--strict-config")  # the ini key is registered

    assert result.ret == 0, result.stdout.str() + result.stderr.str()
    assert project.verdict()["envelope"]["config"]["path"] == str(project.path / relative)


def test_option_wins_over_ini(make_project):
    project = make_project(models="toy")
    relative = _move_config(project, "configs/alt.yaml")
    project.pytester.makeini("[pytest]\npromote_config = configs/does-not-exist.yaml\n")

    result = project.run("--promote", "--promote-config", relative)

    assert result.ret == 0, result.stdout.str() + result.stderr.str()


def test_error_in_overridden_config_names_that_file(make_project):
    project = make_project(models="toy", config={"bootstrap": {"method": "jackknife"}})
    relative = _move_config(project, "configs/alt.yaml")

    result = project.run("--promote", "--promote-config", relative)

    assert_one_clear_line(result, project.path / relative, "bootstrap.method")


def test_missing_overridden_config_names_that_file(make_project):
    project = make_project(models="toy")

    result = project.run("--promote", "--promote-config", "configs/nowhere.yaml")

    assert_one_clear_line(result, project.path / "configs" / "nowhere.yaml", "file not found")
