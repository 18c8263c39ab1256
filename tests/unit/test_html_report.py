"""The HTML report: one self-contained page, every verdict string escaped, one interval per gate.

The verdicts below are built from the numbers of a real example-project run (``pytest
example_project --promote``); the blocked one is that verdict edited the way a bad release
would change it. Pages are parsed with the standard library's ``html.parser``.
"""

from __future__ import annotations

import copy
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from pytest_promote.verdict.html import OUTCOME_COLOURS, render_html, write_html

# --- a realistic verdict -----------------------------------------------------------------------

FILE = "tests/test_acceptance.py::"
HOLDOUT = {"name": "holdout", "sha256": "0d55b9d45523e561ff864c58a1d1e20f3bc7f4bd7acc194754c99137d63ec41a", "rows": 4000}


def quality(name: str, metric: str, delta: float, low: float, high: float, **fields) -> dict:
    gate = {
        "id": FILE + name, "kind": "quality", "metric": metric, "rule": "delta > 0 at 95% confidence", "measured": True,
        "candidate": 0.9712, "baseline": 0.919, "delta": delta,
        "ci": {"low": low, "high": high, "confidence": 0.9, "method": "bca", "resamples": 5000},
        "candidate_ci": {"low": 0.9665, "high": 0.9752}, "n": 4000, "seed": 1, "alpha": 0.05, "dataset": HOLDOUT,
        "passed": True, "underpowered": False, "severity": "block", "message": None, "warnings": [], "higher_is_better": True,
        "min_delta": 0.0, "threshold": None, "units": 4000, "grouped": False, "weighted": False, "se": 0.004, "mde": 0.01,
        "engine": "multinomial", "cross_check": None, "slices": None, "slice_gap": None, "outcome": "passed",
    }  # fmt: skip
    gate.update(fields)
    return gate


def summary(p50: float, p95: float, p99: float, mean: float, low: float, high: float) -> dict:
    return {
        "p50_ms": p50, "p95_ms": p95, "p99_ms": p99, "mean_ms": mean, "sd_ms": 0.1, "min_ms": low, "max_ms": high,
        "samples": 200, "outliers": 9, "throughput_per_s": None,
    }  # fmt: skip


def latency(name: str, *, budget_ms: float | None, max_ratio: float | None, **fields) -> dict:
    gate = {
        "id": FILE + name, "kind": "latency", "metric": "p95_latency_ms", "rule": "p95 ratio candidate/baseline <= 2 at 95% confidence",
        "measured": True, "candidate": 0.7085, "baseline": 0.3473, "delta": None, "ci": None,
        "candidate_ci": {"low": 0.6975, "high": 0.7711}, "n": 200, "seed": 2, "alpha": 0.05, "dataset": None,
        "passed": True, "underpowered": False, "severity": "block", "message": None, "warnings": [], "outcome": "passed",
        "latency": {
            "percentile": 95.0, "budget_ms": budget_ms, "max_ratio": max_ratio, "rounds": 200, "warmup": 20, "batch": None,
            "resamples": 5000, "confidence": 0.9,
            "candidate": summary(0.6319, 0.7085, 0.9309, 0.6788, 0.6133, 6.2003),
            "baseline": summary(0.2703, 0.3473, 0.5876, 0.2856, 0.2390, 0.8908),
            "baseline_ci": {"low": 0.3301, "high": 0.3704}, "exact_high_ms": 0.8592, "budget_bound_ms": 0.8592,
            "ratio": {"estimate": 2.0402, "low": 1.9309, "high": 2.1857}, "quantised": False,
        },
    }  # fmt: skip
    gate.update(fields)
    return gate


def plain(name: str, kind: str, **fields) -> dict:
    gate = {
        "id": FILE + name, "kind": kind, "metric": kind, "rule": f"a {kind} rule", "measured": True, "candidate": None,
        "baseline": None, "delta": None, "ci": None, "candidate_ci": None, "n": None, "seed": None, "alpha": None, "dataset": None,
        "passed": True, "underpowered": False, "severity": "block", "message": None, "warnings": [], "outcome": "passed",
    }  # fmt: skip
    gate.update(fields)
    return gate


