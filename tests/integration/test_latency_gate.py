"""``@gate.latency``: candidate and baseline timed interleaved in one run, decided on upper bounds.

The models here are loader-built objects whose ``predict`` does a fixed amount of pure-Python
work (about 1 ms for ``busy``), so the timings are real and the effect sizes are known:
``same`` is the identical work (an A/A comparison), ``slower`` does 50% more.
"""

from __future__ import annotations

import textwrap

import pytest

WORK_MODELS = textwrap.dedent(
    """
    LOOPS = 16_000  # about 1 ms of interpreter work on the development machine


    class Busy:
        def __init__(self, loops):
            self.loops = loops

        def predict(self, rows):
            total = 0
            for i in range(self.loops):
                total += i * i
            return [total % 2] * len(rows)


    def busy():
        return Busy(LOOPS)


    def slower():
        return Busy(LOOPS * 3 // 2)


    class Instant:
        def predict(self, rows):
            return rows


    def instant():
        return Instant()
    """
)


def latency_project(make_project, candidate: str, baseline: str, marker: str, call: str = "model.predict([[0.0]])"):
    tests = f"""
    @{marker}
    def test_latency(promote):
        promote.time(lambda model: {call})
    """
    project = make_project(models="toy", tests=tests)
    project.use_loaders("workmodels", WORK_MODELS, candidate, baseline)
    return project


def latency_entry(project, helpers) -> dict:
    return helpers.gate_entry(project.verdict(), "test_latency")


def test_a_latency_gate_records_both_distributions_and_the_ratio(make_project, helpers, verdict_validator):
    project = latency_project(make_project, "busy", "busy", "gate.latency(95, budget_ms=1000, max_ratio=3, samples=60, warmup=5)")

    result = project.run("--promote")

    assert result.ret == 0, result.stdout.str()
    verdict = project.verdict()
    verdict_validator.validate(verdict)
    entry = latency_entry(project, helpers)
    assert (entry["kind"], entry["metric"], entry["outcome"], entry["n"]) == ("latency", "p95_latency_ms", "passed", 60)
    latency = entry["latency"]
    assert (latency["rounds"], latency["warmup"], latency["budget_ms"], latency["max_ratio"]) == (60, 5, 1000.0, 3.0)
    for role in ("candidate", "baseline"):
        summary = latency[role]
        assert summary["samples"] == 60
        assert 0 < summary["min_ms"] <= summary["p50_ms"] <= summary["p95_ms"] <= summary["p99_ms"] <= summary["max_ms"]
        assert summary["throughput_per_s"] is None  # no batch= given
    assert entry["candidate"] == pytest.approx(latency["candidate"]["p95_ms"])
    assert entry["candidate_ci"]["low"] <= entry["candidate"] <= entry["candidate_ci"]["high"]
    ratio = latency["ratio"]
    assert ratio["low"] <= ratio["estimate"] <= ratio["high"] <= 3
    assert verdict["candidate"]["size_bytes"] > 0 and verdict["baseline"]["size_bytes"] > 0
    result.stdout.fnmatch_lines(
        [
            "*test_latency*p95_latency_ms*ms*ratio*PASS",
            "*test_latency latency over 60 interleaved rounds:",
            "  candidate: p50 * ms, p95 * ms, p99 * ms, mean * ms (sd * ms), min * ms, * outlier(s)",
            "  baseline: p50 *",
        ]
    )


@pytest.mark.slow
def test_identical_models_rarely_fail_the_ratio_gate(make_project, helpers):
    """A/A: 20 independent runs of the same 1 ms call as candidate and baseline.

    The truth (ratio 1.0) sits far inside max_ratio=1.2, so a failure is a false block. alpha
    bounds false promotions (a ratio truly above 1.2 passing); false blocks depend on power,
    which the unit simulations put at 95% for this margin and 200 rounds (5% false blocks).
    At a 5% rate, P(more than 2 of 20) = 7.5%; the bound is 2 of 20, as the issue states.
    A machine that pre-empts a tenth of the calls makes p95 bimodal and this test fails:
    timing gates need a machine that is not oversubscribed (see the README).
    """
    project = latency_project(make_project, "busy", "busy", "gate.latency(95, max_ratio=1.2)")
    failures, ratios = 0, []
    for _ in range(20):
        result = project.run("--promote")
        entry = latency_entry(project, helpers)
        failures += entry["outcome"] != "passed"
        ratios.append(entry["latency"]["ratio"]["high"])
        assert result.ret == (0 if entry["outcome"] == "passed" else 1)
    assert failures <= 2, f"{failures} of 20 A/A runs failed; ratio upper bounds {ratios}"


