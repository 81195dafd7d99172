"""The run directory: atomic writers, the run lifecycle, summary.json, and the readers that tables
and plots use. Stdlib only (no torch, transformers or Lightning), so `xgen table` starts fast."""

from xgen_cli.runs.files import append_jsonl, atomic_write_json, atomic_write_text, read_jsonl, write_jsonl
from xgen_cli.runs.run_dir import RunDir
from xgen_cli.runs.summary import METRIC_KEYS, build_summary
from xgen_cli.runs.table import format_language_table, load_run

__all__ = [
    "METRIC_KEYS", "RunDir", "append_jsonl", "atomic_write_json", "atomic_write_text", "build_summary",
    "format_language_table", "load_run", "read_jsonl", "write_jsonl",
]
