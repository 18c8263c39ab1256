"""promote.yaml: valid files become typed records; every invalid one is a ConfigError
naming the file, the key path and what was expected."""

from __future__ import annotations

import hashlib
import re
import textwrap
from datetime import datetime, timezone
from pathlib import Path

import pytest

from pytest_promote.config import (
    DEFAULT_ALPHA,
    DEFAULT_MEMORY_MB,
    DEFAULT_METHOD,
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    DEFAULT_CARD_REQUIRED,
    BootstrapConfig,
    CardConfig,
    DatasetSpec,
    ModelSpec,
    PromoteConfig,
    load_config,
    sha256_file,
)
from pytest_promote.contracts import ColumnRule, Contract, Freshness, contract_of
from pytest_promote.errors import ConfigError

PIN = "ab" * 32


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A folder with the files a config can point at; the config lives in conf/."""
    conf = tmp_path / "conf"
    (conf / "models").mkdir(parents=True)
    (conf / "data").mkdir()
    (conf / "models" / "cand.pkl").write_bytes(b"candidate bytes")
    (conf / "models" / "base.pkl").write_bytes(b"baseline bytes")
    (conf / "data" / "holdout.csv").write_text("a,b,label\n1,2,0\n3,4,1\n")
    (conf / "data" / "arrays.npz").write_bytes(b"not really npz; config does not parse it")
    (conf / "data" / "rows.jsonl").write_text('{"a": 1, "label": 0}\n')
    (conf / "data" / "notes.txt").write_text("x")
    return conf


def write(folder: Path, text: str) -> Path:
    path = folder / "promote.yaml"
    path.write_text(textwrap.dedent(text))
    return path


MINIMAL = """\
    version: 1
    models:
      candidate: {path: models/cand.pkl, sha256: "%s"}
      baseline: {path: models/base.pkl, sha256: "%s"}
