"""`logger=csv` across a resume: the rows before the checkpoint stay in metrics.csv, the rows a
killed attempt logged after it go, and the resumed run appends (Lightning's CSVLogger alone would
delete the file and keep only the resumed steps)."""

from __future__ import annotations

import csv

import pytest

from xgen_cli.csv_logger import ContinuingCSVLogger


def _rows(path):
    with path.open(newline="") as file:
        return [(int(float(r["step"])), r["train/loss"], r.get("en/sp_rouge", "")) for r in csv.DictReader(file)]


@pytest.mark.filterwarnings("ignore:Experiment logs directory")
def test_a_resumed_run_keeps_its_rows_up_to_the_checkpoint_and_appends(tmp_path):
    first = ContinuingCSVLogger(tmp_path, name="csv", version="")
    for step in (1, 2, 3, 4):  # killed after step 4; its last checkpoint is step 2's
        first.log_metrics({"train/loss": 1.0 / step}, step=step)
    first.log_metrics({"en/sp_rouge": 12.5}, step=2)
    first.save()
    resumed = ContinuingCSVLogger(tmp_path, name="csv", version="")
    assert resumed.rewind(2) == 2  # steps 3 and 4 go
    for step in (3, 4, 5):
        resumed.log_metrics({"train/loss": 0.5 / step}, step=step)
    resumed.save()
    assert _rows(resumed.metrics_csv) == [(1, "1.0", ""), (2, "0.5", ""), (2, "", "12.5"),
                                          (3, str(0.5 / 3), ""), (4, "0.125", ""), (5, "0.1", "")]
    # From scratch (no checkpoint yet): nothing of the killed attempt stays.
    again = ContinuingCSVLogger(tmp_path, name="csv", version="")
    assert again.rewind(None) == 6
    again.log_metrics({"train/loss": 2.0}, step=1)
    again.save()
    assert _rows(again.metrics_csv) == [(1, "2.0", "")]
