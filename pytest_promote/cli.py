"""``pytest-promote``: the model registry's command line.

Exit status: 0 success, 1 a refused action (unmet promotion conditions, a broken audit
chain), 2 a usage error (bad arguments, unknown model or version, invalid names, a bad
config). Every error is one line naming the object and the reason.

Registry backends come from the ``pytest_promote_registry_backend`` hook: the built-in
SQLite one, plus plugins declared in the ``pytest_promote.registry`` entry-point group.
That group, not ``pytest11``, because loading every pytest plugin would import unrelated
code (and pytest itself) into a command that runs no tests, and a broken unrelated plugin
could block the registry. A registry plugin that fails to load is an error, never skipped:
falling back to the local SQLite file would silently act on a different registry.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Callable, NoReturn, Sequence

import pluggy

from . import __version__, hookspecs
from .config import CONFIG_FILENAME, PromoteConfig, load_config
from .errors import ConfigError, RegistryError
from .registry import sqlite as builtin_backend
from .registry.backend import DEFAULT_REGISTRY_PATH, RegistryBackend, registry_path
from .registry.card import render_markdown
from .registry.lifecycle import ActionRefused, Policy, Promotion, Registry
from .registry.refs import parse_ref
from .verdict.envelope import git_state
from .verdict.signing import signing_key_from_env

__all__ = ["ENTRY_POINT_GROUP", "main", "open_backend"]

ENTRY_POINT_GROUP = "pytest_promote.registry"
PROG = "pytest-promote"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.handler(args)
    except ActionRefused as exc:
        print(f"{PROG} {args.command}: refused: {exc}", file=sys.stderr)
        return 1
    except (RegistryError, ConfigError) as exc:
        print(f"{PROG} {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"{PROG} {args.command}: error: {exc}", file=sys.stderr)
        return 1


def open_backend(path: Path) -> RegistryBackend:
    """The backend the first registry plugin offers for ``path`` (SQLite when none does)."""
    manager = pluggy.PluginManager("pytest")
    manager.add_hookspecs(hookspecs)
    manager.register(builtin_backend, name="pytest_promote.registry.sqlite")
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        try:
            manager.register(entry.load(), name=f"{ENTRY_POINT_GROUP}:{entry.name}")
        except Exception as exc:
            raise RegistryError(f"registry plugin {entry.name!r} ({entry.value}) cannot be loaded: {type(exc).__name__}: {exc}") from None
    try:
        backend = manager.hook.pytest_promote_registry_backend(path=path)
    except RegistryError:
        raise
    except Exception as exc:
        raise RegistryError(f"registry {path}: the backend failed to open it: {type(exc).__name__}: {exc}") from None
    if backend is None:
        raise RegistryError(f"registry {path}: no backend opened it")
    return backend


# --- commands --------------------------------------------------------------------------


def _register(args: argparse.Namespace) -> int:
    metadata = {}
    for item in args.meta:
        key, sep, value = item.partition("=")
        if not sep:
            raise RegistryError(f"--meta {item!r}: expected KEY=VALUE")
        metadata[key] = value
    git = git_state(Path.cwd())
    registry = _open(args)
    result = registry.register(
        args.name, Path(args.path), alias=args.alias, by=args.by, metadata=metadata, git_commit=git["commit"] if git else None
    )
    record = result.version
    if result.created:
        print(f"registered {record.ref} (sha256 {record.sha256}, {record.size} bytes, {record.filename})")
    else:
        print(f"{record.ref} already holds these bytes (sha256 {record.sha256}); nothing new registered")
    if args.alias is not None:
        print(_alias_line(args.alias, record.ref, result.alias_moved_from, record.version))
    return 0


def _list(args: argparse.Namespace) -> int:
    rows = _open(args).list_models()
    if args.json:
        return _print_json(rows)
    if not rows:
        print("no models registered")
        return 0
    table = [("model", "versions", "latest", "production", "aliases")]
    for row in rows:
        aliases = ", ".join(f"{alias}->{number}" for alias, number in row["aliases"].items()) or "-"
        production = row["production"]
        table.append((row["name"], str(row["versions"]), str(row["latest"]), "-" if production is None else str(production), aliases))
    _print_table(table)
    return 0


def _show(args: argparse.Namespace) -> int:
    registry = _open(args)
    ref = parse_ref(args.ref)
    if ref.selector is None:
        info = registry.describe(ref.name)
        if args.json:
            return _print_json(info)
        _print_model(info)
    else:
        info = registry.describe_version(ref)
        if args.json:
            return _print_json(info)
        _print_version(info)
    return 0


def _alias(args: argparse.Namespace) -> int:
    record, before = _open(args).move_alias(args.ref, args.alias, by=args.by)
    print(_alias_line(args.alias, record.ref, before, record.version))
    return 0


def _approve(args: argparse.Namespace) -> int:
    key = signing_key_from_env(os.environ) if args.verdict else None
    result = _open(args).approve(
        args.ref, args.role, by=args.by, note=args.note, verdict=Path(args.verdict) if args.verdict else None, signing_key=key
    )
    record = result.record
    evidence = f", verdict {record.verdict_digest}" if record.verdict_digest else ""
    print(f"approved {record.name}@{record.version} as {record.role} by {record.approved_by} (sha256 {record.sha256}{evidence})")
    if result.missing_roles:
        print(f"still missing: {', '.join(result.missing_roles)}")
    else:
        print(f"{record.name}@{record.version} is {result.state}")
    return 0


def _promote(args: argparse.Namespace) -> int:
    result = _open(args).promote(
        args.ref, to=args.to, verdict=Path(args.verdict) if args.verdict else None, initial=args.initial,
        dry_run=args.dry_run, by=args.by, signing_key=signing_key_from_env(os.environ),
    )
    if args.json:
        _print_json(result.to_dict())
    else:
        _print_checklist(result)
    return 0 if result.ok else 1


def _rollback(args: argparse.Namespace) -> int:
    result = _open(args).rollback(args.name, reason=args.reason, to=args.to, keep=args.keep, by=args.by)
    fate = "quarantined" if result.quarantined else "kept (not quarantined)"
    print(f"rolled back {result.name}: production {result.name}@{result.from_version} -> {result.name}@{result.to_version}")
    print(f"{result.name}@{result.from_version} {fate}; reason: {result.reason}")
    return 0


def _archive(args: argparse.Namespace) -> int:
    record = _open(args).archive(args.ref, by=args.by, reason=args.reason)
    print(f"archived {record.ref}")
    return 0


def _quarantine(args: argparse.Namespace) -> int:
    record = _open(args).quarantine(args.ref, reason=args.reason, by=args.by)
    print(f"quarantined {record.ref}; it can never be promoted or rolled back to")
    return 0


def _card(args: argparse.Namespace) -> int:
    card = _open(args).card(args.ref)
    text = json.dumps(card, indent=2) + "\n" if args.format == "json" else render_markdown(card)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote the model card of {card['identity']['name']}@{card['identity']['version']} to {args.output}")
    else:
        sys.stdout.write(text)
    return 0


def _audit(args: argparse.Namespace) -> int:
    registry = _open(args)
    if args.verify:
        check = registry.verify_audit()
        if args.json:
            _print_json(check.to_dict())
        elif check.ok:
            print(f"audit chain verified: {check.events} events, head {check.head}")
        else:
            print(f"audit chain broken: {check.problem}")
        return 0 if check.ok else 1
    events = registry.audit(args.name)
    if args.json:
        return _print_json([{**event.content(), "prev_hash": event.prev_hash, "hash": event.hash} for event in events])
    for event in events:
        target = f"{event.model}@{event.version}" if event.version is not None else event.model
        detail = json.dumps(event.detail, sort_keys=True)
        print(f"#{event.seq} {event.at} {event.actor} {event.action} {target} {detail}")
    if not events:
        print("no events")
    return 0


# --- helpers ---------------------------------------------------------------------------


def _open(args: argparse.Namespace) -> Registry:
    config = _config(args.config)
    if args.registry:
        path = Path(args.registry).resolve()
    elif config is not None:
        path = registry_path(config.base_dir, config)
    else:
        path = Path.cwd() / DEFAULT_REGISTRY_PATH
    return Registry(open_backend(path), Policy.from_config(config))


def _config(option: str | None) -> PromoteConfig | None:
    if option is not None:
        return load_config(Path(option))
    default = Path.cwd() / CONFIG_FILENAME
    return load_config(default) if default.is_file() else None


def _alias_line(alias: str, ref: str, before: int | None, after: int) -> str:
    if before == after:
        return f"alias {alias} already points at {ref}"
    return f"alias {alias} -> {ref}" + (f" (was version {before})" if before is not None else "")


def _print_checklist(result: Promotion) -> None:
    mode = " (dry run)" if result.dry_run else ""
    print(f"promote {result.ref} to {result.target}{mode}:")
    for check in result.checks:
        print(f"  [{'ok' if check.ok else 'FAIL'}] {check.code}: {check.message}")
    unmet = len(result.unmet)
    if unmet:
        print(f"refused: {unmet} of {len(result.checks)} conditions unmet; nothing changed")
    elif result.dry_run:
        print("dry run: every condition holds; nothing changed")
    else:
        replaced = f" (replacing version {result.replaced}, now the rollback candidate)" if result.replaced is not None else ""
        kind = "initial promotion" if result.initial else "promoted"
        print(f"{kind}: {result.ref} is now in {result.target}{replaced}")


def _print_model(info: dict) -> None:
    name = info["name"]
    aliases = ", ".join(f"{alias} -> {name}@{number}" for alias, number in info["aliases"].items()) or "none"
    print(f"model {name}")
    print(f"aliases: {aliases}")
    table = [("version", "state", "sha256", "file", "created", "by", "aliases", "missing approvals")]
    for item in info["versions"]:
        table.append((
            str(item["version"]), item["state"], item["sha256"][:12], item["filename"], item["created_at"], item["created_by"],
            ", ".join(item["aliases"]) or "-", ", ".join(item["missing_roles"]) or "-",
        ))
    _print_table(table)
    candidate = info["rollback_candidate"]
    for skipped in info["passed_over"]:
        print(f"not a rollback candidate: {name}@{skipped['version']}: {'; '.join(skipped['problems'])}")
    if candidate is None:
        print("rollback candidate: none")
    else:
        print(f"rollback candidate: {name}@{candidate['version']} ({'; '.join(candidate['reasons'])})")


def _print_version(info: dict) -> None:
    print(f"{info['name']}@{info['version']}: {info['state']}")
    for key in ("sha256", "size_bytes", "filename", "git_commit", "created_at", "created_by"):
        print(f"  {key}: {info[key] if info[key] is not None else '-'}")
    print(f"  aliases: {', '.join(info['aliases']) or '-'}")
    for key, value in sorted(info["metadata"].items()):
        print(f"  meta {key}: {value}")
    if info["artifact_problem"]:
        print(f"  ! {info['artifact_problem']}")
    print("approvals given:" if info["approvals"] else "approvals given: none")
    for item in info["approvals"]:
        valid = "" if item["valid"] else f" [does not count: approved other bytes, sha256 {item['sha256']}]"
        note = f" ({item['note']})" if item["note"] else ""
        print(f"  {item['role']}: {item['approved_by']} at {item['approved_at']}{note}{valid}")
    required = ", ".join(info["required_roles"]) or "none"
    print(f"approvals missing: {', '.join(info['missing_roles']) or 'none'} (required: {required})")


def _print_table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


def _print_json(value: object) -> int:
    print(json.dumps(value, indent=2))
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit status 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a version number (1, 2, ...), got {text!r}")
    return int(text)


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--registry", metavar="PATH", help="the registry database (default: registry.path in promote.yaml, else .promote/registry.db)")
    common.add_argument("--config", metavar="PATH", help="promote.yaml (default: ./promote.yaml if it exists)")
    parser = _Parser(prog=PROG, description="Model registry: versions, aliases, approvals, promotion, rollback, model cards, audit log.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, handler: Callable[[argparse.Namespace], int], help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, parents=[common], help=help, description=help)
        sub.set_defaults(handler=handler)
        return sub

    sub = command("register", _register, "register a model file as the next immutable version")
    sub.add_argument("name", metavar="NAME")
    sub.add_argument("path", metavar="PATH")
    sub.add_argument("--alias", metavar="ALIAS", help="point this alias at the version (not production)")
    sub.add_argument("--by", metavar="WHO", help="who registers it (default: the OS user)")
    sub.add_argument("--meta", metavar="KEY=VALUE", action="append", default=[], help="metadata, e.g. intended_use=...; repeatable")

    sub = command("list", _list, "list registered models")
    sub.add_argument("--json", action="store_true")

    sub = command("show", _show, "show a model (versions, aliases, rollback candidate) or one version (approvals)")
    sub.add_argument("ref", metavar="NAME[@VERSION]")
    sub.add_argument("--json", action="store_true")

    sub = command("alias", _alias, "point an alias (not production) at a version")
    sub.add_argument("ref", metavar="NAME@VERSION")
    sub.add_argument("alias", metavar="ALIAS")
    sub.add_argument("--by", metavar="WHO")

    sub = command("approve", _approve, "approve a version's bytes in a role")
    sub.add_argument("ref", metavar="NAME@VERSION")
    sub.add_argument("--role", required=True, metavar="ROLE")
    sub.add_argument("--by", required=True, metavar="WHO")
    sub.add_argument("--note", metavar="TEXT")
    sub.add_argument("--verdict", metavar="PATH", help="the verdict the approval rests on")

    sub = command("promote", _promote, "promote a version to production if every condition holds")
    sub.add_argument("ref", metavar="NAME@VERSION")
    sub.add_argument("--to", default="production", metavar="ALIAS", help="production (the only alias promote moves)")
    sub.add_argument("--verdict", metavar="PATH", help="the verdict of pytest --promote for this candidate")
    sub.add_argument("--initial", action="store_true", help="the first production version: no verdict or baseline needed")
    sub.add_argument("--dry-run", action="store_true", help="print the checklist, change nothing")
    sub.add_argument("--by", metavar="WHO")
    sub.add_argument("--json", action="store_true")

    sub = command("rollback", _rollback, "move production back to the rollback candidate (or --to VERSION)")
    sub.add_argument("name", metavar="NAME")
    sub.add_argument("--reason", required=True, metavar="TEXT")
    sub.add_argument("--to", type=_positive, metavar="VERSION")
    sub.add_argument("--keep", action="store_true", help="do not quarantine the version rolled back")
    sub.add_argument("--by", metavar="WHO")

    sub = command("archive", _archive, "archive a version (it can no longer be promoted)")
    sub.add_argument("ref", metavar="NAME@VERSION")
    sub.add_argument("--reason", metavar="TEXT")
    sub.add_argument("--by", metavar="WHO")

    sub = command("quarantine", _quarantine, "quarantine a version: never promoted or rolled back to again")
    sub.add_argument("ref", metavar="NAME@VERSION")
    sub.add_argument("--reason", required=True, metavar="TEXT")
    sub.add_argument("--by", metavar="WHO")

    sub = command("card", _card, "print a version's model card")
    sub.add_argument("ref", metavar="NAME@VERSION")
    sub.add_argument("--format", choices=("md", "json"), default="md")
    sub.add_argument("-o", "--output", metavar="PATH")

    sub = command("audit", _audit, "list the audit log, or verify its hash chain (--verify, the whole log)")
    sub.add_argument("name", nargs="?", metavar="NAME")
    sub.add_argument("--verify", action="store_true")
    sub.add_argument("--json", action="store_true")
    return parser