""" % (PIN, PIN)


# --- valid configurations ----------------------------------------------------------------


def test_minimal_config_gets_documented_defaults(project: Path) -> None:
    path = write(project, MINIMAL)
    config = load_config(path)
    assert isinstance(config, PromoteConfig)
    assert config.version == 1
    assert config.seed == DEFAULT_SEED and isinstance(config.seed, int)
    assert config.alpha == DEFAULT_ALPHA == 0.05
    assert config.bootstrap == BootstrapConfig(resamples=DEFAULT_RESAMPLES, method=DEFAULT_METHOD)
    assert config.bootstrap.resamples == 10_000
    assert config.bootstrap.method == "bca"
    assert config.bootstrap.memory_mb == DEFAULT_MEMORY_MB == 256
    assert config.bootstrap.threads is None  # every core this process may use
    assert config.datasets == {}
    assert config.verdict is None
    assert config.path == path.resolve()
    assert config.base_dir == project.resolve()
    assert config.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_full_config_becomes_typed_records(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    upper_pin = ("0123456789ABCDEF" * 4)
    path = write(
        project,
        f"""\
        version: 1
        seed: 12345
        alpha: 0.1
        bootstrap: {{resamples: 2000, method: percentile}}
        models:
          candidate: {{path: models/cand.pkl, sha256: "{upper_pin}"}}
          baseline: {{loader: "mypkg.models:load_baseline"}}
        datasets:
          holdout: {{path: data/holdout.csv, target: label, features: [b], sha256: "{PIN}"}}
          arrays: {{path: data/arrays.npz}}
          rows: {{path: data/rows.jsonl, target: label}}
        verdict: out/verdict.json
        """,
    )
    # paths are relative to the config file, not to the working directory
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    config = load_config(path)

    assert config.seed == 12345
    assert config.alpha == 0.1 and isinstance(config.alpha, float)
    assert config.bootstrap == BootstrapConfig(resamples=2000, method="percentile")
    assert config.verdict == "out/verdict.json"

    candidate = config.models["candidate"]
    assert candidate == ModelSpec(
        role="candidate", path=(project / "models" / "cand.pkl").resolve(), sha256=upper_pin.lower()
    )
    assert candidate.sha256 == "0123456789abcdef" * 4  # lowercased
    assert candidate.source == str((project / "models" / "cand.pkl").resolve())

    baseline = config.models["baseline"]
    assert baseline.loader == "mypkg.models:load_baseline"
    assert baseline.path is None and baseline.sha256 is None
    assert baseline.config_dir == project.resolve()
    assert baseline.source == "loader:mypkg.models:load_baseline"

    assert config.datasets["holdout"] == DatasetSpec(
        name="holdout", path=(project / "data" / "holdout.csv").resolve(), target="label", sha256=PIN, features=("b",)
    )
    assert config.datasets["arrays"] == DatasetSpec(
        name="arrays", path=(project / "data" / "arrays.npz").resolve(), target=None
    )
    assert config.datasets["rows"].target == "label"
    assert config.datasets["rows"].features is None


@pytest.mark.parametrize(
    ("section", "memory_mb", "threads"),
    [
        ("{memory_mb: 512}", 512, None),
        ("{memory_mb: 16}", 16, None),
        ("{threads: auto}", 256, None),
        ("{threads: 1}", 256, 1),
        ("{threads: 8, memory_mb: 64}", 64, 8),
        ("{resamples: 2000, method: percentile, memory_mb: 1024, threads: 2}", 1024, 2),
    ],
)
def test_bootstrap_memory_and_threads(project: Path, section: str, memory_mb: int, threads: int | None) -> None:
    config = load_config(write(project, with_models(f"bootstrap: {section}")))
    assert config.bootstrap.memory_mb == memory_mb and isinstance(config.bootstrap.memory_mb, int)
    assert config.bootstrap.threads == threads


def test_unpinned_model_path_is_valid_config(project: Path) -> None:
    # refusing an unpinned pickle is the loader's job (with the actual hash), not the config's
    path = write(project, "version: 1\nmodels:\n  candidate: {path: models/cand.pkl}\n  baseline: {path: models/base.pkl}\n")
    assert load_config(path).models["candidate"].sha256 is None


def test_registry_approvals_and_card_sections(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(
        project,
        f"""\
        version: 1
        models:
          candidate: {{registry: "fraud@candidate"}}
          baseline: {{registry: "fraud@3", sha256: "{PIN.upper()}"}}
        registry: {{path: store/registry.db}}
        approvals: {{required: [risk, ml-lead]}}
        card:
          intended_use: "  Scoring card transactions.  "
          out_of_scope: Credit decisions.
          limitations: EU data only.
          known_biases: Under-represents new customers.
          safety_mitigations: Human review above 0.9.
          owners: [fraud-team, " ana "]
          required: [intended_use, owners, owners]
        """,
    )
    monkeypatch.chdir(tmp_path)
    config = load_config(path)
    assert config.models["candidate"] == ModelSpec(role="candidate", registry="fraud@candidate")
    assert config.models["candidate"].source == "registry:fraud@candidate"
    baseline = config.models["baseline"]
    assert (baseline.registry, baseline.sha256, baseline.path, baseline.loader) == ("fraud@3", PIN, None, None)
    assert baseline.source == "registry:fraud@3"
    assert config.registry_path == (project / "store" / "registry.db").resolve()  # relative to the config file
    assert config.required_approvals == ("risk", "ml-lead")
    assert config.card == CardConfig(
        intended_use="Scoring card transactions.", out_of_scope="Credit decisions.", limitations="EU data only.",
        known_biases="Under-represents new customers.", safety_mitigations="Human review above 0.9.",
        owners=("fraud-team", "ana"), required=("intended_use", "owners"),
    )


def test_registry_approvals_and_card_defaults(project: Path) -> None:
    config = load_config(write(project, MINIMAL))
    assert config.registry_path is None  # the plugin and CLI use .promote/registry.db under the rootdir
    assert config.required_approvals == ()
    assert config.card == CardConfig() and config.card.required == DEFAULT_CARD_REQUIRED == ("intended_use", "limitations", "owners")
    empty = load_config(write(project, with_models("registry: {}", "approvals: {}", "card: {required: []}")))
    assert (empty.registry_path, empty.required_approvals, empty.card.required) == (None, (), ())


def test_sha256_file_matches_hashlib(tmp_path: Path) -> None:
    blob = tmp_path / "blob"
    blob.write_bytes(b"x" * (3 << 20) + b"tail")  # several read blocks
    assert sha256_file(blob) == hashlib.sha256(blob.read_bytes()).hexdigest()


def test_dataset_contract_becomes_typed_rules(project: Path) -> None:
    path = write(
        project,
        with_models(
            "datasets:",
            "  holdout:",
            "    path: data/holdout.csv",
            "    target: label",
            "    schema:",
            "      age: {type: int, min: 18, max: 120.5}",
            "      plan: {type: str, allowed: [basic, pro]}",
            "      signup: {type: datetime, nullable: true, min: 2024-01-01, max: '2024-12-31T23:00:00+01:00'}",
            "      seen: {type: datetime, max: 2025-01-01 12:00:00}",
            "      customer_id: {type: str, unique: true}",
            "      score: {type: float, min: 0, max: 1, allowed: [0, 0.5, 1]}",
            "      active: {type: bool, allowed: [true]}",
            "      label: {type: int, allowed: [0, 1]}",
            "    rows: {min: 1000}",
            "    columns: exact",
        ),
    )
    contract = load_config(path).datasets["holdout"].contract
    assert isinstance(contract, Contract)
    assert (contract.rows_min, contract.rows_max, contract.columns) == (1000, None, "exact")
    rules = {rule.name: rule for rule in contract.schema}
    assert list(rules) == ["age", "plan", "signup", "seen", "customer_id", "score", "active", "label"]  # schema order
    assert rules["age"] == ColumnRule("age", "int", min=18, max=120.5)
    assert rules["plan"] == ColumnRule("plan", "str", allowed=("basic", "pro"))
    utc = timezone.utc
    assert rules["signup"] == ColumnRule(
        "signup", "datetime", min=datetime(2024, 1, 1, tzinfo=utc), max=datetime(2024, 12, 31, 22, tzinfo=utc), nullable=True
    )
    assert rules["seen"].max == datetime(2025, 1, 1, 12, tzinfo=utc)  # a YAML timestamp without zone is UTC
    assert rules["customer_id"] == ColumnRule("customer_id", "str", unique=True)
    assert rules["score"] == ColumnRule("score", "float", min=0, max=1, allowed=(0, 0.5, 1))
    assert rules["active"].allowed == (True,)
    assert rules["label"] == ColumnRule("label", "int", allowed=(0, 1))


def test_contract_defaults_and_rows_only(project: Path) -> None:
    lines = [
        "datasets:",
        "  a: {path: data/holdout.csv, target: label, schema: {a: {type: int}}}",
        "  b: {path: data/holdout.csv, target: label, rows: {max: 5}}",
        "  c: {path: data/holdout.csv, target: label}",
        "  d: {path: data/arrays.npz, schema: {x0: {type: float}, y: {type: int}}, columns: subset}",
    ]
    config = load_config(write(project, with_models(*lines)))
    a, b, c, d = (config.datasets[name] for name in "abcd")
    assert a.contract == Contract(schema=(ColumnRule("a", "int"),), columns="subset")
    assert a.contract.schema[0].nullable is False and a.contract.schema[0].unique is False
    assert b.contract == Contract(rows_max=5)
    assert c.contract is None and c.freshness is None
    assert [rule.name for rule in d.contract.schema] == ["x0", "y"]
    assert contract_of(a) is a.contract and contract_of(c) is None


def test_dataset_freshness(project: Path) -> None:
    lines = [
        "datasets:",
        "  a: {path: data/holdout.csv, target: label, max_age: 30d}",
        "  b: {path: data/holdout.csv, target: label, max_age: 1.5h, as_of: event_time, on_stale: warn}",
        "  c: {path: data/holdout.csv, target: label, max_age: 90m, on_stale: block}",
        "  d: {path: data/holdout.csv, target: label, max_age: 45s}",
    ]
    config = load_config(write(project, with_models(*lines)))
    specs = config.datasets
    assert specs["a"].freshness == Freshness(max_age="30d", max_age_seconds=30 * 86400.0, as_of=None, on_stale="block")
    assert specs["b"].freshness == Freshness(max_age="1.5h", max_age_seconds=5400.0, as_of="event_time", on_stale="warn")
    assert specs["c"].freshness.max_age_seconds == 5400.0 and specs["c"].freshness.on_stale == "block"
    assert specs["d"].freshness.max_age_seconds == 45.0
    assert specs["a"].contract is None


# --- invalid configurations ----------------------------------------------------------------

MODELS = f"""\
models:
  candidate: {{path: models/cand.pkl, sha256: "{PIN}"}}
  baseline: {{path: models/base.pkl, sha256: "{PIN}"}}
