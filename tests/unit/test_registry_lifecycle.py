"""The registry's lifecycle on a real SQLite registry in tmp_path: register, aliases,
approvals, the promotion checklist, rollback candidates, quarantine, cards and the audit chain."""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
from pathlib import Path

import pytest

from pytest_promote.config import CardConfig
from pytest_promote.errors import RegistryError
from pytest_promote.registry import (
    ActionRefused,
    Policy,
    Registry,
    SqliteBackend,
    render_markdown,
)
from pytest_promote.verdict import sign_verdict

ROLES = ("risk", "ml-lead")
CARD = CardConfig(intended_use="score card transactions", limitations="EU data only", owners=("fraud-team",))
KEY = b"signing key"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Project:
    """A registry in tmp_path plus helpers to write model files and verdicts."""

    def __init__(self, root: Path, policy: Policy) -> None:
        self.root = root
        self.db = root / ".promote" / "registry.db"
        self.registry = Registry(SqliteBackend(self.db), policy)

    def model(self, content: bytes, name: str = "model.pkl") -> Path:
        path = self.root / "files" / sha(content)[:8] / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        return path

    def register(self, content: bytes, name: str = "fraud", **options) -> int:
        return self.registry.register(name, self.model(content), **options).version.version

    def verdict(
        self, candidate: bytes | None, baseline: bytes | None, *, decision: str = "promote", version: int | None = None,
        key: bytes | None = None, file: str = "verdict.json", **extra,
    ) -> Path:
        document = {
            "schema_version": 1,
            "decision": decision,
            "reasons": [],
            "created_at": "2024-06-07T12:00:00Z",
            "candidate": {"source": "registry:fraud@candidate", "sha256": sha(candidate) if candidate else None},
            "baseline": {
                "source": "registry:fraud@production",
                "sha256": sha(baseline) if baseline else None,
                "registry": {"name": "fraud", "version": version, "alias": "production"} if version else None,
            },
            "gates": [
                {"id": "tests/test_release.py::test_accuracy", "kind": "quality", "metric": "accuracy", "candidate": 0.91,
                 "baseline": 0.88, "delta": 0.03, "ci": {"low": 0.01, "high": 0.05}, "outcome": "passed", "passed": True},
            ],
            "envelope": {"datasets": {"holdout": {"path": "data/holdout.csv", "sha256": "cd" * 32, "rows": 2000}}, "git": None},
            **extra,
        }
        if key is not None:
            document = sign_verdict(document, key)
        path = self.root / file
        path.write_text(json.dumps(document))
        return path

    def approve_all(self, ref: str) -> None:
        for role in ROLES:
            self.registry.approve(ref, role, by=f"{role}-person")

    def first_in_production(self, content: bytes = b"v1") -> int:
        number = self.register(content)
        self.approve_all(f"fraud@{number}")
        assert self.registry.promote(f"fraud@{number}", initial=True, by="ops").promoted
        return number

    def sql(self, statement: str, *parameters) -> list:
        with sqlite3.connect(self.db) as db:
            return db.execute(statement, parameters).fetchall()

    def artifact(self, content: bytes) -> Path:
        digest = sha(content)
        return self.db.parent / "artifacts" / "sha256" / digest[:2] / digest

    def corrupt(self, content: bytes) -> None:
        path = self.artifact(content)
        os.chmod(path, 0o644)
        path.write_bytes(b"tampered " + content)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path, Policy(ROLES, CARD))


def codes(result, ok: bool = False) -> list[str]:
    return [check.code for check in result.checks if check.ok is ok]


# --- register, resolve, aliases ------------------------------------------------------------


def test_register_numbers_versions_and_stores_bytes(project: Project) -> None:
    first = project.registry.register("fraud", project.model(b"one", "model.joblib"), by="alice", metadata={"team": "risk"},
                                      git_commit="a" * 40)
    second = project.registry.register("fraud", project.model(b"two"), by="bob")
    assert (first.created, first.version.version, second.version.version) == (True, 1, 2)
    record = first.version
    assert (record.sha256, record.size, record.filename) == (sha(b"one"), 3, "model.joblib")
    assert (record.created_by, record.metadata, record.git_commit, record.state) == ("alice", {"team": "risk"}, "a" * 40, "registered")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record.created_at)
    stored = project.artifact(b"one")
    assert stored.read_bytes() == b"one"
    assert stored.stat().st_mode & 0o222 == 0  # written read-only


