"""Evaluate a baseline, a finished run's checkpoint, or a predictions file, on any languages.

Three modes, one of which must be chosen: `baseline=lead64` (no training), `run=<run dir>`
(re-evaluate its last checkpoint, or `checkpoint=<file>`), `predictions=<file.jsonl> lang=<xx>`
(score {"id", "prediction"} lines against the references of the `data=` corpus's `lang` `split`;
a file's own "reference" must equal the corpus's, so a file of another language, split or corpus
is refused, never scored against itself). A baseline that goes through a trained run takes both:
`baseline=trans_test run=<English run dir> translate=demo|file|hf` (TRANS-TEST: the target
language's articles translated into English, summarised by the run, the summaries translated
back). Each writes metrics.jsonl, predictions and summary.json into its own output directory, like
a training run.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from xgen_cli.commands._app import output_dir, xgen_app
from xgen_cli.config_checks import check, data_problems, model_problems, pass_problems
from xgen_cli.errors import XgenError
from xgen_cli.runs.files import read_jsonl, write_jsonl
from xgen_cli.runs.run_dir import RunDir
from xgen_cli.runs.summary import build_summary
from xgen_cli.runs.table import format_language_table


def problems(cfg: DictConfig) -> list[str]:
    if cfg.get("baseline") and cfg.baseline.get("through_run"):
        return through_run_problems(cfg)
    modes = [m for m in ("baseline", "run", "predictions") if cfg.get(m)]
    if len(modes) != 1:
        return ["choose exactly one of baseline=lead64, run=<run dir>, predictions=<file.jsonl> lang=<xx>"
                + (f" (got {', '.join(modes)})" if modes else "")]
    found = pass_problems(cfg, training=False)
    if cfg.predictions:
        if not Path(cfg.predictions).is_file():
            found.append(f'predictions={cfg.predictions} does not exist: give a JSONL file of {{"id", "prediction"}} lines')
        if not cfg.lang:
            found.append("predictions=... needs the language of its texts: add lang=<xx>")
        if not found:  # before any run folder exists: a file the corpus does not vouch for is refused
            try:
                predictions_against_corpus(cfg)
            except XgenError as exc:
                found.append(str(exc))
    if cfg.run and not (Path(cfg.run) / ".hydra" / "config.yaml").is_file():
        found.append(f"run={cfg.run} holds no .hydra/config.yaml: point it at a training run's directory")
    if cfg.get("baseline"):
        found += model_problems(cfg) + data_problems(cfg)
    return found


def through_run_problems(cfg: DictConfig) -> list[str]:
    """baseline=trans_test: an English-trained run, a translator, no predictions file."""
    found = []
    if not cfg.run:
        found.append(f"{cfg.baseline.name} summarises through an English-trained run: add run=<its run dir>")
    elif not (Path(cfg.run) / ".hydra" / "config.yaml").is_file():
        found.append(f"run={cfg.run} holds no .hydra/config.yaml: point it at a training run's directory")
    if cfg.translate.name == "none":
        found.append(f"{cfg.baseline.name} needs a translator: add translate=demo (the demo corpus), file or hf")
    if cfg.predictions:
        found.append(f"{cfg.baseline.name} writes its own predictions: drop predictions=")
    return found


@xgen_app("eval")
def main(cfg: DictConfig) -> None:
    check(problems(cfg))
    run = RunDir(output_dir())
    baseline = cfg.get("baseline")
    mode = ("through_run" if baseline.get("through_run") else "baseline") if baseline else "run" if cfg.run else "predictions"
    identity = {"mode": mode, "baseline": baseline.name if baseline else None,
                "run": cfg.run, "predictions": cfg.predictions}
    if mode == "through_run":  # sits in the table beside the run it went through: its size and seed
        from xgen_cli.baselines import through_run_identity

        identity.update(through_run_identity(Path(cfg.run), cfg.translate.name))
    run.start(sys.argv, identity)
    try:
        modes = {"baseline": eval_baseline, "run": eval_run, "predictions": eval_predictions, "through_run": eval_trans_test}
        rows = modes[mode](cfg, run)
    except BaseException as exc:
        run.fail(f"{type(exc).__name__}: {exc}")
        raise
    summary = build_summary(rows, identity, source_lang=cfg.source_lang, split=cfg.split)  # split=test: its rows
    run.finish(summary)
    print(format_language_table({identity["baseline"] or mode.upper(): summary}, selection="last"))
    print(f"run directory: {run.path}")


def _spm_file(cfg: DictConfig, name_or_path: str | None = None) -> str:
    """metrics.spm_model if set, else the backbone's own SentencePiece model (the configured
    model's, built if need be, unless the caller already knows the backbone)."""
    from xgen_cli.modeling.backbone import spm_model_file
    from xgen_cli.modeling.tiny import resolve_name_or_path

    if cfg.metrics.spm_model:
        return str(cfg.metrics.spm_model)
    if name_or_path is None:
        container = OmegaConf.to_container(cfg, resolve=True)
        name_or_path = resolve_name_or_path(container["model"], cfg.cache_dir, container["trainer"])
    return str(spm_model_file(name_or_path))


