"""Fetch a backbone for nodes without internet: `xgen model fetch model=small` copies it into a folder.

Run it where the hub is reachable (a cluster's login node); it prints the `model.name_or_path=`
override that reads the folder on a compute node with `HF_HUB_OFFLINE=1` (xgen_cli/modeling/fetch.py).
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig

from xgen_cli.commands._app import xgen_app
from xgen_cli.errors import XgenError

ACTIONS = ("fetch",)  # `xgen model fetch` == `xgen model action=fetch`


@xgen_app("model")
def main(cfg: DictConfig) -> None:
    from hydra.core.hydra_config import HydraConfig

    if cfg.action != "fetch":
        raise XgenError("name what to do with the backbone: xgen model fetch model=<choice> [fetch.folder=<dir>]")
    choice = HydraConfig.get().runtime.choices.get("model")
    repo_id = cfg.model.name_or_path
    if not repo_id:
        raise XgenError(f"model={choice} is built here, not fetched (xgen pretrain model={choice}): "
                        "fetch a hub backbone, e.g. model=small")
    if Path(str(repo_id)).expanduser().exists():
        raise XgenError(f"model.name_or_path={repo_id} is a local folder already: use it as it is")
    from xgen_cli.modeling.fetch import fetch_backbone

    folder = Path(cfg.fetch.folder or Path("models") / str(repo_id).replace("/", "--")).expanduser().absolute()
    manifest = fetch_backbone(str(repo_id), folder, cfg.fetch.revision)
    size = sum(f["bytes"] for f in manifest["files"].values())
    print(f"fetched {repo_id} (commit {manifest['commit']}, {len(manifest['files'])} files, {size / 1e6:,.1f} MB) "
          f"into {folder}")
    print(f"use it where there is no internet: model={choice} model.name_or_path={folder}")