def test_register_defaults_to_os_user(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("getpass.getuser", lambda: "os-user")
    assert project.registry.register("fraud", project.model(b"x")).version.created_by == "os-user"


def test_identical_bytes_return_the_existing_version(project: Project) -> None:
    project.register(b"one")
    again = project.registry.register("fraud", project.model(b"one", "renamed.pkl"), alias="candidate")
    assert not again.created and again.version.version == 1 and again.version.filename == "model.pkl"
    assert [event.action for event in project.registry.audit("fraud")] == ["register", "alias"]
    # the same bytes under another name are that model's own version; the store keeps one file
    other = project.registry.register("churn", project.model(b"one"))
    assert other.created and other.version.version == 1
    assert len(list((project.db.parent / "artifacts").rglob("*"))) == 3  # sha256/, sha256/xx/, the file


def test_resolve_by_version_and_alias(project: Project) -> None:
    project.register(b"one")
    project.register(b"two", alias="candidate")
    resolved = project.registry.resolve("fraud@candidate")
    assert (resolved.name, resolved.version, resolved.alias, resolved.sha256, resolved.size) == ("fraud", 2, "candidate", sha(b"two"), 3)
    assert resolved.artifact_path.read_bytes() == b"two"
    assert resolved.suffix == ".pkl" and resolved.ref == "fraud@2" and resolved.state == "registered"
    assert resolved.identity() == {"name": "fraud", "version": 2, "alias": "candidate"}
    assert project.registry.resolve("fraud@1").alias is None
    assert project.registry.resolve("fraud@1", sha256=sha(b"one").upper()).version == 1


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("churn@1", r"unknown model 'churn' in registry .*registry\.db \(registered: fraud\)"),
        ("fraud@staging", r"fraud@staging: unknown alias 'staging' \(aliases of fraud: candidate -> 1\)"),
        ("fraud@7", r"fraud@7: no such version 7 \(fraud has versions 1-1\)"),
        ("fraud", r"expected NAME@VERSION or NAME@ALIAS"),
        ("../etc@1", r"invalid model name '\.\./etc'"),
        ("fraud@0", r"numbered from 1"),
    ],
)
def test_resolve_errors_name_the_ref_and_reason(project: Project, ref: str, message: str) -> None:
    project.register(b"one", alias="candidate")
    with pytest.raises(RegistryError, match=message) as info:
        project.registry.resolve(ref)
    assert info.value.code == "registry_error"


def test_resolve_checks_pin_and_artifact(project: Project) -> None:
    project.register(b"one", alias="candidate")
    with pytest.raises(RegistryError, match=f"fraud@candidate: resolves to fraud@1 with sha256 {sha(b'one')}, but the pin is {'ab' * 32}"):
        project.registry.resolve("fraud@candidate", sha256="ab" * 32)
    project.corrupt(b"one")
    with pytest.raises(RegistryError, match=r"fraud@candidate \(fraud@1\): artifact corrupted: .* now hashes to sha256"):
        project.registry.resolve("fraud@candidate")
    project.artifact(b"one").unlink()
    with pytest.raises(RegistryError, match=r"fraud@candidate \(fraud@1\): artifact missing"):
        project.registry.resolve("fraud@candidate")


def test_registering_again_repairs_a_corrupted_artifact(project: Project) -> None:
    project.register(b"one")
    project.corrupt(b"one")
    assert not project.registry.register("fraud", project.model(b"one")).created
    assert project.registry.resolve("fraud@1").artifact_path.read_bytes() == b"one"


