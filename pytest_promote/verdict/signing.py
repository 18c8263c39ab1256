"""Signed verdicts: an HMAC-SHA256 over the verdict's canonical JSON.

The registry refuses a promotion whose verdict does not carry a valid signature when
``PROMOTE_SIGNING_KEY`` is set, so a verdict edited by hand (``"decision": "promote"``)
cannot pass for one the plugin wrote.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Mapping

from ..errors import ConfigError

__all__ = [
    "SIGNATURE_ALGORITHM",
    "SIGNING_KEY_VARIABLE",
    "canonical_json",
    "verdict_digest",
    "sign_verdict",
    "verify_signature",
    "signing_key_from_env",
]

SIGNATURE_ALGORITHM = "hmac-sha256"
SIGNING_KEY_VARIABLE = "PROMOTE_SIGNING_KEY"


def canonical_json(verdict: Mapping) -> bytes:
    """The bytes that are signed and hashed: sorted keys, no spaces, UTF-8, no ``signature``.

    Raises ``ValueError`` for NaN or infinity, which have no JSON form.
    """
    unsigned = {key: value for key, value in verdict.items() if key != "signature"}
    text = json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.encode("utf-8")


def verdict_digest(verdict: Mapping) -> str:
    """sha256 (hex) of :func:`canonical_json`: the verdict's identity, signed or not."""
    return hashlib.sha256(canonical_json(verdict)).hexdigest()


def sign_verdict(verdict: Mapping, key: bytes) -> dict:
    """A copy of ``verdict`` with ``"signature": {"algorithm": "hmac-sha256", "value": hex}``."""
    signed = {name: value for name, value in verdict.items() if name != "signature"}
    signed["signature"] = {"algorithm": SIGNATURE_ALGORITHM, "value": _mac(verdict, key)}
    return signed


def verify_signature(verdict: Mapping, key: bytes) -> bool:
    """True only for a well-formed ``hmac-sha256`` signature that matches ``key``."""
    signature = verdict.get("signature")
    if not isinstance(signature, Mapping) or signature.get("algorithm") != SIGNATURE_ALGORITHM:
        return False
    value = signature.get("value")
    if not isinstance(value, str):
        return False
    try:
        expected = _mac(verdict, key)
    except ValueError:  # NaN somewhere: no canonical form, so nothing can match
        return False
    return hmac.compare_digest(expected, value.lower())


def signing_key_from_env(environ: Mapping[str, str]) -> bytes | None:
    """The key in ``PROMOTE_SIGNING_KEY`` (UTF-8 bytes), or None when it is not set.

    A variable that is set but blank is an error, not "no key": whoever set it expects
    verdicts to be signed and checked.
    """
    value = environ.get(SIGNING_KEY_VARIABLE)
    if value is None:
        return None
    if not value.strip():
        raise ConfigError("environment", SIGNING_KEY_VARIABLE, "is set but empty; set it to a secret or unset it")
    return value.encode("utf-8")


def _mac(verdict: Mapping, key: bytes) -> str:
    return hmac.new(key, canonical_json(verdict), hashlib.sha256).hexdigest()
