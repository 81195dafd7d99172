"""Checks of the overrides a user typed, before Hydra composes anything.

Hydra answers an unknown group option or key with a multi-line report (search path, struct
details); xgen answers with one line that names the problem and the valid choices. Only what can
be read from the YAML files is checked here (group options, top-level keys); everything else is
left to Hydra and to config_checks.py. Reads YAML only: no torch, so `--help` and typos stay fast.
A key that every other command taking data= uses (model.* and trainer= for xgen data) is left out
with a note, so one array of shared settings serves them all (README, "Your own corpus"); a key
only some other command uses (fetch.* or run= for xgen train) is refused, naming the commands
that use it.
"""

from __future__ import annotations

import difflib
import functools
from pathlib import Path

from omegaconf import OmegaConf

CONF_DIR = Path(__file__).resolve().parents[1] / "conf"


# `xgen <command> <word>` reads as `xgen <command> action=<word>` for a command's ACTIONS (cli.py).
ACTION_KEY = "action"
# The commands whose configs compose this group read one corpus: README's "Your own corpus" keeps its
# settings (and the tiny backbone's, part of its cache key) in one array given to all of them.
SHARED_GROUP = "data"


@functools.cache
def _primary(command: str) -> tuple[frozenset[str], frozenset[str]]:
    """(groups in the command's defaults list, top-level keys of its primary config)."""
    config = OmegaConf.to_container(OmegaConf.load(CONF_DIR / f"{command}.yaml"))
    groups = set()
    for entry in config.pop("defaults", []):
        if isinstance(entry, dict):
            groups |= {key for key in entry if not key.startswith("override ")}
    return frozenset(groups), frozenset(config)


@functools.cache
def _siblings(command: str) -> tuple[str, ...]:
    """The other commands (primary configs of conf/) that compose SHARED_GROUP, if this one does."""
    if SHARED_GROUP not in _primary(command)[0]:
        return ()
    return tuple(p.stem for p in sorted(CONF_DIR.glob("*.yaml"))
                 if p.stem != command and SHARED_GROUP in _primary(p.stem)[0])


def _names(command: str) -> frozenset[str]:
    """The command's groups and top-level keys."""
    return frozenset().union(*_primary(command))


def _others_using(command: str, top: str) -> list[str]:
    """The sibling commands whose config has `top` (a group or top-level key) where this one's has not."""
    return [] if top in _names(command) else [other for other in _siblings(command) if top in _names(other)]


def _shared(command: str, top: str) -> bool:
    """Whether `top` is a setting of every sibling but this command: one a shared array holds."""
    users = _others_using(command, top)
    return bool(users) and len(users) == len(_siblings(command))


def _override(arg: str) -> tuple[str, str, str] | None:
    """(key, value, top-level name) of a `key=value` override that names a key; None for flags,
    additions (+), deletions (~) and hydra.* or hydra/<group>, which are Hydra's to judge."""
    if arg.startswith(("-", "+", "~")) or "=" not in arg:
        return None
    key, value = arg.split("=", 1)
    top = key.split(".", 1)[0].split("@", 1)[0].split("/", 1)[0]
    return None if top == "hydra" else (key, value, top)


def _options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))


def groups_help(command: str) -> str:
    """'group: option, option' per line for the groups the command's defaults list composes (its --help)."""
    groups, _ = _primary(command)
    return "\n".join(f"{group}: {', '.join(_options(group))}" for group in sorted(groups))


def override_problems(command: str, args: list[str]) -> list[str]:
    """One message per override that names an unknown group option or top-level key, or a key only
    some other command taking data= uses. A key all of them use is not unknown (others_settings
    leaves it out), and its group options are checked all the same."""
    groups = _primary(command)[0]
    names = _names(command).union(*map(_names, _siblings(command)))
    problems = []
    multirun = any(a in ("-m", "--multirun") for a in args)
    if not multirun and any(a.split("=", 1)[0].lstrip("+") == "sweep" and not a.endswith("=null") for a in args):
        problems.append(f"sweep= names a sweep of many runs: add -m (xgen {command} -m sweep=...)")
    for key, value, top in filter(None, map(_override, args)):
        users = _others_using(command, top)
        if users and not _shared(command, top):  # e.g. action=fetch: ignored, this command's work would run instead
            problems.append(f"{key} is a setting of xgen {', '.join(users)}; xgen {command} does not use it: "
                            f"leave it out of xgen {command}'s arguments")
        elif key in groups or any(key in _primary(other)[0] for other in users):
            if "(" in value:  # a sweep function (choice, range, ...): Hydra expands it
                continue
            valid = _options(key)
            unknown = [v for v in value.split(",") if v and v != "null" and v not in valid]
            if unknown:
                problems.append(f"unknown {key}={','.join(unknown)}: choose one of {', '.join(valid)}")
        elif top not in names:
            near = difflib.get_close_matches(top, sorted(names), n=1)
            hint = f"did you mean {near[0]}? " if near else ""
            problems.append(f"unknown key {top} for xgen {command}: {hint}(`xgen {command} --cfg job` shows the "
                            f"keys; +{key}=... adds a new one)")
    return problems


def others_settings(command: str, args: list[str]) -> tuple[list[str], str | None]:
    """(args without the settings every sibling command uses but this one, a one-line note naming
    what was left out and which commands use it, or None). A shared array (`xgen data "${C[@]}"`, README) may hold the tiny
    backbone's model.build.* keys, which xgen data has no config for: Hydra would refuse them."""
    left_out: dict[tuple[str, ...], list[str]] = {}  # {the commands using them: their keys}
    kept = []
    for arg in args:
        parsed = _override(arg)
        users = tuple(_others_using(command, parsed[2])) if parsed and _shared(command, parsed[2]) else ()
        if users:
            left_out.setdefault(users, []).append(parsed[0])
        else:
            kept.append(arg)
    if not left_out:
        return kept, None
    parts = [f"{', '.join(left)} ({'settings' if len(left) > 1 else 'a setting'} of xgen {', '.join(users)})"
             for users, left in left_out.items()]
    return kept, f"xgen {command}: note: ignoring what xgen {command} does not use: {'; '.join(parts)}"


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
