"""A huggingface_hub cache laid out by hand, as `snapshot_download` leaves one after a download on a
login node: <cache>/models--<owner>--<name>/{refs/main, snapshots/<commit>/<file> -> ../../blobs/<hash>}
(huggingface_hub's docs, "Understand caching"; file_download.py reads refs/<revision> for a branch).
With HF_HUB_CACHE=<cache> and HF_HUB_OFFLINE=1, huggingface_hub serves these files without a network."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def write_hub_cache(cache: Path, repo_id: str, folder: Path, commit: str = COMMIT, kind: str = "models") -> Path:
    """Every file of `folder` as the `main` snapshot of `repo_id` in `cache`; returns the snapshot folder."""
    repo = Path(cache) / f"{kind}--{repo_id.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(commit)
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True, exist_ok=True)
    (repo / "blobs").mkdir(exist_ok=True)
    for path in sorted(Path(folder).iterdir()):
        if not path.is_file():
            continue
        blob = repo / "blobs" / hashlib.sha256(path.read_bytes()).hexdigest()
        shutil.copyfile(path, blob)
        os.symlink(os.path.relpath(blob, snapshot), snapshot / path.name)
    return snapshot