def realistic_verdict() -> dict:
    """The example project's promote verdict (numbers from a real run, seeds and hashes shortened)."""
    gates = [
        quality("test_accuracy_above_floor", "accuracy", 0.05225, 0.0455, 0.05875, min_delta=None, threshold=0.85,
                rule="accuracy > 0.85 at 95% confidence"),
        quality("test_accuracy_not_worse", "accuracy", 0.05225, 0.0453, 0.05875, min_delta=-0.01, rule="delta > -0.01 at 95% confidence"),
        plain("test_batch_peak_memory", "cost", metric="peak_memory", candidate=128886.0, baseline=769958.0,
              cost={"name": "peak_memory", "unit": "bytes", "source": "tracemalloc", "ratio": 0.16739, "budget": 67108864.0, "max_ratio": None}),
        plain("test_golden_cases", "golden", n=24, golden={
            "path": "/work/example_project/golden/cases.jsonl", "sha256": "c0" * 32, "previous_sha256": None, "cases": 24,
            "passed": 24, "failed": 0, "failing_ids": [], "atol": 0.0, "rtol": 0.0, "updated": False, "changed": None}),
        quality("test_log_loss_not_worse", "log_loss", 0.12056, 0.10707, 0.13345, candidate=0.1074, baseline=0.2280,
                higher_is_better=False, severity="warn"),
        quality("test_roc_auc_better", "roc_auc", 0.02045, 0.01724, 0.02416, candidate=0.9879, baseline=0.9675),
        plain("test_score_distribution_drift", "drift", severity="warn", passed=False, outcome="failed",
              message="output: PSI 0.7268 [0.6835, 0.7810] above 0.25", drift={
                  "mode": "outputs", "reference": "baseline", "current": "candidate", "bins": 10, "max_psi": 0.25, "max_ks": 0.2,
                  "max_kl": None, "columns": [{"name": "output", "psi": 0.7268, "psi_low": 0.6835, "psi_high": 0.7810, "ks": 0.19775,
                                               "ks_p_value": 8.46e-69, "kl": 0.3487, "passed": False}]}),
        latency("test_single_row_latency_regression", budget_ms=None, max_ratio=2.0, severity="warn", passed=False, outcome="failed",
                message="the upper confidence bound of the p95 ratio is 2.186, above 2"),
        latency("test_single_row_latency_within_budget", budget_ms=30.0, max_ratio=None, rule="candidate p95 <= 30 ms at 95% confidence",
                candidate=1.0009, candidate_ci={"low": 0.934, "high": 1.0249}),
    ]  # fmt: skip
    return {
        "schema_version": 1, "decision": "promote", "reasons": [],
        "warnings": [
            f"warn-only gate {FILE}test_score_distribution_drift failed: output: PSI 0.7268 [0.6835, 0.7810] above 0.25",
            f"warn-only gate {FILE}test_single_row_latency_regression failed: the upper confidence bound of the p95 ratio is 2.186, above 2",
        ],
        "created_at": "2026-11-25T13:33:18Z",
        "candidate": {"source": "registry:churn@candidate", "sha256": "82" * 32, "size_bytes": 397000,
                      "registry": {"name": "churn", "version": 2, "alias": "candidate"}},
        "baseline": {"source": "registry:churn@production", "sha256": "10" * 32, "size_bytes": 1707,
                     "registry": {"name": "churn", "version": 1, "alias": "production"}},
        "gates": gates, "tests": {"passed": 10, "failed": 0, "skipped": 0, "errors": 0},
        "envelope": {"python": "3.11.2", "platform": "Linux-x86_64", "packages": {"pytest": "8.3", "numpy": "2.1", "scipy": "1.14",
                     "pytest-promote": "0.1.0"}, "git": None, "seed": 0, "gate_seeds": {g["id"]: 1 for g in gates},
                     "pytest_args": ["--promote"], "command_line": ["pytest", "--promote"], "config": {"path": "promote.yaml", "sha256": None},
                     "datasets": {}, "test_files": {}, "golden_files": {}, "distributions": {"numpy": "2.1"}},
        "rollback_candidate": {"name": "churn", "version": 1, "alias": "production", "sha256": "10" * 32, "reason": "the baseline"},
        "replay_of": None, "reproduced": None, "replay": None,
    }  # fmt: skip