def eval_baseline(cfg: DictConfig, run: RunDir) -> list[dict]:
    import hydra

    from xgen_cli.evaluation import format_progress, prediction_rows
    from xgen_cli.metrics import SpRouge, score_language

    spm_file = _spm_file(cfg)
    recipe = {k: v for k, v in OmegaConf.to_container(cfg.baseline).items() if k != "name"}  # name: a table label
    predict = hydra.utils.instantiate(recipe, spm_model_file=spm_file)
    sp_rouge = SpRouge(spm_file)
    corpus = hydra.utils.instantiate(cfg.data.corpus)
    rows = []
    for lang in cfg.langs or cfg.data.eval_langs:
        examples = corpus.examples(lang, cfg.split, cfg.data.eval_examples)
        predictions = [predict(e.article) for e in examples]
        row = {"step": 0, "stage": "main", "split": cfg.split, "lang": lang}
        row.update(score_language(predictions, [e.summary for e in examples], lang, sp_rouge))
        run.write_predictions(0, lang, prediction_rows(examples, predictions), split=cfg.split)
        run.log_metrics(row)
        rows.append(row)
        print(format_progress(row, 0.0), file=sys.stderr, flush=True)
    return rows


def _line_id(row: dict):
    """A line's id as the corpus reads ids (an integer as its decimal text); None if it has none."""
    value = row.get("id")
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


_MATCHED: dict[tuple, tuple[list[str], list[str], int]] = {}  # the gate, main's check and the scoring ask alike


def predictions_against_corpus(cfg: DictConfig) -> tuple[list[str], list[str], int]:
    """(predictions, references, the split's size): the lines of the predictions file matched to the
    examples of the `data=` corpus's `lang` `split`, whose references are scored (never the file's:
    a file of another language, split or corpus would score well against itself). A reference the
    file carries must equal its example's; every mismatch is an XgenError, before any scoring.
    Read once per file version and split: a hub corpus's split can take a while to read."""
    stat = Path(cfg.predictions).stat()
    key = (str(cfg.predictions), stat.st_mtime_ns, stat.st_size, cfg.lang, cfg.split,
           OmegaConf.to_yaml(cfg.data.corpus, resolve=True))
    if key not in _MATCHED:
        _MATCHED[key] = _match_to_corpus(cfg)
    return _MATCHED[key]


def _match_to_corpus(cfg: DictConfig) -> tuple[list[str], list[str], int]:
    import hydra

    name = cfg.predictions
    lines = read_jsonl(Path(name))
    if not lines:  # scoring nothing would print every metric as 0.0 and look like a result
        raise XgenError(f'{name} holds no predictions: write one {{"id", "prediction"}} object per line')
    bad = next((i for i, r in enumerate(lines, 1) if not isinstance(r.get("prediction"), str)), None)
    if bad is not None:
        raise XgenError(f"{name} line {bad} lacks a string field prediction: every line needs one")
    corpus = hydra.utils.instantiate(cfg.data.corpus)
    split = corpus.examples(cfg.lang, cfg.split)
    where = f"the {cfg.lang} {cfg.split} split ({corpus.location(cfg.lang, cfg.split)})"
    matched = _matched_examples(name, lines, split, where)
    differ = [e.id for r, e in zip(lines, matched, strict=True) if r.get("reference") not in (None, e.summary)]
    if differ:
        raise XgenError(f"{len(differ)} of the {len(lines)} references of {name} differ from those of {where} "
                        f"(first: id {differ[0]!r}): {_FIX}")
    return [r["prediction"] for r in lines], [e.summary for e in matched], len(split)