@pytest.mark.parametrize("name", ["", ".hidden", "a/b", "a\\b", "..", "has space", "x" * 129, "naïve", "a@b"])
def test_invalid_names_are_refused(project: Project, name: str) -> None:
    with pytest.raises(RegistryError, match="invalid model name"):
        project.registry.register(name, project.model(b"one"))
    assert not (project.db.parent / "artifacts").exists() or not list((project.db.parent / "artifacts").rglob("*.pkl"))


def test_alias_moves_except_production(project: Project) -> None:
    project.register(b"one")
    project.register(b"two")
    record, before = project.registry.move_alias("fraud@1", "staging", by="alice")
    assert (record.ref, before) == ("fraud@1", None)
    assert project.registry.move_alias("fraud@2", "staging", by="alice")[1] == 1
    assert project.registry.move_alias("fraud@2", "staging", by="alice")[1] == 2  # no change, no event
    assert [event.action for event in project.registry.audit()].count("alias") == 2
    assert project.registry.resolve("fraud@staging").version == 2
    with pytest.raises(ActionRefused, match="alias 'production' is moved only by `promote` and `rollback`"):
        project.registry.move_alias("fraud@1", "production")
    with pytest.raises(ActionRefused, match="moved only by"):
        project.registry.register("fraud", project.model(b"three"), alias="production")
    with pytest.raises(RegistryError, match="digits only"):
        project.registry.move_alias("fraud@1", "12")
    project.registry.quarantine("fraud@1", reason="leaked labels")
    with pytest.raises(ActionRefused, match="fraud@1 is quarantined; no alias may point at it"):
        project.registry.move_alias("fraud@1", "candidate")


# --- approvals -------------------------------------------------------------------------------


def test_approvals_complete_the_approved_state(project: Project) -> None:
    project.register(b"one")
    first = project.registry.approve("fraud@1", "risk", by="carol", note="looked at slices")
    assert first.missing_roles == ("ml-lead",) and first.state == "registered"
    assert first.record.sha256 == sha(b"one")
    second = project.registry.approve("fraud@1", "ml-lead", by="dave")
    assert second.missing_roles == () and second.state == "approved"
    shown = project.registry.describe_version("fraud@1")
    assert [(item["role"], item["approved_by"], item["note"], item["valid"]) for item in shown["approvals"]] == [
        ("risk", "carol", "looked at slices", True), ("ml-lead", "dave", None, True)
    ]
    assert shown["missing_roles"] == [] and shown["state"] == "approved"


def test_approval_of_other_bytes_never_counts(project: Project) -> None:
    project.register(b"one")
    project.approve_all("fraud@1")
    # an approval row whose sha256 is not the version's (a restored backup, a hand edit): it must not count
    project.sql("UPDATE approvals SET sha256 = ? WHERE role = 'risk'", "ef" * 32)
    shown = project.registry.describe_version("fraud@1")
    assert shown["missing_roles"] == ["risk"] and shown["state"] == "registered"
    assert [item["valid"] for item in shown["approvals"]] == [False, True]
    result = project.registry.promote("fraud@1", initial=True, dry_run=True)
    assert "role 'risk' has not approved fraud@1" in " ".join(check.message for check in result.unmet)


def test_approve_refusals(project: Project) -> None:
    project.register(b"one")
    with pytest.raises(RegistryError, match="unknown role 'rsik': promote.yaml approvals.required lists risk, ml-lead"):
        project.registry.approve("fraud@1", "rsik", by="carol")
    with pytest.raises(RegistryError, match="invalid role"):
        project.registry.approve("fraud@1", "a/b", by="carol")
    with pytest.raises(ActionRefused, match=r"cannot approve fraud@1 with verdict .*: the verdict evaluated candidate sha256"):
        project.registry.approve("fraud@1", "risk", by="carol", verdict=project.verdict(b"other", None))
    with pytest.raises(ActionRefused, match="decided 'block', not 'promote'"):
        project.registry.approve("fraud@1", "risk", by="carol", verdict=project.verdict(b"one", None, decision="block"))
    with pytest.raises(RegistryError, match=r"verdict .*broken\.json: not valid JSON"):
        (project.root / "broken.json").write_text("{")
        project.registry.approve("fraud@1", "risk", by="carol", verdict=project.root / "broken.json")
    project.registry.archive("fraud@1", by="ops")
    with pytest.raises(ActionRefused, match="cannot approve fraud@1: it is archived"):
        project.registry.approve("fraud@1", "risk", by="carol")
    assert [event.action for event in project.registry.audit()] == ["register", "archive"]


