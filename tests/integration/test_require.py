"""``require:`` in promote.yaml: an unmet provenance requirement blocks as ``unauditable``."""

from __future__ import annotations

import shutil
import subprocess

import pytest

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false"]
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def commit_everything(project) -> None:
    subprocess.run([*GIT, "init", "-q"], cwd=project.path, check=True)
    subprocess.run([*GIT, "add", "-A"], cwd=project.path, check=True)
    subprocess.run([*GIT, "commit", "-q", "-m", "release candidate"], cwd=project.path, check=True)


@needs_git
def test_git_clean_blocks_naming_the_changed_files(make_project, helpers):
    project = make_project(models="toy", config={"require": {"git_clean": True}})
    commit_everything(project)
    assert project.run("--promote").ret == 0  # committed: auditable

    with open(project.path / "test_gates.py", "a") as handle:
        handle.write("\n# an edit after the commit\n")
    result = project.run("--promote")

    assert result.ret == 1
    verdict = project.verdict()
    assert helpers.reason_codes(verdict) == ["unauditable"]
    assert verdict["reasons"][0]["message"] == "require.git_clean: uncommitted changes in these files: test_gates.py"
    assert verdict["envelope"]["git"]["dirty"] is True


def test_git_clean_outside_a_work_tree_blocks(make_project, helpers):
    project = make_project(models="toy", config={"require": {"git_clean": True}})

    result = project.run("--promote")

    assert result.ret == 1
    assert project.verdict()["reasons"][0]["message"].startswith("require.git_clean:")
    assert "is not in a git work tree" in project.verdict()["reasons"][0]["message"]


LOADER = "import pickle\n\ndef weak():\n    return pickle.load(open('models/baseline.pkl', 'rb'))\n"


@pytest.mark.parametrize(("loader", "ret"), [(False, 0), (True, 1)])
def test_model_pins_refuse_a_loader_built_model(make_project, helpers, loader, ret):
    project = make_project(models="toy", config={"require": {"model_pins": True}})
    if loader:
        (project.path / "mymodels.py").write_text(LOADER)
        project.update_config({"models": {"baseline": None}})
        project.update_config({"models": {"baseline": {"loader": "mymodels:weak"}}})

    result = project.run("--promote")

    assert result.ret == ret, result.stdout.str()
    if loader:
        assert project.verdict()["reasons"] == [
            {"code": "unauditable", "message": "require.model_pins: models.baseline is built by loader mymodels:weak, so its bytes are not pinned"}
        ]


@pytest.mark.parametrize(("owners", "ret"), [([], 1), (["fraud-team"], 0)])
def test_owners_must_be_named(make_project, helpers, owners, ret):
    project = make_project(models="toy", config={"require": {"owners": True}, "card": {"owners": owners}})

    result = project.run("--promote")

    assert result.ret == ret, result.stdout.str()
    if ret:
        assert helpers.reason_codes(project.verdict()) == ["unauditable"]
        result.stdout.fnmatch_lines(["*unauditable: require.owners: card.owners names nobody*"])


def test_require_keys_are_validated(make_project):
    project = make_project(models="toy", config={"require": {"git_clean": "yes"}})

    result = project.run("--promote")

    assert result.ret == 4
    result.stderr.fnmatch_lines(["*promote.yaml: require.git_clean: expected true or false, got 'yes'"])
