"""Offline compute nodes: `xgen model fetch` and `xgen data fetch` on a machine that reaches the hub,
then runs with HF_HUB_OFFLINE=1 that read only what they wrote.

The hub itself cannot be reached here, so the fetches read what a login node's download leaves
behind: a huggingface_hub cache laid out as the library lays it out (tests/hub_cache.py), which
huggingface_hub serves with HF_HUB_OFFLINE=1 through the same snapshot_download call."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from hub_cache import write_hub_cache


def error_line(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 2, proc.stderr[-3000:]
    lines = [line for line in proc.stderr.splitlines() if line.startswith("xgen ")]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    return lines[0]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    """A small checkpoint folder in mT5's published layout (tests/published_checkpoints.py)."""
    from published_checkpoints import write_checkpoint

    return write_checkpoint(tmp_path_factory.mktemp("published") / "mt5-small", "mt5")


@pytest.fixture(scope="module")
def offline(tmp_path_factory, checkpoint) -> dict:
    """The environment of a node without internet whose hub cache holds google/mt5-small."""
    cache = tmp_path_factory.mktemp("hf-cache")
    write_hub_cache(cache, "google/mt5-small", checkpoint)
    return {"HF_HUB_CACHE": str(cache), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}


def test_model_fetch_copies_the_run_files_with_their_checksums(xgen, tmp_path, offline, checkpoint):
    folder = tmp_path / "mt5-small"
    proc = xgen("model", "fetch", "model=small", f"fetch.folder={folder}", env=offline)
    assert f"model=small model.name_or_path={folder}" in proc.stdout
    manifest = json.loads((folder / "xgen_fetch.json").read_text())
    assert manifest["repo_id"] == "google/mt5-small" and manifest["commit"] == "0123456789abcdef0123456789abcdef01234567"
    assert {"config.json", "spiece.model", "model.safetensors"} <= set(manifest["files"])
    for name, record in manifest["files"].items():
        assert (folder / name).read_bytes() == (checkpoint / name).read_bytes(), name
        assert record["bytes"] == (folder / name).stat().st_size
    assert oct((folder).stat().st_mode & 0o777) != oct(0o700)  # readable by the cluster's other users
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no work folder left

    again = error_line(xgen("model", "fetch", "model=small", f"fetch.folder={folder}", env=offline, check=False))
    assert "already holds a fetched backbone" in again and f"model.name_or_path={folder}" in again


def test_model_fetch_without_a_cached_copy_offline_is_one_line(xgen, tmp_path, offline):
    line = error_line(xgen("model", "fetch", "model=base", f"fetch.folder={tmp_path / 'b'}", env=offline, check=False))
    assert "google/mt5-base" in line and "xgen model fetch" in line and "HF_HUB_OFFLINE" in line
    assert not (tmp_path / "b").exists()


def test_model_fetch_refuses_a_repository_without_spiece_model(xgen, tmp_path, checkpoint):
    source = tmp_path / "no-spm"
    source.mkdir()
    for path in checkpoint.iterdir():
        if path.name != "spiece.model":
            (source / path.name).write_bytes(path.read_bytes())
    cache = tmp_path / "cache"
    write_hub_cache(cache, "someone/mt5-no-spm", source)
    env = {"HF_HUB_CACHE": str(cache), "HF_HUB_OFFLINE": "1"}
    line = error_line(xgen("model", "fetch", "model=small", "model.name_or_path=someone/mt5-no-spm",
                               f"fetch.folder={tmp_path / 'out'}", env=env, check=False))
    assert "lacks spiece.model" in line and "config.json" in line  # names what it has
    assert not (tmp_path / "out").exists()


def test_model_fetch_of_the_built_tiny_backbone_is_refused(xgen, tmp_path):
    line = error_line(xgen("model", "fetch", "model=tiny", check=False))
    assert "xgen pretrain model=tiny" in line


# ---- xgen data fetch ----