def blocked_verdict() -> dict:
    """The realistic verdict after a bad release: a failed, an inconclusive, an erroring gate, a broken golden case, slices."""
    verdict = realistic_verdict()
    gates = {gate["id"].split("::")[1]: gate for gate in verdict["gates"]}
    gates["test_roc_auc_better"].update(delta=-0.011, ci={**gates["test_roc_auc_better"]["ci"], "low": -0.0161, "high": -0.0052},
                                        passed=False, outcome="failed", message="the lower bound of delta is -0.0161, not above 0")
    gates["test_accuracy_not_worse"].update(delta=-0.004, ci={**gates["test_accuracy_not_worse"]["ci"], "low": -0.0172, "high": 0.0091},
                                            passed=False, underpowered=True, outcome="inconclusive",
                                            message="inconclusive: about 9,000 examples would decide it")
    gates["test_log_loss_not_worse"].update(measured=False, candidate=None, baseline=None, delta=None, ci=None, candidate_ci=None,
                                            passed=False, outcome="error", severity="block",
                                            message="ValueError: predict_proba returned NaN for 3 rows")
    gates["test_golden_cases"]["golden"].update(passed=21, failed=3, failing_ids=["row-4", "row-17", 23])
    gates["test_golden_cases"].update(passed=False, outcome="failed", message="3 of 24 golden cases differ")
    gates["test_accuracy_above_floor"].update(slices=[
        {"value": "east", "rows": 1200, "skipped": False, "passed": True, "candidate": 0.97, "baseline": 0.92, "delta": 0.05,
         "ci": {"low": 0.04, "high": 0.06, "confidence": 0.9, "method": "bca", "resamples": 5000}, "candidate_ci": None},
        {"value": "island", "rows": 40, "skipped": True, "passed": None, "candidate": None, "baseline": None, "delta": None,
         "ci": None, "candidate_ci": None},
    ], slice_gap={"gap": 0.012, "low": 0.004, "high": 0.03, "slices": 2, "max": 0.1, "passed": True})  # fmt: skip
    verdict.update(decision="block", reasons=[
        {"code": "gate_failed", "message": f"gate {FILE}test_roc_auc_better failed"},
        {"code": "underpowered", "message": f"gate {FILE}test_accuracy_not_worse was inconclusive"},
        {"code": "gate_error", "message": f"gate {FILE}test_log_loss_not_worse raised ValueError"},
        {"code": "gate_failed", "message": f"gate {FILE}test_golden_cases failed"},
    ])  # fmt: skip
    return verdict


def with_interval(verdict: dict) -> set[str]:
    """Ids of the gates that have an interval to draw."""
    ids = set()
    for gate in verdict["gates"]:
        if not gate.get("measured", True):
            continue
        if gate["kind"] == "quality" and (gate["ci"] or {}).get("low") is not None:
            ids.add(gate["id"])
        if gate["kind"] == "latency" and gate.get("latency"):
            ids.add(gate["id"])
    return ids