_FIX = "score the file with the data=, lang= and split= it was predicted for"


def _matched_examples(name: str, lines: list[dict], split: list, where: str) -> list:
    """The split's example of each line: by id, or, in a file without ids, by position when it
    covers the whole split (any other count leaves the pairing a guess)."""
    ids = [_line_id(r) for r in lines]
    if all(i is None for i in ids):
        if len(lines) != len(split):
            raise XgenError(f"{name} has no ids and {len(lines)} lines, {where} has {len(split)} examples: "
                            "give each line the \"id\" of its example (as xgen's predictions files do), "
                            "or predict the whole split in its order")
        return split
    lacking = [n for n, i in enumerate(ids, 1) if not isinstance(i, str)]
    if lacking:
        raise XgenError(f"{name} line {lacking[0]} has no string \"id\" ({len(lacking)} such line(s)) where "
                        "others have one: give every line the id of its example")
    repeated = len(ids) - len(set(ids))
    if repeated:
        raise XgenError(f"{name} repeats {repeated} id(s): give each example of the split one line")
    by_id = {e.id: e for e in split}
    unknown = [i for i in ids if i not in by_id]
    if unknown:
        raise XgenError(f"{len(unknown)} of the {len(ids)} ids of {name} are not in {where} "
                        f"(first: {unknown[0]!r}): {_FIX}")
    return [by_id[i] for i in ids]


def eval_predictions(cfg: DictConfig, run: RunDir) -> list[dict]:
    from xgen_cli.metrics import SpRouge, score_language

    predictions, references, split_size = predictions_against_corpus(cfg)
    print(f"[eval] {cfg.predictions}: {len(predictions)} predictions scored against the references of "
          f"{len(predictions)} of the {split_size} examples of the {cfg.lang} {cfg.split} split",
          file=sys.stderr, flush=True)
    row = {"step": 0, "stage": "main", "split": cfg.split, "lang": cfg.lang}
    row.update(score_language(predictions, references, cfg.lang, SpRouge(_spm_file(cfg))))
    run.log_metrics(row)
    return [row]


def load_run(cfg: DictConfig):
    """Rebuild the run's backbone and method from its own config and load a checkpoint: (method,
    tokenizer, the run's config, its trainer config as a dict, the step, the backbone's name_or_path).

    The checkpoint: checkpoint=<file>, else the run's latest, by the global_step stored inside each
    file (not by name: a resumed or interrupted run's newest state need not be last.ckpt's name).
    """
    import hydra

    from xgen_cli.checkpoints import latest_checkpoint, load_weights, read_checkpoint
    from xgen_cli.modeling.backbone import load_backbone
    from xgen_cli.modeling.tiny import resolve_name_or_path

    source = Path(cfg.run)
    trained = OmegaConf.load(source / ".hydra" / "config.yaml")
    if cfg.checkpoint:
        checkpoint = Path(cfg.checkpoint)
    else:
        latest = latest_checkpoint(source / "checkpoints")
        if latest is None:
            raise XgenError(f"{source / 'checkpoints'} holds no readable checkpoint: give checkpoint=<file.ckpt>")
        checkpoint = latest[0]
    state = read_checkpoint(checkpoint)
    container = OmegaConf.to_container(trained, resolve=True)
    name_or_path = resolve_name_or_path(container["model"], trained.cache_dir, container["trainer"])
    backbone, tokenizer = load_backbone(name_or_path)
    method = hydra.utils.instantiate(trained.method, backbone=backbone, tokenizer=tokenizer, seed=trained.seed,
                                     _convert_="all")
    identity = RunDir(source).read_run_json().get("identity", {}) if (source / "run.json").is_file() else {}
    described = ", ".join(f"{k}={identity[k]}" for k in ("model", "method", "prompt_length") if identity.get(k) is not None)
    load_weights(method, state, checkpoint, f"the run's model ({described})")
    step = int(state["global_step"])
    print(f"[eval] {checkpoint} (step {step})", file=sys.stderr)
    return method, tokenizer, trained, container["trainer"], step, name_or_path


