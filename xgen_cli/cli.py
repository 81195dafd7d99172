"""`xgen <command> [hydra overrides]`: picks the command and hands the rest of argv to Hydra.

Commands are the modules of `xgen_cli.commands`, found on disk (no second list of names); each
module's docstring's first line is its one-line help, read without importing it, so `xgen --help`
stays fast. Each command module exposes `main()`, a `@hydra.main` app with its own primary config.
"""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path

from xgen_cli.overrides import ACTION_KEY, others_settings, override_problems, quote_folder_values

COMMANDS_DIR = Path(__file__).parent / "commands"


def commands() -> dict[str, str]:
    """{name: one-line help} for every command module on disk."""
    found = {}
    for path in sorted(COMMANDS_DIR.glob("*.py")):
        if path.name.startswith("_"):
            continue
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        found[path.stem] = doc.strip().splitlines()[0] if doc.strip() else ""
    return found


def usage() -> str:
    lines = ["usage: xgen <command> [hydra overrides]  (e.g. xgen train model=xxl method=prompt)", "", "commands:"]
    width = max(map(len, commands()), default=0)
    lines += [f"  {name:<{width}}  {help_}" for name, help_ in commands().items()]
    lines += ["", "xgen <command> --help shows its config groups; xgen <command> --cfg job prints the composed config."]
    return "\n".join(lines)


def reentry_argv(command: str, overrides: list[str]) -> list[str]:
    """An argv that runs `xgen <command> <overrides>` again when run as Lightning runs a rank > 0:
    `python <argv[0]> <argv[1:]>`, or `python -m <main module> <argv[1:]>` (xgen_cli/distributed.py).
    argv[0] is the program this process was started as (the `xgen` script or this module's file)."""
    import __main__

    return [str(Path(__main__.__file__).resolve()), command, *overrides]


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        return
    name = argv[0]
    if name not in commands():
        print(f"xgen: unknown command {name!r}; choose one of: {', '.join(commands())} (xgen --help)", file=sys.stderr)
        sys.exit(2)
    module = importlib.import_module(f"xgen_cli.commands.{name}")
    # `xgen data fetch` reads as `xgen data action=fetch` (a command's ACTIONS), and `xgen data demo`
    # as `xgen data data=demo` (any other bare word picks an option of the command's POSITIONAL_GROUP).
    if len(argv) > 1 and "=" not in argv[1] and not argv[1].startswith("-"):
        group = getattr(module, "POSITIONAL_GROUP", None)
        if argv[1] in getattr(module, "ACTIONS", ()):
            argv[1] = f"{ACTION_KEY}={argv[1]}"
        elif group:
            argv[1] = f"{group}={argv[1]}"
    argv[1:] = quote_folder_values(argv[1:])
    problems = override_problems(name, argv[1:])
    if problems:  # one line naming each unknown choice or key, instead of Hydra's multi-line report
        print(f"xgen {name}: error: {'; '.join(problems)}", file=sys.stderr)
        sys.exit(2)
    argv[1:], note = others_settings(name, argv[1:])  # the settings a shared array holds for other commands
    if note:
        print(note, file=sys.stderr)
    # Hydra reads sys.argv; the program name shows in its help and error messages. A trainer of
    # several processes puts back an argv that re-enters the command (distributed.prepare_relaunch).
    sys.argv = [f"xgen {name}", *argv[1:]]
    module.main()


if __name__ == "__main__":
    main()