# --- a small DOM from html.parser --------------------------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Element:
    def __init__(self, tag: str, attrs: dict[str, str], parents: list[Element]) -> None:
        self.tag, self.attrs, self.parents = tag, attrs, list(parents)
        self.text: list[str] = []

    def classes(self) -> list[str]:
        return self.attrs.get("class", "").split()

    def inside(self, tag: str, cls: str | None = None) -> bool:
        return any(parent.tag == tag and (cls is None or cls in parent.classes()) for parent in self.parents)

    def all_text(self) -> str:
        return "".join(self.text)


class Page(HTMLParser):
    """Every element with its attributes (unescaped), its ancestors and all text beneath it."""

    def __init__(self, document: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.stack: list[Element] = []
        self.texts: list[str] = []
        self.doctype = ""
        self.feed(document)
        self.close()

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {name: value or "" for name, value in attrs}, self.stack)
        self.elements.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append(Element(tag, {name: value or "" for name, value in attrs}, self.stack))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index].tag == tag:
                del self.stack[index:]
                return
        raise AssertionError(f"</{tag}> closes nothing")

    def handle_data(self, data: str) -> None:
        self.texts.append(data)
        for element in self.stack:
            element.text.append(data)

    def find(self, tag: str | None = None, cls: str | None = None) -> list[Element]:
        return [e for e in self.elements if (tag is None or e.tag == tag) and (cls is None or cls in e.classes())]

    def text(self) -> str:
        return "".join(self.texts)


def intervals(page: Page) -> list[Element]:
    return [element for element in page.elements if element.attrs.get("class") == "interval"]


@pytest.fixture(scope="module")
def realistic() -> tuple[dict, str, Page]:
    verdict = realistic_verdict()
    document = render_html(verdict)
    return verdict, document, Page(document)


@pytest.fixture(scope="module")
def blocked() -> tuple[dict, str, Page]:
    verdict = blocked_verdict()
    document = render_html(verdict)
    return verdict, document, Page(document)


# --- self-contained ----------------------------------------------------------------------------

URL = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:|//)", re.IGNORECASE)
CSS_URL = re.compile(r"url\s*\(|@import", re.IGNORECASE)


@pytest.mark.parametrize("which", ["realistic", "blocked"])
def test_the_page_loads_nothing_and_runs_nothing(which: str, request: pytest.FixtureRequest) -> None:
    _, document, page = request.getfixturevalue(which)

    assert page.doctype.lower() == "doctype html" and not page.stack  # every element closed
    assert not page.find("script") and not page.find("link") and not page.find("iframe") and not page.find("img")
    for element in page.elements:
        for name in ("src", "href", "xlink:href", "action", "data", "poster"):
            assert name not in element.attrs or not URL.match(element.attrs[name]), (element.tag, name, element.attrs[name])
        assert not any(name.startswith("on") for name in element.attrs), element.attrs  # no event handlers
        assert not CSS_URL.search(element.attrs.get("style", ""))
    styles = "".join(element.all_text() for element in page.find("style"))
    assert not CSS_URL.search(styles)
    assert not re.search(r"(?:src|href)\s*=\s*[\"']?(?:https?:)?//", document, re.IGNORECASE)
    policy = [e.attrs["content"] for e in page.find("meta") if e.attrs.get("http-equiv") == "Content-Security-Policy"]
    assert policy == ["default-src 'none'; style-src 'unsafe-inline'"]


def test_print_rules_expand_the_envelope_and_keep_rows_whole(realistic) -> None:
    _, _, page = realistic
    styles = "".join(element.all_text() for element in page.find("style"))

    assert "@media print" in styles
    print_rules = styles[styles.index("@media print"):]
    assert "break-inside: avoid" in print_rules and re.search(r"\btr\b", print_rules)
    assert "details.envelope > * { display: block; }" in print_rules
    assert "::details-content" in print_rules  # current Chromium hides closed details' content in that slot


# --- banner ------------------------------------------------------------------------------------


def test_a_promote_banner_is_green_with_every_warning(realistic) -> None:
    verdict, _, page = realistic
    (banner,) = page.find("header", "banner")

    assert "promote" in banner.classes()
    assert "PROMOTE" in banner.all_text()
    for warning in verdict["warnings"]:
        assert warning in banner.all_text()
    assert "Reasons" not in banner.all_text()


