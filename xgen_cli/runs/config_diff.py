"""How a run's saved config differs from a new one: what the run-folder gate (resume) and the sweeper
(skip or resume a job) both ask before reusing a folder."""

from __future__ import annotations

# Config keys a resumed run may change: where built backbones are cached, and resume= itself.
RESUME_MAY_DIFFER = ("cache_dir", "resume")


def _flat(node, prefix: str = "") -> dict:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            out.update(_flat(value, f"{prefix}{key}."))
        return out
    return {prefix[:-1]: node}


# Keys a later xgen added, each with the value that behaves as before it existed: an unfinished run
# saved without them still resumes, and a sweep still recognises its finished jobs.
ADDED_KEYS = {"translate.name": "none", "train_lang_weights": "proportional", "trainer.threads": None,
              "method.frozen_dtype": "float32", "max_tokens_per_pass": None}


def config_differences(saved: dict, new: dict) -> list[str]:
    """`key: old -> new` for every key whose (unresolved) value differs, RESUME_MAY_DIFFER aside."""
    a, b = _flat(saved), _flat(new)
    keys = sorted(k for k in a.keys() | b.keys() if k.split(".")[0] not in RESUME_MAY_DIFFER
                  and not (k not in a and k in ADDED_KEYS and b[k] == ADDED_KEYS[k]))
    return [f"{k}: {a.get(k, '(absent)')} -> {b.get(k, '(absent)')}" for k in keys if a.get(k) != b.get(k)]


def first_few(differences: list[str], n: int = 5) -> str:
    return "; ".join(differences[:n]) + (f"; and {len(differences) - n} more" if len(differences) > n else "")