def test_approval_with_a_verdict_stores_it_for_the_card(project: Project) -> None:
    project.register(b"one")
    result = project.registry.approve("fraud@1", "risk", by="carol", verdict=project.verdict(b"one", None))
    assert result.record.verdict_digest is not None
    assert project.registry.card("fraud@1")["evaluation"]["digest"] == result.record.verdict_digest


# --- promotion -------------------------------------------------------------------------------


def test_initial_promotion(project: Project) -> None:
    project.register(b"one")
    refused = project.registry.promote("fraud@1", initial=True)
    assert not refused.ok and not refused.promoted
    assert [check.message for check in refused.unmet] == [
        f"role 'risk' has not approved fraud@1 (sha256 {sha(b'one')})",
        f"role 'ml-lead' has not approved fraud@1 (sha256 {sha(b'one')})",
    ]
    assert "production" not in project.registry.describe("fraud")["aliases"]
    project.approve_all("fraud@1")
    done = project.registry.promote("fraud@1", initial=True, by="ops")
    assert done.ok and done.promoted and done.initial and done.replaced is None
    assert project.registry.resolve("fraud@production").version == 1
    event = project.registry.audit("fraud")[-1]
    assert (event.action, event.actor, event.detail["initial"], event.detail["verdict_digest"]) == ("promote", "ops", True, None)


def test_initial_is_refused_once_production_exists_and_required_before(project: Project) -> None:
    project.register(b"one")
    project.approve_all("fraud@1")
    without = project.registry.promote("fraud@1", verdict=project.verdict(b"one", None))
    assert codes(without) == ["production_exists"]
    assert "promote the first one with --initial" in without.unmet[0].message
    project.registry.promote("fraud@1", initial=True)
    project.register(b"two")
    project.approve_all("fraud@2")
    again = project.registry.promote("fraud@2", initial=True)
    assert codes(again) == ["initial"]
    assert "production already points at fraud@1" in again.unmet[0].message


def test_promotion_with_a_passing_verdict(project: Project) -> None:
    project.first_in_production(b"one")
    project.register(b"two", alias="candidate")
    project.approve_all("fraud@2")
    verdict = project.verdict(b"two", b"one", version=1)
    dry = project.registry.promote("fraud@candidate", verdict=verdict, dry_run=True)
    assert dry.ok and not dry.promoted and dry.dry_run
    assert project.registry.resolve("fraud@production").version == 1
    events_before = len(project.registry.audit())
    result = project.registry.promote("fraud@candidate", verdict=verdict, by="ops")
    assert result.promoted and result.replaced == 1 and not codes(result)
    assert codes(result, ok=True) == [
        "version_state", "artifact", "verdict_decision", "verdict_candidate", "verdict_baseline",
        "approval", "approval", "card_field", "card_field", "card_field", "rollback_candidate",
    ]
    assert len(project.registry.audit()) == events_before + 1
    described = project.registry.describe("fraud")
    assert [item["state"] for item in described["versions"]] == ["approved", "production"]
    candidate = project.registry.rollback_candidate("fraud")
    assert candidate.version == 1 and candidate.sha256 == sha(b"one")
    assert candidate.reasons[0].startswith("artifact verifies") and "not quarantined" in candidate.reasons
    assert "initial promotion (no verdict)" in candidate.reasons[2]
    stored = project.sql("SELECT digest, decision, candidate_sha256 FROM verdicts")
    assert stored == [(result.verdict_digest, "promote", sha(b"two"))]


