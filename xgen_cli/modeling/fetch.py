"""`xgen model fetch`: a hub backbone copied into a folder of its own, for nodes without internet.

The files come through huggingface_hub's own cache (`snapshot_download`), so a login node that
fetched them once, or a cache shared over the cluster's file system, serves them again with
`HF_HUB_OFFLINE=1`. Only what a run reads is taken: config.json, the tokenizer files (spiece.model,
which SP-ROUGE tokenizes with, above all) and one weights format (safetensors where the repository
has them, else pytorch_model*.bin; never also TF/Flax). The folder gets `xgen_fetch.json` (the hub
id, the commit, each file's size and SHA-256), appears whole or not at all, and is never written into
once it exists.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import sys
import time
from pathlib import Path

from xgen_cli.errors import XgenError
from xgen_cli.runs.files import new_folder, sha256_file

MANIFEST = "xgen_fetch.json"
CONFIG_FILES = ["config.json", "generation_config.json", "spiece.model", "tokenizer.json", "tokenizer_config.json",
                "special_tokens_map.json"]
SAFETENSORS = ["*.safetensors", "model.safetensors.index.json"]
PYTORCH_BIN = ["pytorch_model*.bin", "pytorch_model.bin.index.json"]
REQUIRED = ("config.json", "spiece.model")  # the model's shape, and SP-ROUGE's and the tokenizer's vocabulary


def _matches(name: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatch(name, p) for p in patterns)


def weight_patterns(names: list[str], repo_id: str) -> list[str]:
    """The one weights format to take from a repository listing `names`: safetensors if it has them."""
    if any(_matches(n, SAFETENSORS[:1]) for n in names):
        return SAFETENSORS
    if any(_matches(n, PYTORCH_BIN[:1]) for n in names):
        return PYTORCH_BIN
    shown = ", ".join(sorted(names)[:12]) or "nothing"
    raise XgenError(f"{repo_id} holds no PyTorch weights (*.safetensors or pytorch_model*.bin; it has: {shown}): "
                    "check model.name_or_path")


def offline_mode() -> bool:
    """HF_HUB_OFFLINE as huggingface_hub reads it (1, true, yes, on)."""
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


def model_choice(name_or_path: str) -> str | None:
    """The `model=` choice whose config names this hub id (conf/model/*.yaml), if one does."""
    from omegaconf import OmegaConf

    from xgen_cli.overrides import CONF_DIR

    for path in sorted((CONF_DIR / "model").glob("*.yaml")):
        if OmegaConf.load(path).get("name_or_path") == name_or_path:
            return path.stem
    return None


def cached_on_this_machine(repo_id: str) -> bool:
    """Whether huggingface_hub's cache holds the repository's config.json (what from_pretrained reads first)."""
    from huggingface_hub import try_to_load_from_cache

    try:
        return isinstance(try_to_load_from_cache(repo_id, "config.json"), str)
    except ValueError:  # not a valid repo id: the loader says so
        return False


def offline_fix(name_or_path: str) -> str | None:
    """What to do about a hub id that could not be loaded while the hub is off (HF_HUB_OFFLINE), or None
    when the hub is on (then the loader's own reason stands)."""
    if not offline_mode():
        return None
    choice = model_choice(name_or_path)
    model = f"model={choice}" if choice else f"model=<choice> model.name_or_path={name_or_path}"
    return (f"{name_or_path!r} is not in the local hub cache and HF_HUB_OFFLINE is set: on a machine with internet "
            f"run xgen model fetch {model}, then give its folder here as model.name_or_path=<folder>")


def _snapshot(repo_id: str, revision: str | None) -> Path:
    """The repository's snapshot folder in huggingface_hub's cache, downloading what is missing."""
    from huggingface_hub import HfApi, snapshot_download
    from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError

    try:
        names = HfApi().list_repo_files(repo_id, revision=revision)
        patterns = CONFIG_FILES + weight_patterns(names, repo_id)
    except (RepositoryNotFoundError, RevisionNotFoundError) as exc:  # before OSError: they are OSErrors too
        raise XgenError(f"no repository {repo_id!r} at revision {revision!r} on the hub ({type(exc).__name__}): "
                        "check model.name_or_path and fetch.revision") from None
    except Exception as exc:  # noqa: BLE001 - offline, no connection (httpx's errors are no OSErrors): try the cache
        print(f"[fetch] the hub is not reachable ({type(exc).__name__}): looking in the local cache",
              file=sys.stderr, flush=True)
        patterns = None
    try:
        return Path(snapshot_download(repo_id, revision=revision, allow_patterns=patterns,
                                      local_files_only=patterns is None))
    except Exception as exc:  # noqa: BLE001 - not cached offline, or the connection broke mid-download
        why = "HF_HUB_OFFLINE=1 is set" if offline_mode() else f"the hub is not reachable ({type(exc).__name__})"
        raise XgenError(f"cannot fetch {repo_id!r}: {why} and the local hub cache does not hold it: run xgen model "
                        "fetch on a machine with internet (a cluster's login node), without HF_HUB_OFFLINE") from None


def _place(source: Path, target: Path) -> None:
    """A hard link to the cache's blob where the file system allows it (no second copy of XXL's 50 GB)."""
    try:
        os.link(source.resolve(), target)
    except OSError:
        shutil.copyfile(source, target)


def check_target(folder: Path) -> None:
    if (folder / MANIFEST).is_file():
        raise XgenError(f"{folder} already holds a fetched backbone ({MANIFEST}): use it (model.name_or_path={folder}), "
                        "or set fetch.folder=<a new folder>")
    if folder.exists():
        raise XgenError(f"{folder} already exists: set fetch.folder=<a new folder> (a fetch never writes into one)")


def fetch_backbone(repo_id: str, folder: Path, revision: str | None = None) -> dict:
    """Copy `repo_id`'s run files into `folder` with xgen_fetch.json; returns that manifest."""
    folder = Path(folder).expanduser().absolute()
    check_target(folder)
    snapshot = _snapshot(repo_id, revision)
    names = sorted(p.name for p in snapshot.iterdir() if p.is_file())
    wanted = [n for n in names if _matches(n, CONFIG_FILES + weight_patterns(names, repo_id))]
    missing = [n for n in REQUIRED if n not in wanted]
    if missing:
        raise XgenError(f"{repo_id} (snapshot {snapshot.name}) lacks {', '.join(missing)} (it has: {', '.join(names)}): "
                        "xgen reads an mT5-family checkpoint with its SentencePiece model; check model.name_or_path")
    with new_folder(folder, check_target) as work:
        files = {}
        for name in wanted:
            _place(snapshot / name, work / name)
            files[name] = {"bytes": (work / name).stat().st_size, "sha256": sha256_file(work / name)}
        _check_loads(work, repo_id)
        manifest = {"repo_id": repo_id, "revision": revision, "commit": snapshot.name,
                    "fetched_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "files": files}
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def _check_loads(folder: Path, repo_id: str) -> None:
    """The checkpoint's family and its tokenizer read back from the folder as a run reads them (the
    weights are read by the run)."""
    from xgen_cli.modeling.backbone import family, load_tokenizer

    try:
        family(str(folder))
        empty = len(load_tokenizer(str(folder))) < 2
    except XgenError as exc:  # it names the work folder, which the user never sees
        raise XgenError(f"{repo_id}: {str(exc).replace(str(folder), 'the fetched files')}") from None
    if empty:
        raise XgenError(f"{repo_id}'s tokenizer is empty: check the repository's spiece.model")
