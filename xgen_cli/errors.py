"""The one exception type for user mistakes.

The CLI catches `XgenError` and prints its message as one line (the problem and the fix) with a
non-zero exit; every other exception is a bug and keeps its traceback.
"""


class XgenError(Exception):
    """A problem the user can fix: bad override, missing file, malformed input, impossible combination."""