def test_a_refused_promotion_lists_every_unmet_condition_and_changes_nothing(project: Project) -> None:
    project.first_in_production(b"one")
    project.register(b"zero")
    project.register(b"two")  # no approvals; the card lacks owners; production's artifact corrupted
    project.corrupt(b"one")
    policy = Policy(ROLES, CardConfig(intended_use="x", limitations="y"))
    registry = Registry(project.registry.backend, policy)
    verdict = project.verdict(b"other", b"zero", decision="block", version=2)
    events, states = project.sql("SELECT COUNT(*) FROM events"), project.sql("SELECT version, state FROM versions")
    result = registry.promote("fraud@3", verdict=verdict)
    assert not result.ok and not result.promoted
    assert codes(result) == [
        "verdict_decision", "verdict_candidate", "verdict_baseline", "approval", "approval", "card_field", "rollback_candidate",
    ]
    messages = "\n".join(check.message for check in result.unmet)
    assert "decided 'block', not 'promote'" in messages
    assert f"the verdict evaluated candidate sha256 {sha(b'other')}, not fraud@3's {sha(b'two')}" in messages
    assert "stale baseline: production is fraud@1 now" in messages and "registry version fraud@2 is not fraud@1" in messages
    assert "model card field 'owners' is empty" in messages
    assert "fraud@1 (the version replaced) cannot serve as the rollback candidate: artifact corrupted" in messages
    assert project.sql("SELECT COUNT(*) FROM events") == events
    assert project.sql("SELECT version, state FROM versions") == states
    assert project.sql("SELECT COUNT(*) FROM verdicts") == [(0,)]


def test_stale_baseline_after_production_moved(project: Project) -> None:
    project.first_in_production(b"one")
    for content in (b"two", b"three"):
        project.register(content)
    project.approve_all("fraud@2")
    project.approve_all("fraud@3")
    old = project.verdict(b"three", b"one", version=1, file="three-vs-one.json")
    assert project.registry.promote("fraud@2", verdict=project.verdict(b"two", b"one", version=1)).promoted
    stale = project.registry.promote("fraud@3", verdict=old)
    assert codes(stale) == ["verdict_baseline"]
    assert f"baseline sha256 {sha(b'one')} is not fraud@2's" in stale.unmet[0].message


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{", "not valid JSON"),
        ("[1, 2]", "expected a JSON object, got list"),
        ('{"decision": "maybe"}', "decision: expected 'promote' or 'block'"),
        ('{"decision": "promote"}', "candidate: expected an object"),
        ('{"decision": "promote", "candidate": {"sha256": "abc"}, "gates": []}', "candidate.sha256: expected a sha256 digest"),
        ('{"decision": "promote", "candidate": {"sha256": null}, "baseline": 3, "gates": []}', "baseline: expected an object or null"),
        ('{"decision": "promote", "candidate": {"sha256": null}, "gates": {}}', "gates: expected a list"),
        ('{"decision": "promote", "candidate": {"sha256": null}, "gates": [], "x": NaN}', "not valid JSON: NaN is not JSON"),
        ('{"decision": "promote", "candidate": {"sha256": null}, "gates": [], "baseline": {"registry": {"version": "1"}}}',
         "baseline.registry.version: expected a version number"),
    ],
)
def test_malformed_verdicts_are_a_named_unmet_condition(project: Project, text: str, problem: str) -> None:
    project.first_in_production(b"one")
    project.register(b"two")
    project.approve_all("fraud@2")
    path = project.root / "bad-verdict.json"
    path.write_text(text)
    result = project.registry.promote("fraud@2", verdict=path)
    assert codes(result) == ["verdict_readable"]
    assert result.unmet[0].message.startswith(f"verdict {path}: ") and problem in result.unmet[0].message


def test_missing_verdict_file_and_no_verdict(project: Project) -> None:
    project.first_in_production(b"one")
    project.register(b"two")
    project.approve_all("fraud@2")
    missing = project.registry.promote("fraud@2", verdict=project.root / "nope.json")
    assert codes(missing) == ["verdict_readable"] and "no such file" in missing.unmet[0].message
    assert codes(project.registry.promote("fraud@2")) == ["verdict_given"]