def test_a_block_banner_is_red_with_every_reason_code_and_message(blocked) -> None:
    verdict, _, page = blocked
    (banner,) = page.find("header", "banner")

    assert "block" in banner.classes() and "BLOCK" in banner.all_text()
    items = [element.all_text() for element in page.find("li") if element.inside("ul", "reasons")]
    assert items == [f"{reason['code']} {reason['message']}" for reason in verdict["reasons"]]
    styles = "".join(element.all_text() for element in page.find("style"))
    assert ".banner.block { background: #cf222e; }" in styles and ".banner.promote { background: #1a7f37; }" in styles


# --- gate table --------------------------------------------------------------------------------


def table_rows(page: Page) -> dict[str, list[str]]:
    """Each gate row's cell texts, by the gate's name."""
    rows: dict[str, list[str]] = {}
    for row in page.find("tr"):
        if not row.inside("table", "gates") or "note" in row.classes():
            continue
        cells = [cell for cell in page.elements if cell.tag == "td" and cell.parents and cell.parents[-1] is row]
        if cells:
            # no-break spaces keep a value with its interval; compare them as plain spaces
            rows[cells[0].all_text().split("::")[-1]] = [cell.all_text().replace("\xa0", " ") for cell in cells]
    return rows


def test_the_gate_table_compares_each_kind_like_the_terminal_summary(realistic) -> None:
    verdict, _, page = realistic
    rows = table_rows(page)

    assert len(rows) == len(verdict["gates"])
    assert rows["test_accuracy_not_worse"][3:7] == ["0.9712", "0.9190", "Δ +0.0522 [+0.0453, +0.0587]", "delta > -0.01 at 95% confidence"]
    assert rows["test_accuracy_above_floor"][3] == "0.9712 [0.9665, 0.9752]"  # a threshold rule judges this interval
    assert rows["test_single_row_latency_regression"][3:6] == ["0.7085 ms [≤ 0.8592 ms]", "0.3473 ms", "ratio 2.0402 [1.9309, 2.1857]"]
    assert rows["test_batch_peak_memory"][3:6] == ["0.1229 MiB", "0.7343 MiB", "ratio 0.1674"]
    assert rows["test_golden_cases"][5] == "24/24 cases match"
    assert rows["test_score_distribution_drift"][3:6] == ["candidate", "baseline", "max PSI 0.7268 (output)"]
    assert rows["test_score_distribution_drift"][7] == "FAIL (warn)"
    assert rows["test_roc_auc_better"][7] == "PASS"


def test_a_gate_message_sits_under_its_row(realistic) -> None:
    _, _, page = realistic
    notes = [row.all_text() for row in page.find("tr", "note")]

    assert notes == ["output: PSI 0.7268 [0.6835, 0.7810] above 0.25", "the upper confidence bound of the p95 ratio is 2.186, above 2"]


# --- forest plot -------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["realistic", "blocked"])
def test_one_interval_per_gate_that_has_one(which: str, request: pytest.FixtureRequest) -> None:
    verdict, _, page = request.getfixturevalue(which)
    drawn = [element.attrs["data-gate"] for element in intervals(page)]

    assert sorted(drawn) == sorted(with_interval(verdict))  # each once, and none for the others
    assert all(element.tag == "g" and element.inside("svg", "forest-plot") for element in intervals(page))


def test_an_unmeasured_gate_draws_no_interval_and_says_why(blocked) -> None:
    _, _, page = blocked
    gate_id = FILE + "test_log_loss_not_worse"

    assert gate_id not in [element.attrs["data-gate"] for element in intervals(page)]
    (row,) = [e for e in page.find("div", "forest-row") if gate_id in e.all_text()]
    assert "no interval: not measured (error): ValueError: predict_proba returned NaN for 3 rows" in row.all_text()
    assert table_rows(page)["test_log_loss_not_worse"][5] == "not measured"
    assert "ValueError: predict_proba returned NaN for 3 rows" in [r.all_text() for r in page.find("tr", "note")]