@pytest.fixture(scope="module")
def hub_copies(tmp_path_factory) -> dict:
    """Local copies of GEM/wiki_lingua, Harvard/gigaword and allenai/c4 in their publishers' layouts."""
    from fixtures.hub import publishers

    root = tmp_path_factory.mktemp("hub")
    return {"wiki_lingua": publishers.wiki_lingua(root / "wiki_lingua", langs=("en", "fr", "th"), n=8),
            "gigaword": publishers.gigaword(root / "gigaword"),
            "c4": publishers.c4_multilingual(root / "c4", langs=("en", "th"))}


def wikilingua_args(hub_copies: dict) -> list[str]:
    return ["data=wikilingua0", f"data.corpus.hub_path={hub_copies['wiki_lingua']}", "data.corpus.revision=null",
            "data.eval_langs=[en,fr,th]"]


def test_data_fetch_writes_what_a_run_needs_with_a_manifest(xgen, tmp_path, hub_copies):
    folder = tmp_path / "wl0"
    proc = xgen("data", "fetch", *wikilingua_args(hub_copies), "intermediate=gigaword",
                    f"intermediate.corpus.path={hub_copies['gigaword']}", "intermediate.corpus.revision=null",
                    "unlabeled=mc4", f"unlabeled.path={hub_copies['c4']}", "fetch.unlabeled_langs=[th]",
                    f"fetch.folder={folder}")
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.jsonl"))
    assert files == ["_gigaword/en/train.jsonl", "_gigaword/en/validation.jsonl", "en/test.jsonl", "en/train.jsonl",
                     "en/validation.jsonl", "fr/test.jsonl", "fr/validation.jsonl", "th/test.jsonl", "th/unlabeled.jsonl",
                     "th/validation.jsonl"]  # English training data only: the zero-shot setting
    manifest = json.loads((folder / "manifest.json").read_text())
    assert set(manifest["files"]) == set(files)
    assert manifest["files"]["fr/validation.jsonl"]["examples"] == 8
    assert manifest["files"]["_gigaword/en/train.jsonl"]["examples"] == 24
    assert manifest["source"]["hub_path"] == str(hub_copies["wiki_lingua"])
    assert manifest["source"]["intermediate"]["path"] == str(hub_copies["gigaword"])
    first = json.loads((folder / "fr" / "validation.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert first == {"id": "wikilingua_fr-validation-0", "article": "Article 0 en français.", "summary": "Étape 0."}
    assert f"data=jsonl data.corpus.path={folder} data.eval_langs=[en,fr,th]" in proc.stdout
    assert f"intermediate.corpus.local_dir={folder / '_gigaword'}" in proc.stdout

    counts = xgen("data", "data=jsonl", f"data.corpus.path={folder}", "data.eval_langs=[en,fr,th]",
                      "data.eval_examples=8", env={"HF_HUB_OFFLINE": "1"})
    assert "_gigaword" not in counts.stdout and counts.stdout.count("\n") == 5  # header, path, en, fr, th

    (folder / "fr" / "validation.jsonl").write_text("", encoding="utf-8")
    line = error_line(xgen("data", "data=jsonl", f"data.corpus.path={folder}", "data.eval_langs=[en,fr,th]",
                               check=False))
    assert "fr/validation.jsonl differs from the file fetched" in line

    again = error_line(xgen("data", "fetch", *wikilingua_args(hub_copies), f"fetch.folder={folder}",
                                check=False))
    assert "already holds a fetched corpus" in again


def test_a_failed_data_fetch_leaves_nothing_behind(xgen, tmp_path, hub_copies):
    args = [a if not a.startswith("data.eval_langs") else "data.eval_langs=[en,ru]" for a in wikilingua_args(hub_copies)]
    line = error_line(xgen("data", "fetch", *args, f"fetch.folder={tmp_path / 'wl0'}", check=False))
    assert "ru" in line
    assert list(tmp_path.iterdir()) == []  # neither the folder nor its hidden work folder


def test_an_uncached_hub_corpus_offline_names_the_fetch_command(xgen, tmp_path):
    env = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    line = error_line(xgen("data", "fetch", "data=wikilingua0", f"fetch.folder={tmp_path / 'out'}", env=env,
                               check=False))
    assert "'GEM/wiki_lingua'" in line and "xgen data fetch" in line and "data=jsonl data.corpus.path=" in line


# ---- a node without internet ----

def run_args(model_dir: Path, data_dir: Path) -> list[str]:
    return ["model=small", f"model.name_or_path={model_dir}", "data=jsonl", f"data.corpus.path={data_dir}",
            "data.eval_langs=[en,fr]", "data.eval_examples=4", "max_new_tokens=4", "eval.num_beams=1",
            "trainer.precision=32-true"]


@pytest.mark.slow
def test_train_and_eval_offline_read_only_what_the_fetches_wrote(xgen, tmp_path, offline, hub_copies):
    model_dir, data_dir = tmp_path / "mt5-small", tmp_path / "wl0"
    xgen("model", "fetch", "model=small", f"fetch.folder={model_dir}", env=offline)  # the login node
    xgen("data", "fetch", *wikilingua_args(hub_copies), f"fetch.folder={data_dir}")
    # The compute node: hub and datasets offline, and a hub cache that holds nothing.
    node = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_HOME": str(tmp_path / "empty-hf-home"),
            "HF_HUB_CACHE": str(tmp_path / "empty-hf-home" / "hub")}
    run = tmp_path / "runs" / "prompt"
    xgen("train", "method=prompt", *run_args(model_dir, data_dir), "steps=2", "eval_every=2", "batch_size=4",
             "logger=none", f"hydra.run.dir={run}", env=node)
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert {(r["step"], r["lang"]) for r in rows} == {(2, "en"), (2, "fr")} and (run / "summary.json").is_file()
    xgen("eval", f"run={run}", "langs=[fr]", f"hydra.run.dir={tmp_path / 'runs' / 're-fr'}", env=node)
    assert (tmp_path / "runs" / "re-fr" / "summary.json").is_file()
    assert not list((tmp_path / "empty-hf-home").rglob("*.safetensors"))  # nothing was downloaded


def test_an_uncached_backbone_offline_names_the_fetch_command(xgen, tmp_path, hub_copies):
    data_dir = tmp_path / "wl0"
    xgen("data", "fetch", *wikilingua_args(hub_copies), "fetch.eval_splits=[validation]", f"fetch.folder={data_dir}")
    node = {"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"), "HF_HUB_CACHE": str(tmp_path / "hf" / "hub")}
    args = [a for a in run_args(Path("x"), data_dir) if not a.startswith("model.name_or_path")]
    line = error_line(xgen("train", "method=prompt", *args, "steps=2", f"hydra.run.dir={tmp_path / 'run'}", env=node,
                               check=False))
    assert "google/mt5-small" in line and "xgen model fetch model=small" in line
    assert not (tmp_path / "run").exists()


