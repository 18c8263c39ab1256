"""The HTML report in a real browser: headless Chromium renders the page of a real verdict.

The verdict comes from running the example project (a private copy) with ``pytest --promote``,
so the page is checked against exactly what the plugin writes today. Chromium runs twice per
page through ``subprocess``: ``--screenshot`` (a non-trivial PNG of the requested size) and
``--dump-dom`` (the DOM after parsing: one interval per gate, no script element).

Console errors: the page has no JavaScript, so the only console messages it could cause are
the browser's own, a blocked load (our Content-Security-Policy forbids every fetch) or a
parse problem. With ``--enable-logging=stderr --v=0`` Chromium writes every console message
to stderr as a ``CONSOLE`` line, but at log level INFO whatever its console level (a CSP
violation, an error in DevTools, is logged as ``INFO:CONSOLE``), so filtering on an error
level would miss them: the check is that no ``CONSOLE`` line appears at all, and that
Chromium exits 0. ``test_the_console_check_sees_a_broken_page`` proves the check is not
vacuous on the installed Chromium.
"""

from __future__ import annotations

import copy
import json
import shutil
import struct
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from pytest_promote.verdict.html import write_html

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="needs Chromium (/usr/bin/chromium or chromium on PATH); .ci/run installs Debian's chromium"
)

FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--enable-logging=stderr", "--v=0",
)  # fmt: skip
EXAMPLE = Path(__file__).resolve().parents[2] / "example_project"
GENERATED = ("models", "data", ".promote", "promote-verdict.json", ".pytest_cache", ".benchmarks", "__pycache__")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def verdict(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The example project's verdict, from a real run on a private copy (it trains its models)."""
    project = tmp_path_factory.mktemp("html") / "example_project"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(*GENERATED))
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "--promote", "-p", "no:cacheprovider", "-p", "no:randomly"],
        cwd=project, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    path = project / "promote-verdict.json"
    assert path.exists(), completed.stdout + completed.stderr
    return json.loads(path.read_text())


def chromium(tmp_path: Path, page: Path, *args: str) -> subprocess.CompletedProcess:
    profile = Path(tmp_path) / f"profile-{len(list(tmp_path.glob('profile-*')))}"  # a fresh profile per run
    profile.mkdir()
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()], capture_output=True, text=True, timeout=60
    )  # fmt: skip


def console_lines(completed: subprocess.CompletedProcess) -> list[str]:
    return [line for line in completed.stderr.splitlines() if "CONSOLE" in line]


class Dom(HTMLParser):
    """The intervals (``class="interval"``, by ``data-gate``) and the tags in a DOM dump."""

    def __init__(self, document: str) -> None:
        super().__init__(convert_charrefs=True)
        self.intervals: list[str] = []
        self.tags: list[str] = []
        self.text: list[str] = []
        self.feed(document)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        attributes = dict(attrs)
        if attributes.get("class") == "interval":
            self.intervals.append(attributes.get("data-gate") or "")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def with_interval(verdict: dict) -> list[str]:
    """Ids of measured quality gates with a finite interval and measured latency gates: each draws one."""
    ids = []
    for gate in verdict["gates"]:
        if not gate["measured"]:
            continue
        ci = (gate.get("candidate_ci") if gate.get("threshold") is not None and gate.get("min_delta") is None else gate.get("ci")) or {}
        if gate["kind"] == "quality" and ci.get("low") is not None and ci.get("high") is not None:
            ids.append(gate["id"])
        elif gate["kind"] == "latency" and gate.get("latency"):
            ids.append(gate["id"])
    return sorted(ids)


def test_the_page_renders_to_a_full_screenshot(verdict: dict, tmp_path: Path) -> None:
    page = tmp_path / "verdict.html"
    write_html(page, verdict)
    png = tmp_path / "verdict.png"

    completed = chromium(tmp_path, page, f"--screenshot={png}", "--window-size=1280,1600")

    assert completed.returncode == 0, completed.stderr
    assert console_lines(completed) == []
    data = png.read_bytes()
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    assert struct.unpack(">II", data[16:24]) == (1280, 1600)
    assert len(data) > 10_000  # a blank page compresses to a few kB


def test_the_dom_has_one_interval_per_gate(verdict: dict, tmp_path: Path) -> None:
    page = tmp_path / "verdict.html"
    write_html(page, verdict)

    completed = chromium(tmp_path, page, "--dump-dom")

    assert completed.returncode == 0, completed.stderr
    assert console_lines(completed) == []
    dom = Dom(completed.stdout)
    assert with_interval(verdict), "the example project has quality and latency gates"
    assert sorted(dom.intervals) == with_interval(verdict)
    assert "script" not in dom.tags and {"svg", "details", "table"} <= set(dom.tags)


def test_hostile_strings_stay_text_in_the_browser(verdict: dict, tmp_path: Path) -> None:
    hostile = '<script>document.title="owned"</script><img src=x onerror="console.error(1)">'
    edited = copy.deepcopy(verdict)
    gate = next(gate for gate in edited["gates"] if gate["kind"] == "quality")
    gate.update(id=f"tests/x.py::{hostile}", message=hostile, outcome="failed", passed=False)
    edited.update(decision="block", reasons=[{"code": "gate_failed", "message": hostile}])
    page = tmp_path / "blocked.html"
    write_html(page, edited)

    completed = chromium(tmp_path, page, "--dump-dom")

    assert completed.returncode == 0, completed.stderr
    assert console_lines(completed) == []  # an executed handler or a blocked load would log here
    dom = Dom(completed.stdout)
    assert "script" not in dom.tags and "img" not in dom.tags
    assert "".join(dom.text).count(hostile) >= 3
    assert sorted(dom.intervals) == with_interval(edited)
    assert "<title>pytest-promote verdict: BLOCK</title>" in completed.stdout


def test_the_console_check_sees_a_broken_page(tmp_path: Path) -> None:
    page = tmp_path / "broken.html"
    page.write_text(
        "<!DOCTYPE html><html><head><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'\"></head>"
        '<body><img src="http://example.invalid/x.png"><script>console.error("boom")</script></body></html>'
    )

    completed = chromium(tmp_path, page, "--dump-dom")

    assert completed.returncode == 0, completed.stderr
    assert console_lines(completed), "this Chromium no longer logs console messages to stderr: the other checks would be vacuous"