def test_a_nan_interval_is_not_drawn(realistic) -> None:
    verdict = copy.deepcopy(realistic[0])
    verdict["gates"][5]["ci"]["low"] = None  # NaN is written as null
    page = Page(render_html(verdict))

    assert verdict["gates"][5]["id"] not in [element.attrs["data-gate"] for element in intervals(page)]
    assert len(intervals(page)) == len(with_interval(realistic[0])) - 1
    assert "no interval: the result has no interval (a NaN or missing value)" in page.text()


def test_intervals_are_coloured_by_outcome(blocked) -> None:
    verdict, _, page = blocked
    outcomes = {gate["id"]: gate["outcome"] for gate in verdict["gates"]}
    drawn = {element.attrs["data-gate"]: element for element in intervals(page)}

    assert {outcomes[gate_id] for gate_id in drawn} >= {"passed", "failed", "inconclusive"}
    for gate_id, element in drawn.items():
        assert element.attrs["stroke"] == element.attrs["fill"] == OUTCOME_COLOURS[outcomes[gate_id]]
        assert element.attrs["data-outcome"] == outcomes[gate_id]


@pytest.mark.parametrize("outcome", sorted(OUTCOME_COLOURS))
def test_every_outcome_has_its_own_badge_colour(outcome: str) -> None:
    verdict = realistic_verdict()
    verdict["gates"] = [quality("test_x", "accuracy", 0.01, 0.002, 0.02, outcome=outcome)]
    page = Page(render_html(verdict))
    badges = [element for element in page.find("span", "badge") if element.attrs["data-outcome"] == outcome]

    assert badges and all(f"background:{OUTCOME_COLOURS[outcome]}" in element.attrs["style"] for element in badges)
    assert intervals(page)[0].attrs["stroke"] == OUTCOME_COLOURS[outcome]
    assert len(set(OUTCOME_COLOURS.values())) == len(OUTCOME_COLOURS)


def forest_row(page: Page, name: str) -> Element:
    (row,) = [element for element in page.find("div", "forest-row") if (FILE + name) in element.all_text()]
    return row


def svg_of(page: Page, row: Element) -> list[Element]:
    return [element for element in page.elements if row in element.parents and element.inside("svg", "forest-plot")]


def test_each_row_has_its_own_axis_with_the_rule_line_inside_it(realistic) -> None:
    _, _, page = realistic
    expected = {
        "test_accuracy_not_worse": "min_delta -0.01",
        "test_accuracy_above_floor": "threshold 0.85",
        "test_single_row_latency_regression": "max_ratio 2×",
        "test_single_row_latency_within_budget": "budget 30",
    }
    for name, rule in expected.items():
        parts = svg_of(page, forest_row(page, name))
        labels = [element.all_text() for element in parts if element.tag == "text"]
        ticks = [float(label) for label in labels if re.fullmatch(r"-?\d+(\.\d+)?", label)]
        (line,) = [element for element in parts if element.tag == "line" and "rule" in element.classes()]
        assert rule in labels
        assert len(ticks) >= 3 and ticks == sorted(ticks)
        assert 18 <= float(line.attrs["x1"]) <= 582


def test_what_each_row_draws(realistic) -> None:
    _, _, page = realistic

    assert "candidate accuracy" in forest_row(page, "test_accuracy_above_floor").all_text()  # threshold only: its own interval
    assert "+0.05225, 90% interval [+0.0453, +0.05875]; rule min_delta -0.01" in forest_row(page, "test_accuracy_not_worse").all_text()
    assert "p95 ratio, candidate / baseline" in forest_row(page, "test_single_row_latency_regression").all_text()
    budget = forest_row(page, "test_single_row_latency_within_budget").all_text()
    assert "candidate p95 latency" in budget and "1.001 ms, 90% interval [0.934, 1.025] ms, judged bound 1.045 ms" not in budget
    assert "[0.934, 1.025] ms" in budget  # the order-statistic bound (0.8592) is below the interval here: not drawn