def test_model_fetch_takes_umt5_whose_published_config_names_no_model_type(xgen, tmp_path):
    from published_checkpoints import write_checkpoint

    source = write_checkpoint(tmp_path / "umt5-small", "umt5")
    assert "model_type" not in json.loads((source / "config.json").read_text())  # as google/umt5-small publishes it
    cache = tmp_path / "cache"
    write_hub_cache(cache, "google/umt5-small", source)
    folder = tmp_path / "fetched"
    proc = xgen("model", "fetch", "model=umt5_small", f"fetch.folder={folder}",
                env={"HF_HUB_CACHE": str(cache), "HF_HUB_OFFLINE": "1"})
    assert f"model=umt5_small model.name_or_path={folder}" in proc.stdout
    from xgen_cli.modeling.backbone import family

    assert family(str(folder)) == "umt5"


@pytest.mark.parametrize("bad, named", [("fetch.limit=abc", "fetch.limit=abc must be"), ("fetch.limit=0", "fetch.limit=0"),
                                        ("fetch.train_langs=all", "fetch.train_langs=[all]")])
def test_a_bad_fetch_setting_is_one_line_and_writes_nothing(xgen, tmp_path, hub_copies, bad, named):
    line = error_line(xgen("data", "fetch", *wikilingua_args(hub_copies), bad, f"fetch.folder={tmp_path / 'wl0'}",
                           check=False))
    assert named in line
    assert list(tmp_path.iterdir()) == []