def test_signing_key_requires_a_valid_signature(project: Project) -> None:
    project.first_in_production(b"one")
    project.register(b"two")
    project.approve_all("fraud@2")
    unsigned = project.registry.promote("fraud@2", verdict=project.verdict(b"two", b"one", version=1), signing_key=KEY)
    assert codes(unsigned) == ["verdict_signature"] and "is not signed" in unsigned.unmet[0].message
    other = project.verdict(b"two", b"one", version=1, key=b"another key")
    wrong = project.registry.promote("fraud@2", verdict=other, signing_key=KEY)
    assert codes(wrong) == ["verdict_signature"] and "signature does not match" in wrong.unmet[0].message
    signed = project.verdict(b"two", b"one", version=1, key=KEY)
    document = json.loads(signed.read_text())
    document["gates"][0]["delta"] = 0.5
    edited = project.root / "edited.json"
    edited.write_text(json.dumps(document))
    assert codes(project.registry.promote("fraud@2", verdict=edited, signing_key=KEY)) == ["verdict_signature"]
    assert project.registry.promote("fraud@2", verdict=signed, signing_key=KEY).promoted


def test_promote_only_to_production(project: Project) -> None:
    project.register(b"one")
    with pytest.raises(RegistryError, match="only 'production' is promoted to"):
        project.registry.promote("fraud@1", to="staging", initial=True)


# --- rollback, quarantine, archive ------------------------------------------------------------


def promoted_twice(project: Project) -> None:
    project.first_in_production(b"one")
    project.register(b"two")
    project.approve_all("fraud@2")
    assert project.registry.promote("fraud@2", verdict=project.verdict(b"two", b"one", version=1)).promoted


def test_rollback_to_the_candidate_quarantines_the_rolled_back_version(project: Project) -> None:
    promoted_twice(project)
    result = project.registry.rollback("fraud", reason="alerts doubled", by="oncall")
    assert (result.from_version, result.to_version, result.quarantined) == (2, 1, True)
    assert project.registry.resolve("fraud@production").version == 1
    events = project.registry.audit("fraud")[-2:]
    assert [(event.action, event.version, event.actor) for event in events] == [("rollback", 1, "oncall"), ("quarantine", 2, "oncall")]
    assert events[0].detail == {"alias": "production", "from": 2, "reason": "alerts doubled", "keep": False}
    # a quarantined version is never promoted again, nor chosen for rollback
    again = project.registry.promote("fraud@2", verdict=project.verdict(b"two", b"one", version=1))
    assert "version_state" in codes(again) and "fraud@2 is quarantined; it can never be promoted" in again.unmet[0].message
    assert project.registry.rollback_candidate("fraud") is None
    described = project.registry.describe("fraud")
    assert described["passed_over"] == [{"version": 2, "problems": ["it is quarantined"]}]
    with pytest.raises(ActionRefused, match=r"cannot roll back fraud: no rollback candidate \(fraud@2: it is quarantined\)"):
        project.registry.rollback("fraud", reason="again")
    with pytest.raises(ActionRefused, match="cannot roll back fraud to fraud@2: it is quarantined"):
        project.registry.rollback("fraud", reason="again", to=2)


def test_rollback_keep_and_the_candidate_after_it(project: Project) -> None:
    promoted_twice(project)
    result = project.registry.rollback("fraud", reason="drill", keep=True)
    assert not result.quarantined
    candidate = project.registry.rollback_candidate("fraud")
    assert candidate.version == 2 and "promoted by a passing verdict (" in candidate.reasons[2]
    assert [event.action for event in project.registry.audit("fraud")][-1] == "rollback"


def test_rollback_candidate_skips_a_corrupted_artifact(project: Project) -> None:
    promoted_twice(project)
    project.corrupt(b"one")
    assert project.registry.rollback_candidate("fraud") is None
    passed_over = project.registry.describe("fraud")["passed_over"]
    assert passed_over[0]["version"] == 1 and passed_over[0]["problems"][0].startswith("artifact corrupted")
    with pytest.raises(ActionRefused, match="no rollback candidate .*fraud@1: artifact corrupted"):
        project.registry.rollback("fraud", reason="alerts")
    assert project.registry.resolve("fraud@production").version == 2