def test_a_budget_judged_beyond_the_interval_shows_that_bound() -> None:
    verdict = realistic_verdict()
    verdict["gates"][8]["latency"]["budget_bound_ms"] = 1.2
    page = Page(render_html(verdict))

    assert "judged bound 1.2 ms; rule budget 30 ms" in forest_row(page, "test_single_row_latency_within_budget").all_text()


# --- latency, slices, golden, drift ------------------------------------------------------------


def test_latency_strips_show_both_models_summaries(realistic) -> None:
    _, _, page = realistic
    figures = page.find("figure", "latency")

    assert len(figures) == 2
    for figure in figures:
        plot = [element for element in page.elements if figure in element.parents and element.tag == "svg"]
        assert len(plot) == 1
        labels = [element.all_text() for element in page.elements if plot[0] in element.parents and element.tag == "text"]
        assert {"candidate", "baseline", "p50", "p95", "p99"} <= set(labels)
    assert "max 6.2 ms" in page.text()  # a max far beyond p99 is marked, not drawn to scale
    assert "No quartiles are recorded, so no box is drawn." in page.text()


def test_slices_golden_ids_and_drift_columns(blocked) -> None:
    _, _, page = blocked
    slices = [element.all_text() for element in page.find("tr") if element.inside("section") and "island" in element.all_text()]
    golden = [element.all_text() for element in page.find("code") if element.inside("p", "failing")]
    drift = [element.all_text() for element in page.find("tr") if "0.7268 [0.6835, 0.7810]" in element.all_text() and "note" not in element.classes()]

    assert slices == ["island40---skipped (below min_slice_size)"]
    assert "east1200" in page.text() and "+0.0500 [+0.0400, +0.0600]PASS" in page.text()
    assert "slice gap 0.0120 [0.0040, 0.0300] over 2 slices, must stay below 0.1: passes." in page.text()
    assert golden == ["row-4", "row-17", "23"]
    assert drift == ["output0.7268 [0.6835, 0.7810]0.19788.46e-690.3487FAIL"]


def test_the_envelope_is_pretty_json_inside_details(realistic) -> None:
    verdict, _, page = realistic
    (pre,) = page.find("pre")

    assert pre.inside("details", "envelope")
    assert json.loads(pre.all_text()) == verdict["envelope"]
    assert "\n  " in pre.all_text()
    assert "open" not in page.find("details")[0].attrs  # collapsed on screen, expanded in print


# --- escaping and robustness -------------------------------------------------------------------

HOSTILE = '<script>alert("x")</script>'


def test_every_verdict_string_is_escaped() -> None:
    verdict = blocked_verdict()
    gate = verdict["gates"][1]
    gate.update(id=f"tests/x.py::{HOSTILE}", metric=HOSTILE, rule=HOSTILE, message=f"</td></tr>{HOSTILE}")
    verdict["reasons"][0]["message"] = f'<img src=x onerror="alert(1)">{HOSTILE}'
    verdict["warnings"].append(f"</li>{HOSTILE}")
    verdict["candidate"]["source"] = HOSTILE
    verdict["gates"][0]["slices"][0]["value"] = HOSTILE
    verdict["gates"][3]["golden"]["failing_ids"].append(HOSTILE)
    verdict["gates"][6]["drift"]["columns"][0]["name"] = HOSTILE
    verdict["envelope"]["platform"] = f"</pre></details>{HOSTILE}"
    verdict["created_at"] = HOSTILE
    document = render_html(verdict)
    page = Page(document)

    assert not page.find("script") and not page.find("img")
    assert not any(name.startswith("on") for element in page.elements for name in element.attrs)
    assert "<script>" not in document and "&lt;script&gt;" in document
    assert page.text().count(HOSTILE) >= 12
    assert f"tests/x.py::{HOSTILE}" in [element.attrs["data-gate"] for element in intervals(page)]
    assert json.loads(page.find("pre")[0].all_text())["platform"] == f"</pre></details>{HOSTILE}"


