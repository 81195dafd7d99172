"""The one exception type for user mistakes, and how a command reports one.

The CLI catches `XgenError` and prints its message as one line (the problem and the fix) with a
non-zero exit; every other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys
from typing import NoReturn


class XgenError(Exception):
    """A problem the user can fix: bad override, missing file, malformed input, impossible combination."""


def report(command: str, exc: XgenError) -> NoReturn:
    """The one line `xgen <command>: error: <problem and fix>` on stderr, exit status 2."""
    print(f"xgen {command}: error: {exc}", file=sys.stderr)
    sys.exit(2)
