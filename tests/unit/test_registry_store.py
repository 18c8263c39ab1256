"""The content-addressed artifact store and name/reference parsing."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from pytest_promote.errors import RegistryError
from pytest_promote.registry.refs import ModelRef, check_name, parse_ref
from pytest_promote.registry.store import FileArtifactStore


def test_put_writes_read_only_file_under_its_hash(tmp_path: Path) -> None:
    source = tmp_path / "model.pkl"
    source.write_bytes(b"x" * (3 << 20))  # several copy blocks
    store = FileArtifactStore(tmp_path / "artifacts")
    artifact = store.put(source)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    assert (artifact.sha256, artifact.size) == (digest, 3 << 20)
    target = tmp_path / "artifacts" / "sha256" / digest[:2] / digest
    assert store.verified_path(digest) == target and target.read_bytes() == source.read_bytes()
    assert target.stat().st_mode & 0o222 == 0
    assert [path.name for path in target.parent.iterdir()] == [digest]  # no temporary file left behind
    assert store.put(source) == artifact  # idempotent


def test_every_read_rehashes(tmp_path: Path) -> None:
    source = tmp_path / "model.pkl"
    source.write_bytes(b"model")
    store = FileArtifactStore(tmp_path / "artifacts")
    digest = store.put(source).sha256
    target = store.path(digest)
    os.chmod(target, 0o644)
    target.write_bytes(b"mode1")  # same size, other bytes
    assert store.problem(digest).startswith(f"artifact corrupted: {target} now hashes to sha256 ")
    with pytest.raises(RegistryError, match="artifact corrupted"):
        store.verified_path(digest)
    target.unlink()
    assert store.problem(digest) == f"artifact missing: {target} does not exist"
    assert store.put(source).sha256 == digest and store.problem(digest) is None  # put repairs it


@pytest.mark.parametrize("digest", ["../../etc/passwd", "AB" * 32, "ab" * 31, "ab" * 32 + "/x"])
def test_digests_cannot_address_other_files(tmp_path: Path, digest: str) -> None:
    with pytest.raises(RegistryError, match="invalid artifact digest"):
        FileArtifactStore(tmp_path).verified_path(digest)


def test_put_refuses_a_missing_source(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match=r"cannot register .*nope\.pkl: no such file"):
        FileArtifactStore(tmp_path).put(tmp_path / "nope.pkl")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("fraud", ModelRef("fraud")),
        ("fraud@3", ModelRef("fraud", version=3)),
        ("fraud@candidate", ModelRef("fraud", alias="candidate")),
        ("fraud-v2.1_x@my-alias.2", ModelRef("fraud-v2.1_x", alias="my-alias.2")),
        ("Fraud9@12", ModelRef("Fraud9", version=12)),
    ],
)
def test_parse_ref(text: str, expected: ModelRef) -> None:
    ref = parse_ref(text)
    assert ref == expected and str(ref) == text


@pytest.mark.parametrize(
    ("text", "selector", "message"),
    [
        ("fraud", "required", "expected NAME@VERSION or NAME@ALIAS"),
        ("fraud@3", "forbidden", "without '@'"),
        ("fraud@", "optional", "invalid alias ''"),
        ("fraud@01", "optional", "without leading zeros"),
        ("fraud@0", "optional", "numbered from 1"),
        ("fraud@a@b", "optional", "invalid alias 'a@b'"),
        ("@3", "optional", "invalid model name ''"),
        ("../x@1", "optional", "invalid model name '../x'"),
        ("fraud@.hidden", "optional", "invalid alias '.hidden'"),
        ("", "optional", "invalid model reference ''"),
    ],
)
def test_parse_ref_errors(text: str, selector: str, message: str) -> None:
    with pytest.raises(RegistryError, match=message.replace(".", r"\.").replace("(", r"\(")):
        parse_ref(text, selector=selector)


def test_check_name_names_the_kind() -> None:
    assert check_name("risk-team", "role") == "risk-team"
    with pytest.raises(RegistryError, match=r"invalid role 'a b': use letters, digits, '-', '_' and '\.' \(not first\)"):
        check_name("a b", "role")