@pytest.mark.parametrize(
    "verdict",
    [
        {},
        {"decision": "block", "reasons": [{"code": "config_error", "message": "promote.yaml: bad key"}], "gates": [], "envelope": {}},
        {"decision": "block", "gates": [{"id": "t.py::a"}, {"id": "t.py::b", "kind": "latency", "latency": None, "measured": True}]},
        {"gates": [{"id": "t.py::c", "kind": "drift", "drift": {"columns": []}}, {"id": "t.py::d", "kind": "golden", "golden": {}}]},
        {"gates": [{"id": "t.py::e", "kind": "cost", "candidate": 5.0, "baseline": 0.0, "cost": {"unit": "tokens", "ratio": None}}]},
        {"gates": [{"id": "t.py::f", "kind": "latency", "latency": {"ratio": {}, "candidate": {}, "baseline": {}, "max_ratio": 1.1}}]},
        {"gates": [{"id": "t.py::g", "kind": "quality", "ci": {"low": 0.1, "high": 0.1}, "delta": 0.1, "min_delta": 0.1}]},
        {"gates": [{"id": "t.py::h", "kind": "quality", "ci": {"low": 0.0, "high": 0.0}, "delta": 0.0, "min_delta": None}]},
        {"candidate": None, "baseline": None, "tests": None, "warnings": None, "replay": {"gates": [{"id": "t.py::a", "status": "differs", "diff": {"delta": {}}}]}},
    ],
    ids=["empty", "config-error", "missing-fields", "empty-evidence", "infinite-cost", "empty-latency", "zero-width", "all-zero", "nulls"],
)
def test_missing_and_null_fields_render(verdict: dict) -> None:
    document = render_html(verdict)
    page = Page(document)

    assert page.find("header", "banner") and page.find("details", "envelope")
    assert not page.stack
    if verdict.get("gates") and verdict["gates"][0]["id"] == "t.py::e":
        assert "ratio ∞ (baseline 0)" in page.text() and "5 tokens" in page.text()
    if verdict.get("gates") and verdict["gates"][0]["id"] in ("t.py::g", "t.py::h"):
        assert len(intervals(page)) == 1


def test_a_replay_lists_each_gate_status() -> None:
    verdict = realistic_verdict()
    verdict["replay"] = {"of": "ab" * 32, "path": "old.json", "reproduced": False, "package_changes": {"numpy": {"verdict": "1", "now": "2"}},
                         "gates": [{"id": FILE + "test_roc_auc_better", "status": "differs", "diff": {"delta": {"verdict": 1, "now": 2}}}]}  # fmt: skip
    text = Page(render_html(verdict)).text()

    assert "not reproduced; changed packages: numpy." in text and "differsdelta" in text


# --- writing -----------------------------------------------------------------------------------


def test_write_html_replaces_the_page_atomically(tmp_path: Path) -> None:
    target = tmp_path / "reports" / "verdict.html"
    write_html(target, blocked_verdict())
    write_html(str(target), realistic_verdict())

    assert target.read_text(encoding="utf-8") == render_html(realistic_verdict())
    assert sorted(path.name for path in target.parent.iterdir()) == ["verdict.html"]


def test_a_failed_write_keeps_the_old_page_and_no_temp_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "verdict.html"
    target.write_text("old")

    def refuse(source: str, destination: Path) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        write_html(target, realistic_verdict())
    assert target.read_text() == "old" and [path.name for path in tmp_path.iterdir()] == ["verdict.html"]
