"""Checks of the overrides a user typed, before Hydra composes anything.

Hydra answers an unknown group option or key with a multi-line report (search path, struct
details); xgen answers with one line that names the problem and the valid choices. Only what can
be read from the YAML files is checked here (group options, top-level keys); everything else is
left to Hydra and to config_checks.py. Reads YAML only: no torch, so `--help` and typos stay fast.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from omegaconf import OmegaConf

CONF_DIR = Path(__file__).resolve().parents[1] / "conf"


def _primary(command: str) -> tuple[set[str], set[str]]:
    """(groups in the command's defaults list, top-level keys of its primary config)."""
    config = OmegaConf.to_container(OmegaConf.load(CONF_DIR / f"{command}.yaml"))
    groups = set()
    for entry in config.pop("defaults", []):
        if isinstance(entry, dict):
            groups |= {key for key in entry if not key.startswith("override ")}
    return groups, set(config)


def _options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))


def groups_help(command: str) -> str:
    """'group: option, option' per line for the groups the command's defaults list composes (its --help)."""
    groups, _ = _primary(command)
    return "\n".join(f"{group}: {', '.join(_options(group))}" for group in sorted(groups))


def override_problems(command: str, args: list[str]) -> list[str]:
    """One message per override that names an unknown group option or top-level key."""
    groups, keys = _primary(command)
    problems = []
    multirun = any(a in ("-m", "--multirun") for a in args)
    if not multirun and any(a.split("=", 1)[0].lstrip("+") == "sweep" and not a.endswith("=null") for a in args):
        problems.append(f"sweep= names a sweep of many runs: add -m (xgen {command} -m sweep=...)")
    for arg in args:
        if arg.startswith(("-", "+", "~")) or "=" not in arg:
            continue  # flags, additions and deletions are Hydra's to judge
        key, value = arg.split("=", 1)
        top = key.split(".", 1)[0].split("@", 1)[0].split("/", 1)[0]
        if top == "hydra":  # hydra.<key> and hydra/<group> (e.g. hydra/launcher=slurm): Hydra's
            continue
        if key in groups:
            if "(" in value:  # a sweep function (choice, range, ...): Hydra expands it
                continue
            valid = _options(key)
            unknown = [v for v in value.split(",") if v and v != "null" and v not in valid]
            if unknown:
                problems.append(f"unknown {key}={','.join(unknown)}: choose one of {', '.join(valid)}")
        elif top not in groups and top not in keys:
            near = difflib.get_close_matches(top, sorted(groups | keys), n=1)
            hint = f"did you mean {near[0]}? " if near else ""
            problems.append(f"unknown key {top} for xgen {command}: {hint}(`xgen {command} --cfg job` shows the "
                            f"keys; +{key}=... adds a new one)")
    return problems


def quote_value(value: str) -> str:
    """A value holding Hydra's syntax characters (`seed=0` in a sweep job's folder, spaces,
    brackets) quoted for Hydra's override grammar; a plain one as it is."""
    plain = all(c.isalnum() or c in "/._-~+@" for c in value)
    return value if plain else "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def quote_folder_values(args: list[str]) -> list[str]:
    """`run=<dir>/method=model/seed=0` reads to Hydra as a second `=`: sweep job folders are named
    by their overrides, so a value with `=` (a folder) is quoted for the user. Lists, dicts and
    values already quoted are left alone."""
    out = []
    for arg in args:
        key, sep, value = arg.partition("=")
        if sep and "=" in value and not key.startswith("-") and value[:1] not in "'\"[{":
            arg = f"{key}={quote_value(value)}"
        out.append(arg)
    return out