def test_rollback_to_an_earlier_version(project: Project) -> None:
    promoted_twice(project)
    project.register(b"three")
    project.approve_all("fraud@3")
    assert project.registry.promote("fraud@3", verdict=project.verdict(b"three", b"two", version=2)).promoted
    assert project.registry.rollback_candidate("fraud").version == 2
    result = project.registry.rollback("fraud", reason="regression", to=1)
    assert result.to_version == 1
    with pytest.raises(RegistryError, match="no such version 9"):
        project.registry.rollback("fraud", reason="x", to=9)
    with pytest.raises(ActionRefused, match="it is the production version"):
        project.registry.rollback("fraud", reason="x", to=1)


def test_rollback_refusals(project: Project) -> None:
    project.register(b"one")
    with pytest.raises(ActionRefused, match="cannot roll back fraud: it has no production version"):
        project.registry.rollback("fraud", reason="x")
    project.register(b"two")
    project.approve_all("fraud@2")
    project.registry.promote("fraud@2", initial=True)
    with pytest.raises(ActionRefused, match="no version was in production before fraud@2"):
        project.registry.rollback("fraud", reason="x")
    with pytest.raises(ActionRefused, match="fraud@1: it was never promoted"):
        project.registry.rollback("fraud", reason="x", to=1)
    with pytest.raises(RegistryError, match="reason: expected non-empty text"):
        project.registry.rollback("fraud", reason=" ")


def test_archive_and_quarantine(project: Project) -> None:
    project.first_in_production(b"one")
    project.register(b"two")
    for action in (project.registry.archive, lambda ref, **kw: project.registry.quarantine(ref, reason="r", **kw)):
        with pytest.raises(ActionRefused, match="cannot .* fraud@1: it is in production"):
            action("fraud@1")
    assert project.registry.archive("fraud@2", by="ops").state == "archived"
    with pytest.raises(ActionRefused, match="archived already"):
        project.registry.archive("fraud@2")
    # archived versions cannot be approved (see test_approve_refusals) nor promoted
    result = project.registry.promote("fraud@2", initial=False, verdict=project.verdict(b"two", b"one", version=1))
    assert result.unmet[0].message == "fraud@2 is archived; it can never be promoted"
    assert project.registry.quarantine("fraud@2", reason="pii in features").state == "quarantined"
    with pytest.raises(ActionRefused, match="quarantined already"):
        project.registry.archive("fraud@2")


# --- model cards ------------------------------------------------------------------------------


def test_card_merges_metadata_over_config_and_shows_evidence(project: Project) -> None:
    project.registry.register(
        "fraud", project.model(b"one"), metadata={"intended_use": "batch scoring", "owners": "ana, ben"}, git_commit="c" * 40
    )
    project.registry.approve("fraud@1", "risk", by="carol", verdict=project.verdict(b"one", None, file="a.json"))
    later = project.verdict(b"one", None, file="b.json", created_at="2024-06-08T00:00:00Z")
    project.registry.approve("fraud@1", "ml-lead", by="dave", verdict=later)
    card = project.registry.card("fraud@1")
    assert card["identity"]["git_commit"] == "c" * 40 and card["identity"]["state"] == "approved"
    assert card["fields"]["intended_use"] == "batch scoring"  # the version's own metadata wins
    assert card["fields"]["limitations"] == "EU data only"  # promote.yaml's card: section fills the rest
    assert card["fields"]["owners"] == ["ana", "ben"] and card["missing_required"] == []
    evidence = card["evaluation"]
    assert evidence["created_at"] == "2024-06-08T00:00:00Z"  # the latest stored verdict for these bytes
    assert evidence["gates"] == [{
        "id": "tests/test_release.py::test_accuracy", "kind": "quality", "metric": "accuracy", "candidate": 0.91,
        "baseline": 0.88, "delta": 0.03, "ci_low": 0.01, "ci_high": 0.05, "outcome": "passed",
    }]
    assert card["data_lineage"] == [{"name": "holdout", "path": "data/holdout.csv", "sha256": "cd" * 32, "rows": 2000}]
    assert [item["role"] for item in card["approvals"]] == ["risk", "ml-lead"]
    assert [event["action"] for event in card["history"]] == ["register", "approve", "approve"]
    text = render_markdown(card)
    for heading in ("# Model card: fraud@1", "## Intended use", "## Out-of-scope uses", "## Known biases", "## Safety mitigations",
                    "## Evaluation evidence", "## Data lineage", "## Approvals", "## Lifecycle history"):
        assert heading in text
    assert "| tests/test_release.py::test_accuracy | quality | accuracy | 0.9100 | 0.8800 | 0.0300 | 0.0100 | 0.0500 | passed |" in text


