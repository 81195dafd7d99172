"""`xgen data fetch`: a hub corpus written out as the local JSONL corpus form, for nodes without internet.

Cluster compute nodes rarely reach the hub. On a login node, `xgen data fetch data=<hub choice>`
reads the splits and languages a run needs through the very reader a run would use (so the rows
get the same checks), writes `<folder>/<lang>/<split>.jsonl` (+ `unlabeled.jsonl` when asked), and
a `manifest.json` recording the source (hub id, revision, files), the counts and each file's
SHA-256. Runs then read the folder with `data=jsonl data.corpus.path=<folder>` and never touch the
network. The folder appears whole or not at all: everything is written into a hidden sibling first
and renamed at the end, and an existing folder is never written into.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

from xgen_cli.errors import XgenError
from xgen_cli.runs.files import new_folder, sha256_file

MANIFEST = "manifest.json"


def _write_lines(path: Path, rows: Iterable[dict]) -> int:
    count = 0
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count


def _record(path: Path, count: int) -> dict:
    return {"examples": count, "bytes": path.stat().st_size, "sha256": sha256_file(path)}


def plan(train_langs: Sequence[str], eval_langs: Sequence[str], eval_splits: Sequence[str],
         unlabeled_langs: Sequence[str] = ()) -> dict[str, list[str]]:
    """{lang: [what to fetch]}: "train" for the training languages, each of `eval_splits` for the
    evaluation languages, "unlabeled" for `unlabeled_langs`, in the order given, each once."""
    wanted: dict[str, list[str]] = {}
    for langs, parts in ((train_langs, ["train"]), (eval_langs, list(eval_splits)), (unlabeled_langs, ["unlabeled"])):
        for lang in langs:
            for part in parts:
                if part not in wanted.setdefault(lang, []):
                    wanted[lang].append(part)
    return wanted


def hub_commit(path: str, revision: str | None) -> str | None:
    """The commit a dataset's revision (a branch such as refs/convert/parquet moves) points at now, so the
    manifest pins what was read; None for a local folder or when the hub cannot be asked."""
    from huggingface_hub import HfApi

    from xgen_cli.data.hub import is_local

    if not path or is_local(path):
        return None

    try:
        return HfApi().dataset_info(path, revision=revision).sha
    except Exception:  # offline, gated, unknown: the manifest then records the revision alone
        return None


def check_target(folder: Path) -> None:
    """The folder a fetch writes must not exist yet: a fetch never writes into (or over) a folder."""
    if (folder / MANIFEST).is_file():
        fetched = json.loads((folder / MANIFEST).read_text(encoding="utf-8")).get("fetched_at", "earlier")
        raise XgenError(f"{folder} already holds a fetched corpus ({MANIFEST}, fetched {fetched}): use it "
                        f"(data=jsonl data.corpus.path={folder}), or set fetch.folder=<a new folder>")
    if folder.exists():
        raise XgenError(f"{folder} already exists: set fetch.folder=<a new folder> (a fetch never writes into one)")


class Part(NamedTuple):
    """One reader's share of a fetch: `wanted` ({lang: [split or "unlabeled"]}) of `reader`, written
    under `subfolder` ("" for the corpus itself; "_gigaword" for IT-GIGAWORD's pairs, a name that a
    corpus folder's language listing skips)."""
    subfolder: str
    reader: object
    wanted: dict[str, list[str]]


def fetch_corpus(parts: Sequence[Part], folder: Path, *, unlabeled=None, limit: int | None = None,
                 source: dict | None = None) -> dict:
    """Write every part into `folder` with its manifest; returns the manifest. `unlabeled` (an
    `unlabeled=` reader: the corpus's own text or mC4) supplies each "unlabeled" file."""
    start = time.perf_counter()
    files: dict[str, dict] = {}
    with new_folder(folder, check_target) as work:
        for part in parts:
            for lang, names in part.wanted.items():
                (work / part.subfolder / lang).mkdir(parents=True)
                for name in names:
                    relative = (Path(part.subfolder) / lang / f"{name}.jsonl").as_posix()
                    if name == "unlabeled":
                        if unlabeled is None:
                            raise XgenError(f"{relative} was asked for but no unlabeled= reader was given")
                        rows = ({"text": t} for t in unlabeled.unlabeled(lang)[:limit])
                    else:
                        rows = ({"id": e.id, "article": e.article, "summary": e.summary}
                                for e in part.reader.examples(lang, name, limit))
                    count = _write_lines(work / relative, rows)
                    files[relative] = _record(work / relative, count)
                    print(f"[fetch] {relative}: {count:,} {'texts' if name == 'unlabeled' else 'examples'}",
                          file=sys.stderr, flush=True)
        manifest = {
            "source": source or {},
            "fetched_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "limit": limit,
            "skipped_bad_rows": {k: v for part in parts for k, v in (getattr(part.reader, "skipped", {}) or {}).items()},
            "files": files,
            "seconds": round(time.perf_counter() - start, 1),
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest


def verify(folder: Path) -> list[str]:
    """Problems of a fetched folder against its manifest (missing or changed files), [] when whole."""
    folder = Path(folder)
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    problems = []
    for relative, record in manifest["files"].items():
        path = folder / relative
        if not path.is_file():
            problems.append(f"{path} is missing")
        elif sha256_file(path) != record["sha256"]:
            problems.append(f"{path} differs from the file fetched (SHA-256)")
    return problems