@pytest.mark.slow
def test_a_candidate_doing_half_again_the_work_fails_every_run(make_project, helpers):
    project = latency_project(make_project, "slower", "busy", "gate.latency(95, max_ratio=1.2)")
    for run in range(10):
        result = project.run("--promote")
        entry = latency_entry(project, helpers)
        assert result.ret == 1 and entry["outcome"] == "failed", f"run {run}: {entry['latency']['ratio']}"
        assert entry["latency"]["ratio"]["estimate"] > 1.25
    result.stdout.fnmatch_lines(["*gate p95_latency_ms failed: rule p95 ratio candidate/baseline <= 1.2*upper confidence bound of the p95 ratio is *"])
    assert project.verdict()["reasons"][0]["code"] == "gate_failed"


@pytest.mark.parametrize(
    ("budget_ms", "ret", "outcome"),
    [pytest.param(0.05, 1, "failed", id="budget-clearly-exceeded"), pytest.param(500, 0, "passed", id="budget-clearly-met")],
)
def test_the_budget_rule_reads_the_candidates_upper_bound(make_project, helpers, budget_ms, ret, outcome):
    project = latency_project(make_project, "busy", "instant", f"gate.latency(95, budget_ms={budget_ms}, samples=60, warmup=2)")

    result = project.run("--promote")

    assert result.ret == ret, result.stdout.str()
    entry = latency_entry(project, helpers)
    assert entry["outcome"] == outcome
    assert entry["candidate_ci"]["high"] > entry["candidate"] > 0.3  # about 1 ms of work
    latency = entry["latency"]
    assert latency["budget_bound_ms"] == max(entry["candidate_ci"]["high"], latency["exact_high_ms"])
    if outcome == "failed":
        result.stdout.fnmatch_lines([f"*the candidate's p95 upper confidence bound is * ms, above the budget {budget_ms:g} ms*"])


def test_batch_reports_throughput(make_project, helpers):
    project = latency_project(
        make_project, "busy", "busy", "gate.latency(50, max_ratio=1.5, samples=40, warmup=2)", call="model.predict([[0.0]] * 100)"
    )
    (project.path / "test_gates.py").write_text(
        (project.path / "test_gates.py").read_text().replace("promote.time(lambda model: ", "promote.time(batch=100, call=lambda model: ")
    )

    result = project.run("--promote")

    assert result.ret == 0, result.stdout.str()
    latency = latency_entry(project, helpers)["latency"]
    assert latency["batch"] == 100
    for role in ("candidate", "baseline"):
        summary = latency[role]
        assert summary["throughput_per_s"] == pytest.approx(100 / (summary["mean_ms"] / 1000), rel=1e-9)
    result.stdout.fnmatch_lines(["  candidate: * rows/s"])


def test_a_quantised_timing_warns_and_suggests_batch(make_project, helpers):
    project = latency_project(make_project, "instant", "instant", "gate.latency(95, max_ratio=10, samples=40, warmup=0)", call="None")

    result = project.run("--promote", "-W", "default")

    entry = latency_entry(project, helpers)
    assert entry["latency"]["quantised"] is True, entry["latency"]
    assert any("batch=" in warning for warning in entry["warnings"])
    assert any("batch=" in warning for warning in project.verdict()["warnings"])
    result.stdout.fnmatch_lines(["*PromoteWarning: test_gates.py::test_latency: *batch=*"])


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        pytest.param("gate.latency(95)", "gate.latency needs budget_ms=, max_ratio=, or both", id="no-rule"),
        pytest.param("gate.latency(100, max_ratio=1.1)", "percentile must lie strictly between 0 and 100, got 100", id="percentile"),
        pytest.param("gate.latency(95, max_ratio=1.1, samples=5)", "samples must be an integer >= 30, got 5", id="samples"),
        pytest.param("gate.latency(95, budget_ms=-1)", "budget_ms must be a finite positive number, got -1", id="budget"),
        pytest.param("gate.latency(95, max_ratio=1.1, warmup=-1)", "warmup must be an integer >= 0, got -1", id="warmup"),
        pytest.param(
            "gate.latency(99, budget_ms=5)",
            "a budget on p99 at alpha=0.05 needs samples >= 299 (the fewest rounds whose slowest call bounds p99 with 95% confidence), got 200",
            id="too-few-rounds-for-a-p99-budget",
        ),
    ],
)
def test_bad_latency_markers_block_with_the_reason(make_project, helpers, marker, message):
    project = latency_project(make_project, "instant", "instant", marker)

    result = project.run("--promote")

    assert result.ret == 1
    assert helpers.reason_codes(project.verdict()) == ["gate_error"]
    result.stdout.fnmatch_lines([f"*[[]gate_error[]] *{message}*"])


def test_calling_compare_in_a_latency_gate_names_the_right_call(make_project, helpers):
    project = latency_project(make_project, "instant", "instant", "gate.latency(95, max_ratio=1.1)", call="None")
    (project.path / "test_gates.py").write_text(
        (project.path / "test_gates.py").read_text().replace("promote.time(lambda model: None)", "promote.compare(lambda m: [1], [1])")
    )

    result = project.run("--promote")

    assert result.ret == 1
    result.stdout.fnmatch_lines(
        ["*promote.compare() belongs to @gate.quality; this test is a latency gate, which measures with promote.time(...)*"]
    )