"""


def with_models(*lines: str) -> str:
    return "version: 1\n" + "".join(line + "\n" for line in lines) + MODELS


def models_doc(candidate: str, baseline: str = f'{{path: models/base.pkl, sha256: "{PIN}"}}') -> str:
    return f"version: 1\nmodels:\n  candidate: {candidate}\n  baseline: {baseline}\n"


def dataset_doc(spec: str) -> str:
    return with_models("datasets:", f"  holdout: {spec}")


def rules_doc(*lines: str) -> str:
    """A csv dataset with extra keys (contract, freshness), one per line."""
    return with_models("datasets:", "  holdout:", "    path: data/holdout.csv", "    target: label", *(f"    {line}" for line in lines))


INVALID = [
    # (id, document, key path, what the message must say was expected)
    ("unknown-top-level-key", with_models("colour: blue"), "colour", r"unknown key \(allowed: version, seed, alpha"),
    (
        "unknown-nested-key",
        models_doc(f'{{path: models/cand.pkl, sh256: "{PIN}"}}'),
        "models.candidate.sh256",
        r"unknown key \(allowed: path, sha256, loader, registry\)",
    ),
    ("unknown-bootstrap-key", with_models("bootstrap: {samples: 1000}"), "bootstrap.samples", "unknown key"),
    ("seed-string", with_models('seed: "x"'), "seed", "expected a non-negative integer, got 'x'"),
    ("seed-negative", with_models("seed: -1"), "seed", "expected a non-negative integer"),
    ("seed-bool", with_models("seed: true"), "seed", "expected a non-negative integer"),
    ("seed-float", with_models("seed: 1.5"), "seed", "expected a non-negative integer"),
    ("alpha-too-big", with_models("alpha: 0.7"), "alpha", "strictly between 0 and 0.5, got 0.7"),
    ("alpha-half", with_models("alpha: 0.5"), "alpha", "strictly between 0 and 0.5"),
    ("alpha-zero", with_models("alpha: 0"), "alpha", "strictly between 0 and 0.5"),
    ("alpha-bool", with_models("alpha: true"), "alpha", "strictly between 0 and 0.5, got True"),
    ("alpha-string", with_models('alpha: "0.05"'), "alpha", "strictly between 0 and 0.5"),
    ("resamples-float", with_models("bootstrap: {resamples: 10.5}"), "bootstrap.resamples", "integer >= 100, got 10.5"),
    ("resamples-too-few", with_models("bootstrap: {resamples: 50}"), "bootstrap.resamples", "integer >= 100, got 50"),
    ("resamples-bool", with_models("bootstrap: {resamples: true}"), "bootstrap.resamples", "integer >= 100"),
    ("bad-method", with_models("bootstrap: {method: bootstrap-t}"), "bootstrap.method", "expected one of percentile, bca"),
    ("bootstrap-not-mapping", with_models("bootstrap: 1000"), "bootstrap", "expected a mapping"),
    ("unknown-bootstrap-key-lists-new", with_models("bootstrap: {memory: 64}"), "bootstrap.memory", "allowed: resamples, method, memory_mb, threads"),
    ("memory-too-small", with_models("bootstrap: {memory_mb: 15}"), "bootstrap.memory_mb", r"expected an integer >= 16 \(MiB\), got 15"),
    ("memory-zero", with_models("bootstrap: {memory_mb: 0}"), "bootstrap.memory_mb", "integer >= 16"),
    ("memory-bool", with_models("bootstrap: {memory_mb: true}"), "bootstrap.memory_mb", "integer >= 16 \\(MiB\\), got True"),
    ("memory-string", with_models('bootstrap: {memory_mb: "256"}'), "bootstrap.memory_mb", "got '256'"),
    ("memory-float", with_models("bootstrap: {memory_mb: 256.0}"), "bootstrap.memory_mb", "got 256.0"),
    ("memory-null", with_models("bootstrap: {memory_mb: null}"), "bootstrap.memory_mb", "got None"),
    ("threads-zero", with_models("bootstrap: {threads: 0}"), "bootstrap.threads", "expected 'auto' or a positive integer, got 0"),
    ("threads-negative", with_models("bootstrap: {threads: -2}"), "bootstrap.threads", "positive integer, got -2"),
    ("threads-string", with_models('bootstrap: {threads: "2"}'), "bootstrap.threads", "positive integer, got '2'"),
    ("threads-bool", with_models("bootstrap: {threads: true}"), "bootstrap.threads", "positive integer, got True"),
    ("threads-other-word", with_models("bootstrap: {threads: all}"), "bootstrap.threads", "positive integer, got 'all'"),
    ("threads-null", with_models("bootstrap: {threads: null}"), "bootstrap.threads", "positive integer, got None"),
    ("threads-float", with_models("bootstrap: {threads: 2.0}"), "bootstrap.threads", "positive integer, got 2.0"),
    ("version-2", "version: 2\n" + MODELS, "version", "expected 1"),
    ("version-string", 'version: "1"\n' + MODELS, "version", "expected 1"),
    ("version-bool", "version: true\n" + MODELS, "version", "expected 1"),
    ("version-missing", MODELS, "version", "required key is missing"),
    ("models-missing", "version: 1\n", "models", "required key is missing"),
    ("models-not-mapping", "version: 1\nmodels: [a, b]\n", "models", "expected a mapping"),
    (
        "baseline-missing",
        f'version: 1\nmodels:\n  candidate: {{path: models/cand.pkl, sha256: "{PIN}"}}\n',
        "models.baseline",
        "required key is missing",
    ),
    ("unknown-role", MODELS.replace("models:\n", "version: 1\nmodels:\n  champion: {path: x}\n"), "models.champion", "unknown key"),
    (
        "model-file-missing",
        models_doc(f'{{path: models/nope.pkl, sha256: "{PIN}"}}'),
        "models.candidate.path",
        "file not found",
    ),
    ("model-path-not-string", models_doc("{path: 3}"), "models.candidate.path", "expected a file path"),
    ("sha256-63-chars", models_doc(f'{{path: models/cand.pkl, sha256: "{PIN[:63]}"}}'), "models.candidate.sha256", "64 hexadecimal"),
    ("sha256-65-chars", models_doc(f'{{path: models/cand.pkl, sha256: "{PIN}0"}}'), "models.candidate.sha256", "64 hexadecimal"),
    ("sha256-non-hex", models_doc('{path: models/cand.pkl, sha256: "' + "g" * 64 + '"}'), "models.candidate.sha256", "64 hexadecimal"),
    ("sha256-not-string", models_doc("{path: models/cand.pkl, sha256: 12}"), "models.candidate.sha256", "64 hexadecimal"),
    (
        "both-path-and-loader",
        models_doc('{path: models/cand.pkl, loader: "m:f"}'),
        "models.candidate",
        r"exactly one of 'path' \(a model file\), 'loader' \('module:callable'\) or 'registry'",
    ),
    ("neither-path-nor-loader", models_doc("{}"), "models.candidate", r"exactly one of 'path' \(a model file\), 'loader'"),
    ("model-not-mapping", models_doc("models/cand.pkl"), "models.candidate", "expected a mapping"),
    (
        "loader-with-sha256",
        models_doc(f'{{loader: "m:f", sha256: "{PIN}"}}'),
        "models.candidate.sha256",
        "only a 'path' or 'registry' model can be pinned",
    ),
    ("loader-without-colon", models_doc('{loader: "mypkg.models.load"}'), "models.candidate.loader", "expected 'module:callable'"),
    ("loader-two-colons", models_doc('{loader: "a:b:c"}'), "models.candidate.loader", "expected 'module:callable'"),
    ("loader-empty-callable", models_doc('{loader: "mypkg:"}'), "models.candidate.loader", "expected 'module:callable'"),
    ("loader-not-string", models_doc("{loader: 5}"), "models.candidate.loader", "expected 'module:callable'"),
    ("dataset-unsupported-extension", dataset_doc("{path: data/notes.txt, target: label}"), "datasets.holdout.path", "unsupported format '.txt'"),
    ("dataset-missing-file", dataset_doc("{path: data/nope.csv, target: label}"), "datasets.holdout.path", "file not found"),
    ("dataset-no-path", dataset_doc("{target: label}"), "datasets.holdout.path", "required key is missing"),
    ("csv-without-target", dataset_doc("{path: data/holdout.csv}"), "datasets.holdout.target", "expected the name of the label column"),
    ("jsonl-without-target", dataset_doc("{path: data/rows.jsonl}"), "datasets.holdout.target", "expected the name of the label column"),
    ("csv-target-not-string", dataset_doc("{path: data/holdout.csv, target: 3}"), "datasets.holdout.target", "expected the name of the label column"),
    ("npz-with-target", dataset_doc("{path: data/arrays.npz, target: label}"), "datasets.holdout.target", "not used for .npz"),
    ("npz-with-features", dataset_doc("{path: data/arrays.npz, features: [a]}"), "datasets.holdout.features", "not used for .npz"),
    ("dataset-unknown-key", dataset_doc("{path: data/holdout.csv, target: label, label: y}"), "datasets.holdout.label", "unknown key"),
    ("dataset-bad-sha256", dataset_doc('{path: data/holdout.csv, target: label, sha256: "abc"}'), "datasets.holdout.sha256", "64 hexadecimal"),
    ("features-not-list", dataset_doc("{path: data/holdout.csv, target: label, features: a}"), "datasets.holdout.features", "non-empty list"),
    ("features-empty", dataset_doc("{path: data/holdout.csv, target: label, features: []}"), "datasets.holdout.features", "non-empty list"),
    ("features-include-target", dataset_doc("{path: data/holdout.csv, target: label, features: [a, label]}"), "datasets.holdout.features", "cannot also be a feature"),
    ("datasets-not-mapping", with_models("datasets: [holdout]"), "datasets", "expected a mapping"),
    ("verdict-not-string", with_models("verdict: 5"), "verdict", "expected a file path"),
    ("verdict-blank", with_models('verdict: "  "'), "verdict", "expected a file path"),
    # the registry, approvals and model-card sections
    ("registry-and-path", models_doc('{path: models/cand.pkl, registry: "fraud@1"}'), "models.candidate", "exactly one of"),
    ("registry-and-loader", models_doc('{loader: "m:f", registry: "fraud@1"}'), "models.candidate", "exactly one of"),
    ("registry-without-selector", models_doc('{registry: "fraud"}'), "models.candidate.registry", "expected NAME@VERSION or NAME@ALIAS"),
    ("registry-bad-name", models_doc('{registry: "../x@1"}'), "models.candidate.registry", r"invalid model name '\.\./x'"),
    ("registry-version-zero", models_doc('{registry: "fraud@0"}'), "models.candidate.registry", "numbered from 1"),
    ("registry-not-string", models_doc("{registry: 3}"), "models.candidate.registry", r"expected 'name@alias' or 'name@version'"),
    ("registry-bad-pin", models_doc('{registry: "fraud@1", sha256: "abc"}'), "models.candidate.sha256", "64 hexadecimal"),
    ("registry-section-not-mapping", with_models("registry: .promote/r.db"), "registry", "expected a mapping"),
    ("registry-unknown-key", with_models("registry: {url: x}"), "registry.url", r"unknown key \(allowed: path\)"),
    ("registry-path-blank", with_models('registry: {path: " "}'), "registry.path", "expected a file path"),
    ("registry-path-number", with_models("registry: {path: 3}"), "registry.path", "expected a file path"),
    ("approvals-not-mapping", with_models("approvals: [risk]"), "approvals", "expected a mapping"),
    ("approvals-unknown-key", with_models("approvals: {roles: [risk]}"), "approvals.roles", "unknown key"),
    ("approvals-not-list", with_models("approvals: {required: risk}"), "approvals.required", "expected a list of role names"),
    ("approvals-role-number", with_models("approvals: {required: [3]}"), "approvals.required", "expected role names, got int 3"),
    ("approvals-role-invalid", with_models('approvals: {required: ["risk team"]}'), "approvals.required", "invalid role 'risk team'"),
    ("approvals-role-twice", with_models("approvals: {required: [risk, risk]}"), "approvals.required", "a role is listed twice"),
    ("card-not-mapping", with_models("card: text"), "card", "expected a mapping"),
    ("card-unknown-key", with_models("card: {purpose: x}"), "card.purpose", r"unknown key \(allowed: intended_use, out_of_scope"),
    ("card-text-blank", with_models('card: {intended_use: " "}'), "card.intended_use", "expected non-empty text"),
    ("card-text-list", with_models("card: {limitations: [a]}"), "card.limitations", "expected non-empty text"),
    ("card-owners-string", with_models("card: {owners: ana}"), "card.owners", "expected a list of owner names"),
    ("card-owners-blank", with_models('card: {owners: [""]}'), "card.owners", "expected a list of owner names"),
    ("card-required-string", with_models("card: {required: owners}"), "card.required", "expected a list of card fields"),
    ("card-required-unknown", with_models("card: {required: [purpose]}"), "card.required", "unknown card field 'purpose'"),
    # contracts and freshness
    ("schema-not-mapping", rules_doc("schema: [a]"), "datasets.holdout.schema", "expected a mapping of column names to their rules"),
    ("schema-empty", rules_doc("schema: {}"), "datasets.holdout.schema", "expected a mapping of column names"),
    ("schema-column-number", rules_doc("schema: {1: {type: int}}"), "datasets.holdout.schema", r"column names are strings \(quote 1\)"),
    ("schema-rules-not-mapping", rules_doc("schema: {a: int}"), "datasets.holdout.schema.a", "expected a mapping, got str 'int'"),
    ("schema-rules-empty", rules_doc("schema: {a: }"), "datasets.holdout.schema.a", "expected a mapping, got nothing"),
    ("schema-type-missing", rules_doc("schema: {a: {min: 1}}"), "datasets.holdout.schema.a.type", "required key is missing"),
    ("schema-type-unknown", rules_doc("schema: {a: {type: integer}}"), "datasets.holdout.schema.a.type", "expected one of int, float, str, bool, datetime, got str 'integer'"),
    ("schema-unknown-rule", rules_doc("schema: {a: {type: int, minimum: 1}}"), "datasets.holdout.schema.a.minimum", r"unknown key \(allowed: type, min, max, allowed, nullable, unique\)"),
    ("schema-nullable-string", rules_doc('schema: {a: {type: int, nullable: "yes"}}'), "datasets.holdout.schema.a.nullable", "expected true or false, got str 'yes'"),
    ("schema-unique-number", rules_doc("schema: {a: {type: int, unique: 1}}"), "datasets.holdout.schema.a.unique", "expected true or false, got int 1"),
    ("schema-min-string", rules_doc('schema: {a: {type: int, min: "18"}}'), "datasets.holdout.schema.a.min", "expected a finite number, got str '18'"),
    ("schema-max-bool", rules_doc("schema: {a: {type: float, max: true}}"), "datasets.holdout.schema.a.max", "expected a finite number, got bool True"),
    ("schema-max-nan", rules_doc("schema: {a: {type: float, max: .nan}}"), "datasets.holdout.schema.a.max", "expected a finite number"),
    ("schema-min-above-max", rules_doc("schema: {a: {type: int, min: 10, max: 5}}"), "datasets.holdout.schema.a.min", "min 10 is greater than max 5"),
    ("schema-min-on-str", rules_doc("schema: {a: {type: str, min: a}}"), "datasets.holdout.schema.a.min", "applies to int, float and datetime columns, not str"),
    ("schema-max-on-bool", rules_doc("schema: {a: {type: bool, max: true}}"), "datasets.holdout.schema.a.max", "not bool"),
    ("schema-datetime-min-not-date", rules_doc('schema: {a: {type: datetime, min: "yesterday"}}'), "datasets.holdout.schema.a.min", "expected an ISO 8601 datetime"),
    ("schema-datetime-min-above-max", rules_doc('schema: {a: {type: datetime, min: "2024-02-01", max: "2024-01-01T00:00:00Z"}}'), "datasets.holdout.schema.a.min", "min 2024-02-01 is greater than max"),
    ("schema-allowed-not-list", rules_doc("schema: {a: {type: str, allowed: basic}}"), "datasets.holdout.schema.a.allowed", "expected a non-empty list of str values"),
    ("schema-allowed-empty", rules_doc("schema: {a: {type: str, allowed: []}}"), "datasets.holdout.schema.a.allowed", "non-empty list"),
    ("schema-allowed-wrong-type", rules_doc("schema: {a: {type: int, allowed: [0, '1']}}"), "datasets.holdout.schema.a.allowed", "expected an integer, got str '1'"),
    ("schema-allowed-float-for-int", rules_doc("schema: {a: {type: int, allowed: [0, 1.5]}}"), "datasets.holdout.schema.a.allowed", "expected an integer, got float 1.5"),
    ("schema-allowed-bool-for-int", rules_doc("schema: {a: {type: int, allowed: [0, true]}}"), "datasets.holdout.schema.a.allowed", "expected an integer, got bool True"),
    ("schema-allowed-number-for-str", rules_doc("schema: {a: {type: str, allowed: [basic, 3]}}"), "datasets.holdout.schema.a.allowed", "expected a string, got int 3"),
    ("schema-allowed-number-for-bool", rules_doc("schema: {a: {type: bool, allowed: [1]}}"), "datasets.holdout.schema.a.allowed", "expected true or false, got int 1"),
    ("schema-allowed-twice", rules_doc("schema: {a: {type: str, allowed: [x, x]}}"), "datasets.holdout.schema.a.allowed", "a value is listed twice"),
    ("rows-not-mapping", rules_doc("rows: 1000"), "datasets.holdout.rows", "expected a mapping"),
    ("rows-empty", rules_doc("rows: {}"), "datasets.holdout.rows", "at least one of 'min' and 'max'"),
    ("rows-unknown-key", rules_doc("rows: {minimum: 3}"), "datasets.holdout.rows.minimum", r"unknown key \(allowed: min, max\)"),
    ("rows-negative", rules_doc("rows: {min: -1}"), "datasets.holdout.rows.min", r"an integer >= 0\), got int -1"),
    ("rows-float", rules_doc("rows: {max: 10.5}"), "datasets.holdout.rows.max", "got float 10.5"),
    ("rows-min-above-max", rules_doc("rows: {min: 10, max: 5}"), "datasets.holdout.rows", "min 10 is greater than max 5"),
    ("columns-unknown-mode", rules_doc("schema: {a: {type: int}}", "columns: all"), "datasets.holdout.columns", "expected one of subset, exact, got str 'all'"),
    ("columns-without-schema", rules_doc("columns: exact"), "datasets.holdout.columns", "needs a 'schema'"),
    ("max-age-number", rules_doc("max_age: 30"), "datasets.holdout.max_age", r"expected a positive number followed by a unit s, m, h or d \(e.g. '30d', '12h'\), got 30"),
    ("max-age-no-unit", rules_doc('max_age: "30"'), "datasets.holdout.max_age", "got '30'"),
    ("max-age-unknown-unit", rules_doc("max_age: 2w"), "datasets.holdout.max_age", "got '2w'"),
    ("max-age-zero", rules_doc("max_age: 0d"), "datasets.holdout.max_age", "a positive number"),
    ("max-age-negative", rules_doc("max_age: -1d"), "datasets.holdout.max_age", "got '-1d'"),
    ("max-age-space", rules_doc('max_age: "30 d"'), "datasets.holdout.max_age", "got '30 d'"),
    ("max-age-uppercase", rules_doc("max_age: 30D"), "datasets.holdout.max_age", "got '30D'"),
    ("as-of-without-max-age", rules_doc("as_of: event_time"), "datasets.holdout.as_of", "needs 'max_age'"),
    ("on-stale-without-max-age", rules_doc("on_stale: warn"), "datasets.holdout.on_stale", "needs 'max_age'"),
    ("as-of-not-string", rules_doc("max_age: 1d", "as_of: 3"), "datasets.holdout.as_of", "expected the name of a datetime column, got int 3"),
    ("on-stale-unknown", rules_doc("max_age: 1d", "on_stale: ignore"), "datasets.holdout.on_stale", "expected one of block, warn, got str 'ignore'"),
]


@pytest.mark.parametrize(("document", "key", "expected"), [case[1:] for case in INVALID], ids=[case[0] for case in INVALID])
def test_invalid_config_names_file_key_and_expectation(project: Path, document: str, key: str, expected: str) -> None:
    path = write(project, document)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    error = info.value
    message = str(error)
    assert str(path) in message, message
    assert error.key == key, message
    assert f": {key}: " in message, message
    assert re.search(expected, message), message
    assert error.config_path == str(path)
    assert error.code == "config_error"


def test_invalid_yaml_names_line_and_column(project: Path) -> None:
    path = write(project, "version: 1\nseed: 1\nalpha: : :\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert str(path) in message
    assert "invalid YAML at line 3, column 8" in message, message
    assert info.value.__cause__ is None and info.value.__suppress_context__  # no chained YAML traceback


def test_empty_file(project: Path) -> None:
    path = write(project, "")
    with pytest.raises(ConfigError, match="empty") as info:
        load_config(path)
    assert str(path) in str(info.value)
    assert "'version'" in str(info.value) and "'models'" in str(info.value)


def test_comment_only_file_is_empty(project: Path) -> None:
    path = write(project, "# nothing here yet\n")
    with pytest.raises(ConfigError, match="empty"):
        load_config(path)


@pytest.mark.parametrize("document", ["- version\n- 1\n", "just a string\n", "42\n"])
def test_top_level_must_be_mapping(project: Path, document: str) -> None:
    path = write(project, document)
    with pytest.raises(ConfigError, match="expected a mapping") as info:
        load_config(path)
    assert str(path) in str(info.value)


def test_missing_config_file(tmp_path: Path) -> None:
    path = tmp_path / "promote.yaml"
    with pytest.raises(ConfigError, match="file not found") as info:
        load_config(path)
    assert str(path) in str(info.value)
    assert "--promote-config" in str(info.value)


def test_config_error_message_format() -> None:
    assert str(ConfigError("/x/promote.yaml", "models.candidate.sha256", "expected 64 hex")) == (
        "/x/promote.yaml: models.candidate.sha256: expected 64 hex"
    )
    assert str(ConfigError("/x/promote.yaml", None, "invalid YAML")) == "/x/promote.yaml: invalid YAML"