def test_card_without_evidence_lists_missing_fields(tmp_path: Path) -> None:
    project = Project(tmp_path, Policy())
    project.register(b"one")
    card = project.registry.card("fraud@1")
    assert card["evaluation"] is None and card["data_lineage"] == []
    assert card["missing_required"] == ["intended_use", "limitations", "owners"]
    assert "**incomplete**: required fields missing: intended_use, limitations, owners" in render_markdown(card)
    result = project.registry.promote("fraud@1", initial=True, dry_run=True)
    assert codes(result) == ["card_field"] * 3


# --- audit chain ------------------------------------------------------------------------------


def test_every_change_is_audited_and_the_chain_verifies(project: Project) -> None:
    promoted_twice(project)
    project.registry.move_alias("fraud@2", "staging", by="eve")
    project.registry.rollback("fraud", reason="test")
    actions = [event.action for event in project.registry.audit()]
    assert actions == [
        "register", "approve", "approve", "promote", "register", "approve", "approve", "promote", "alias", "rollback", "quarantine",
    ]
    events = project.registry.audit()
    assert [event.seq for event in events] == list(range(1, 12))
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(events, events[1:]))
    check = project.registry.verify_audit()
    assert check.ok and check.events == 11 and check.head == events[-1].hash


def test_edited_event_breaks_the_chain(project: Project) -> None:
    promoted_twice(project)
    project.sql("UPDATE events SET actor = 'mallory' WHERE seq = 3")
    check = project.registry.verify_audit()
    assert not check.ok and check.broken_at == 3
    assert check.problem == "event #3 (approve fraud@1): its content does not match its hash (the event was edited)"


def test_edited_detail_that_is_not_json_is_reported_not_raised(project: Project) -> None:
    promoted_twice(project)
    project.sql("UPDATE events SET detail = '{oops' WHERE seq = 2")
    check = project.registry.verify_audit()
    assert check.broken_at == 2 and "was edited" in check.problem


def test_deleted_event_breaks_the_chain(project: Project) -> None:
    promoted_twice(project)
    project.sql("DELETE FROM events WHERE seq = 4")
    check = project.registry.verify_audit()
    assert check.broken_at == 5 and check.problem == "event #5 (register fraud@2): event #4 before it is missing (deleted)"


def test_deleted_last_events_are_detected(project: Project) -> None:
    promoted_twice(project)
    project.sql("DELETE FROM events WHERE seq >= 7")
    check = project.registry.verify_audit()
    assert not check.ok and "the chain ends at event #6 but the recorded head is event #8" in check.problem


def test_rewritten_chain_suffix_is_detected(project: Project) -> None:
    promoted_twice(project)
    # delete an event and renumber the rest: the links still betray it
    project.sql("DELETE FROM events WHERE seq = 2")
    project.sql("UPDATE events SET seq = seq - 1 WHERE seq > 2")
    check = project.registry.verify_audit()
    assert check.broken_at == 2 and "link to the previous event does not match" in check.problem


def test_unknown_model_in_audit(project: Project) -> None:
    with pytest.raises(RegistryError, match="unknown model 'fraud' .*no models are registered"):
        project.registry.audit("fraud")
    assert project.registry.verify_audit().ok and project.registry.list_models() == []
