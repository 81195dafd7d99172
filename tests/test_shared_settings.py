"""One array of settings for every command that takes data= (README, "Your own corpus"): the tiny
backbone's model.build.* keys (part of its cache key, so train and eval need them too) in the array
given to `xgen data`, which has no model. A key every other command uses is left out with a one-line
note naming them; one only some other command uses is refused, naming it; a typo stays an error."""

from __future__ import annotations

import pytest
from conftest import MICRO_MODEL
from multiscript_corpus import write_corpus

BACKBONE_NOTE = "(settings of xgen eval, pretrain, train)"  # the commands whose configs compose model=


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> list[str]:
    """The guide's array, on a small corpus, with the backbone's keys in it."""
    corpus = write_corpus(tmp_path_factory.mktemp("own"), n_train=24, n_validation=8, n_unlabeled=200)
    return ["data=jsonl", f"data.corpus.path={corpus}", "data.eval_langs=[en,uk,ja]", "data.eval_examples=8",
            *MICRO_MODEL]


def _error_line(proc, command: str) -> str:
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and proc.stdout == ""
    (line,) = proc.stderr.splitlines()
    assert line.startswith(f"xgen {command}: error: ")
    return line


def test_the_guides_sequence_runs_with_the_backbone_keys_in_the_shared_array(xgen, shared, cache_dir, tmp_path):
    checked = xgen("data", *shared)
    assert [row.split()[0] for row in checked.stdout.splitlines()[2:]] == ["en", "ja", "uk"]
    (note,) = checked.stderr.splitlines()
    assert note.startswith("xgen data: note: ignoring what xgen data does not use: model.build.architecture.d_model, ")
    assert note.endswith(f"model.build.pretrain.span_corruption_steps, model.build.pretrain.prefix_lm_steps, "
                         f"model.build.sample.max_texts, model.build.vocab_size {BACKBONE_NOTE}")

    built = xgen("pretrain", "model=tiny", *shared, f"hydra.run.dir={tmp_path}/pretrain")
    assert "tiny backbone: " in built.stdout and "note:" not in built.stderr
    assert "span_corruption_steps: 4" in xgen("train", "method=prompt", *shared, "--cfg", "job").stdout
    backbones = set((cache_dir / "backbones").iterdir())
    xgen("eval", "baseline=lead64", *shared, f"hydra.run.dir={tmp_path}/lead64")
    assert set((cache_dir / "backbones").iterdir()) == backbones  # eval found pretrain's build: the same key


@pytest.mark.parametrize("command", ["data", "pretrain", "train", "eval"])
def test_a_typo_in_the_shared_array_is_still_an_unknown_key(xgen, shared, command):
    proc = xgen(command, *shared, "modle.build.vocab_size=1000", "model=tinyy", check=False)
    line = _error_line(proc, command)
    assert f"unknown key modle for xgen {command}: did you mean model? " in line
    assert "unknown model=tinyy: choose one of " in line  # a group xgen data ignores still names its options


@pytest.mark.parametrize("command", ["pretrain", "train", "eval"])
def test_a_key_only_some_other_command_uses_is_refused_naming_it(xgen, command, tmp_path):
    """Ignored, `action=fetch` would run this command's own work instead of the fetch asked for; and a
    setting the shared array never holds (fetch.limit) is a mistake to point out, not to drop."""
    for key in ("action=fetch", "fetch.limit=5"):
        proc = xgen(command, key, f"hydra.run.dir={tmp_path}/run", check=False)
        name = key.split("=")[0]
        assert _error_line(proc, command) == (
            f"xgen {command}: error: {name} is a setting of xgen data; xgen {command} does not use it: "
            f"leave it out of xgen {command}'s arguments")
        assert not (tmp_path / "run").exists()


def test_a_key_of_train_alone_is_refused_by_eval(xgen, tmp_path):
    proc = xgen("eval", "baseline=lead64", "method=model", f"hydra.run.dir={tmp_path}/run", check=False)
    assert _error_line(proc, "eval") == ("xgen eval: error: method is a setting of xgen train; xgen eval does not "
                                         "use it: leave it out of xgen eval's arguments")