def _run_examples(cfg: DictConfig, trained: DictConfig, langs: list[str]):
    """(the run's corpus, {lang: examples}): the run's own evaluation size, unless this command line
    sets data.eval_examples itself."""
    import hydra
    from hydra.core.hydra_config import HydraConfig

    corpus = hydra.utils.instantiate(trained.data.corpus)
    typed = {o.split("=", 1)[0].lstrip("+~") for o in HydraConfig.get().overrides.task}
    eval_examples = cfg.data.eval_examples if "data.eval_examples" in typed else trained.data.eval_examples
    return corpus, {lang: corpus.examples(lang, cfg.split, eval_examples) for lang in langs}


def _evaluator(cfg: DictConfig, trained: DictConfig, examples: dict, tokenizer, trainer: dict, name_or_path: str,
               **kwargs):
    from xgen_cli.evaluation import Evaluator
    from xgen_cli.metrics import SpRouge
    from xgen_cli.training import uses_bf16

    return Evaluator(examples, tokenizer, SpRouge(_spm_file(cfg, name_or_path)), bf16=uses_bf16(trainer),
                     max_new_tokens=trained.max_new_tokens, max_input_tokens=trained.max_input_tokens,
                     max_target_tokens=trained.max_target_tokens, split=cfg.split,
                     max_tokens_per_pass=cfg.max_tokens_per_pass or trained.get("max_tokens_per_pass"),
                     **OmegaConf.to_container(trained.eval, resolve=True), **kwargs)


def eval_run(cfg: DictConfig, run: RunDir) -> list[dict]:
    """Re-evaluate a finished (or any) run's checkpoint on cfg.langs or the run's own languages."""
    method, tokenizer, trained, trainer, step, name_or_path = load_run(cfg)
    _, examples = _run_examples(cfg, trained, list(cfg.langs or trained.data.eval_langs))
    return _evaluator(cfg, trained, examples, tokenizer, trainer, name_or_path).evaluate(method, step, run)


def eval_trans_test(cfg: DictConfig, run: RunDir) -> list[dict]:
    """TRANS-TEST (paper.md, Baselines): per target language (cfg.langs, else the run's evaluation
    languages but the source one), the articles translated into the source language, summarised by
    the run, the summaries translated back, and those scored against the target references. The
    predictions files keep the source-language summaries beside them (`source_prediction`)."""
    from xgen_cli.evaluation import format_progress
    from xgen_cli.metrics import score_language
    from xgen_cli.translation import build_translator

    method, tokenizer, trained, trainer, step, name_or_path = load_run(cfg)
    source = cfg.source_lang
    langs = list(cfg.langs or [lang for lang in trained.data.eval_langs if lang != source])
    corpus, examples = _run_examples(cfg, trained, langs)
    translator = build_translator(OmegaConf.to_container(cfg.translate, resolve=True), corpus=corpus,
                                  cache_dir=cfg.cache_dir)
    evaluator = _evaluator(cfg, trained, {}, tokenizer, trainer, name_or_path, compute_loss=False)
    method.eval()
    rows = []
    for lang, targets in examples.items():
        start = time.perf_counter()
        ids = [e.id for e in targets]
        english = translator.examples(targets, lang, source, cfg.split)
        summaries, _ = evaluator.predict(method, english)
        # Written before translating back: the file translator's user translates these.
        write_jsonl(run.path / "translate" / f"{lang}.{source}.jsonl",
                    [{"id": i, "text": t} for i, t in zip(ids, summaries, strict=True)])
        predictions = translator.texts(summaries, ids, source, lang, cfg.split)
        row = {"step": step, "stage": "main", "split": cfg.split, "lang": lang}
        row.update(score_language(predictions, [e.summary for e in targets], lang, evaluator.sp_rouge))
        run.write_predictions(step, lang, [{"id": e.id, "prediction": p, "reference": e.summary, "source_prediction": s}
                                           for e, p, s in zip(targets, predictions, summaries, strict=True)],
                              split=cfg.split)
        run.log_metrics(row)
        rows.append(row)
        print(format_progress(row, time.perf_counter() - start), file=sys.stderr, flush=True)
    return rows
