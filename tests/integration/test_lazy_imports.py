"""A session without gates, with the plugin loaded, imports neither numpy nor scipy."""

from __future__ import annotations

import json

import pytest

PROBE = '''
import json
import sys


def pytest_unconfigure(config):
    with open("imports.json", "w") as stream:
        json.dump(
            {
                "numpy": "numpy" in sys.modules,
                "scipy": "scipy" in sys.modules,
                "plugin_module": "pytest_promote.plugin" in sys.modules,
                "promote_option": getattr(config.option, "promote", None),
            },
            stream,
        )
'''

PLAIN_TEST = "def test_plain():\n    assert True\n"


@pytest.mark.parametrize("autoload", [True, False], ids=["entry-point", "autoload-disabled"])
@pytest.mark.parametrize("promote", [False, True], ids=["plain", "promote"])
def test_no_numpy_or_scipy_without_gates(make_project, monkeypatch, autoload, promote):
    project = make_project(models="toy", tests=PLAIN_TEST)
    project.pytester.makeconftest(PROBE)
    args = ["--promote"] if promote else []
    if not autoload:
        # nothing but pytest and this plugin: no other installed plugin can import numpy
        monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
        args += ["-p", "pytest_promote.plugin"]

    result = project.run(*args)

    probe = json.loads((project.path / "imports.json").read_text())
    # the plugin was really loaded and active in that session...
    assert probe["plugin_module"] is True and probe["promote_option"] is promote
    if promote:
        assert result.ret == pytest.ExitCode.TESTS_FAILED  # no gates: blocked
        assert project.verdict()["reasons"][0]["code"] == "no_gates"
        result.stdout.fnmatch_lines(["decision: BLOCK*"])
    else:
        assert result.ret == 0
        assert not project.verdict_path.exists()
    # ...and it did not import the numerical stack
    assert (probe["numpy"], probe["scipy"]) == (False, False)


def test_probe_detects_numpy(make_project):
    """The probe is not blind: a session with a gate does import numpy."""
    project = make_project(models="toy")
    project.pytester.makeconftest(PROBE)

    result = project.run("--promote")

    assert result.ret == 0, result.stdout.str()
    probe = json.loads((project.path / "imports.json").read_text())
    assert (probe["numpy"], probe["scipy"]) == (True, True)
