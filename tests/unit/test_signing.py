"""Signed verdicts: canonical JSON, digest, HMAC signature, key from the environment."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from pytest_promote.errors import ConfigError
from pytest_promote.verdict import canonical_json, sign_verdict, signing_key_from_env, verdict_digest, verify_signature

VERDICT = {"decision": "promote", "candidate": {"sha256": "ab" * 32, "source": "m.pkl"}, "gates": [{"id": "t::ü", "delta": 0.5}]}
KEY = b"secret key"


def test_canonical_json_is_sorted_compact_utf8_without_signature() -> None:
    signed = {**VERDICT, "signature": {"algorithm": "hmac-sha256", "value": "00"}}
    text = canonical_json(signed)
    assert text == json.dumps(VERDICT, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    assert b'"signature"' not in text and "ü".encode() in text
    assert text.startswith(b'{"candidate":{"sha256":')


def test_canonical_json_refuses_nan() -> None:
    with pytest.raises(ValueError):
        canonical_json({"delta": float("nan")})


def test_digest_ignores_signature_and_key_order() -> None:
    reordered = dict(reversed(list(VERDICT.items())))
    assert verdict_digest(VERDICT) == verdict_digest(reordered) == hashlib.sha256(canonical_json(VERDICT)).hexdigest()
    assert verdict_digest(sign_verdict(VERDICT, KEY)) == verdict_digest(VERDICT)


def test_sign_returns_a_signed_copy_that_verifies() -> None:
    signed = sign_verdict(VERDICT, KEY)
    assert "signature" not in VERDICT  # the input is untouched
    assert signed["signature"] == {
        "algorithm": "hmac-sha256",
        "value": hmac.new(KEY, canonical_json(VERDICT), hashlib.sha256).hexdigest(),
    }
    assert verify_signature(signed, KEY)
    assert verify_signature(json.loads(json.dumps(signed)), KEY)  # survives a round trip through a file
    assert sign_verdict(signed, KEY) == signed  # re-signing replaces, never nests


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda v: v.update(decision="block"), id="edited-field"),
        pytest.param(lambda v: v["candidate"].update(sha256="cd" * 32), id="edited-nested"),
        pytest.param(lambda v: v.update(extra=1), id="added-field"),
        pytest.param(lambda v: v.pop("signature"), id="unsigned"),
        pytest.param(lambda v: v.update(signature="deadbeef"), id="signature-not-object"),
        pytest.param(lambda v: v["signature"].update(algorithm="md5"), id="other-algorithm"),
        pytest.param(lambda v: v["signature"].update(value=None), id="value-missing"),
        pytest.param(lambda v: v["signature"].update(value="0" * 64), id="wrong-value"),
        pytest.param(lambda v: v.update(delta=float("nan")), id="nan"),
    ],
)
def test_any_change_breaks_the_signature(tamper) -> None:
    signed = json.loads(json.dumps(sign_verdict(VERDICT, KEY)))
    tamper(signed)
    assert not verify_signature(signed, KEY)


def test_other_key_does_not_verify() -> None:
    assert not verify_signature(sign_verdict(VERDICT, KEY), b"other key")


def test_uppercase_hex_signature_verifies() -> None:
    signed = sign_verdict(VERDICT, KEY)
    signed["signature"]["value"] = signed["signature"]["value"].upper()
    assert verify_signature(signed, KEY)


def test_signing_key_from_env() -> None:
    assert signing_key_from_env({}) is None
    assert signing_key_from_env({"PROMOTE_SIGNING_KEY": "s3cret"}) == b"s3cret"
    assert signing_key_from_env({"PROMOTE_SIGNING_KEY": "clé"}) == "clé".encode("utf-8")
    with pytest.raises(ConfigError, match="PROMOTE_SIGNING_KEY: is set but empty"):
        signing_key_from_env({"PROMOTE_SIGNING_KEY": "  "})
