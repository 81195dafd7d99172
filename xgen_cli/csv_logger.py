"""`logger=csv`: Lightning's CSVLogger, continued across a resume.

Lightning's CSVLogger deletes an existing metrics.csv when it starts writing, so a resumed run's
file would hold only the steps after the resume. Here the file is kept, the rows a killed attempt
logged after the checkpoint the run resumes from are dropped (as RunDir.rewind does for
metrics.jsonl, which stays xgen's own record), and the resumed run appends. Rows are written as
they are logged, so none is lost with a killed process.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from lightning.pytorch.loggers import CSVLogger
from lightning.pytorch.utilities import rank_zero_only

from xgen_cli.runs.files import atomic_write_text


class ContinuingCSVLogger(CSVLogger):
    @property
    def metrics_csv(self) -> Path:
        return Path(self.log_dir) / "metrics.csv"

    @property
    def experiment(self):
        if self._experiment is not None:
            return self._experiment
        own = rank_zero_only.rank == 0  # other ranks get Lightning's dummy writer and touch no file
        kept = self.metrics_csv.read_bytes() if own and self.metrics_csv.is_file() else None
        writer = CSVLogger.experiment.fget(self)  # removes an existing metrics.csv
        if kept is not None:
            self.metrics_csv.write_bytes(kept)
            with self.metrics_csv.open(newline="") as file:
                writer.metrics_keys = sorted(csv.DictReader(file).fieldnames or [])  # append under its header
        return writer

    @rank_zero_only
    def log_metrics(self, metrics: dict, step: int | None = None) -> None:
        super().log_metrics(metrics, step)
        # On disk at once (Lightning buffers 100 steps): a killed run's file then holds every row up
        # to the checkpoint it resumes from, as metrics.jsonl does.
        self.experiment.save()

    def rewind(self, step: int | None) -> int:
        """Before training resumes from a checkpoint at `step` (None: from scratch), drop the rows
        logged after it; returns how many went."""
        if not self.metrics_csv.is_file():
            return 0
        with self.metrics_csv.open(newline="") as file:
            reader = csv.DictReader(file)
            fields, rows = reader.fieldnames or [], list(reader)
        kept = [row for row in rows if step is not None and row.get("step") and float(row["step"]) <= step]
        if len(kept) < len(rows):
            text = io.StringIO(newline="")
            writer = csv.DictWriter(text, fieldnames=fields)
            writer.writeheader()
            writer.writerows(kept)
            atomic_write_text(self.metrics_csv, text.getvalue())
        return len(rows) - len(kept)
