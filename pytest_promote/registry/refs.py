"""Names and references: ``fraud``, ``fraud@3``, ``fraud@production``.

Model, alias and role names are restricted to letters, digits, ``-``, ``_`` and ``.``
(not leading), so no name can escape the artifact store or smuggle markup into output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import RegistryError

__all__ = ["MAX_NAME_LENGTH", "ModelRef", "check_name", "check_alias", "parse_ref"]

MAX_NAME_LENGTH = 128
_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")
_VERSION = re.compile(r"[1-9][0-9]*")


def check_name(value: str, what: str = "model name") -> str:
    """``value`` when it is a valid name; a RegistryError naming it and the rule otherwise."""
    if not isinstance(value, str) or not _NAME.fullmatch(value) or len(value) > MAX_NAME_LENGTH:
        raise RegistryError(
            f"invalid {what} {value!r}: use letters, digits, '-', '_' and '.' (not first), "
            f"at most {MAX_NAME_LENGTH} characters"
        )
    return value


def check_alias(value: str) -> str:
    check_name(value, "alias")
    if value.isdigit():
        raise RegistryError(f"invalid alias {value!r}: an alias of digits only would read as a version number")
    return value


@dataclass(frozen=True)
class ModelRef:
    """A model name with an optional selector: a version number or an alias, never both."""

    name: str
    version: int | None = None
    alias: str | None = None

    @property
    def selector(self) -> str | None:
        return str(self.version) if self.version is not None else self.alias

    def __str__(self) -> str:
        return self.name if self.selector is None else f"{self.name}@{self.selector}"


def parse_ref(text: str, *, selector: str = "optional") -> ModelRef:
    """Parse ``NAME``, ``NAME@VERSION`` or ``NAME@ALIAS``.

    ``selector`` is ``"optional"``, ``"required"`` (``NAME`` alone is an error) or
    ``"forbidden"`` (only ``NAME``).
    """
    if not isinstance(text, str) or not text:
        raise RegistryError(f"invalid model reference {text!r}: expected NAME, NAME@VERSION or NAME@ALIAS")
    name, at, chosen = text.partition("@")
    check_name(name)
    if not at:
        if selector == "required":
            raise RegistryError(f"invalid model reference {text!r}: expected NAME@VERSION or NAME@ALIAS (e.g. '{name}@3')")
        return ModelRef(name)
    if selector == "forbidden":
        raise RegistryError(f"invalid model reference {text!r}: expected a model name without '@'")
    if chosen.isdigit():
        if not _VERSION.fullmatch(chosen) or len(chosen) > 18:
            raise RegistryError(f"invalid model reference {text[:80]!r}: versions are numbered from 1, without leading zeros")
        return ModelRef(name, version=int(chosen))
    try:
        check_alias(chosen)
    except RegistryError as exc:
        raise RegistryError(f"invalid model reference {text!r}: {exc}") from None
    return ModelRef(name, alias=chosen)
