"""Model cards: what a version is for, what it is not for, and the evidence behind it."""

from __future__ import annotations

from ..config import CARD_FIELDS, CARD_TEXT_FIELDS, CardConfig
from .backend import VersionRecord

__all__ = ["card_fields", "missing_card_fields", "render_markdown"]

_TITLES = {
    "intended_use": "Intended use",
    "out_of_scope": "Out-of-scope uses",
    "limitations": "Limitations",
    "known_biases": "Known biases",
    "safety_mitigations": "Safety mitigations",
    "owners": "Owners",
}


def card_fields(record: VersionRecord, card: CardConfig) -> dict:
    """The card's descriptive fields: the version's metadata first, promote.yaml's ``card:`` second."""
    fields: dict = {}
    for name in CARD_TEXT_FIELDS:
        value = record.metadata.get(name)
        fields[name] = value.strip() if isinstance(value, str) and value.strip() else getattr(card, name)
    owners = record.metadata.get("owners")
    if isinstance(owners, str) and owners.strip():
        fields["owners"] = [owner.strip() for owner in owners.split(",") if owner.strip()]
    else:
        fields["owners"] = list(card.owners)
    return fields


def missing_card_fields(fields: dict, card: CardConfig) -> list[str]:
    return [name for name in card.required if not fields.get(name)]


def render_markdown(card: dict) -> str:
    identity = card["identity"]
    lines = [
        f"# Model card: {identity['name']}@{identity['version']}",
        "",
        f"- sha256: `{identity['sha256']}`",
        f"- file: `{identity['filename']}` ({identity['size_bytes']} bytes)",
        f"- git commit: {_code(identity['git_commit'])}",
        f"- registered: {identity['created_at']} by {identity['created_by']}",
        f"- state: {identity['state']}" + (f"; aliases: {', '.join(identity['aliases'])}" if identity["aliases"] else ""),
    ]
    if card["missing_required"]:
        lines.append(f"- **incomplete**: required fields missing: {', '.join(card['missing_required'])}")
    for name in CARD_FIELDS:
        value = card["fields"][name]
        lines += ["", f"## {_TITLES[name]}", ""]
        if name == "owners":
            lines += [f"- {owner}" for owner in value] or ["_not stated_"]
        else:
            lines.append(value or "_not stated_")
    lines += ["", "## Evaluation evidence", ""]
    evidence = card["evaluation"]
    if evidence is None:
        lines.append("_no stored verdict evaluated these bytes as the candidate_")
    else:
        signed = "signed" if evidence["signed"] else "unsigned"
        lines.append(f"Verdict `{evidence['digest']}` ({signed}, created {evidence['created_at'] or 'at an unknown time'}): decision **{evidence['decision']}**, "
                     f"baseline sha256 {_code(evidence['baseline_sha256'])}.")
        lines += ["", "| gate | kind | metric | candidate | baseline | delta | ci low | ci high | outcome |", "|---|---|---|---|---|---|---|---|---|"]
        for gate in evidence["gates"]:
            cells = [gate["id"], gate["kind"], gate["metric"], gate["candidate"], gate["baseline"], gate["delta"], gate["ci_low"], gate["ci_high"], gate["outcome"]]
            lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    lines += ["", "## Data lineage", ""]
    lines += [f"- {item['name']}: `{item['path']}`, sha256 {_code(item['sha256'])}, {item['rows']} rows" for item in card["data_lineage"]] or [
        "_no datasets recorded_"
    ]
    lines += ["", "## Approvals", ""]
    lines += [
        f"- {item['role']}: {item['approved_by']} at {item['approved_at']}" + (f" ({item['note']})" if item["note"] else "")
        for item in card["approvals"]
    ] or ["_none_"]
    if card["missing_roles"]:
        lines.append(f"- still missing: {', '.join(card['missing_roles'])}")
    lines += ["", "## Lifecycle history", ""]
    lines += [f"- #{event['seq']} {event['at']} {event['action']} by {event['actor']}" for event in card["history"]] or ["_none_"]
    return "\n".join(lines) + "\n"


def _code(value: object) -> str:
    return "_unknown_" if value is None else f"`{value}`"


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value).replace("|", "\\|")
