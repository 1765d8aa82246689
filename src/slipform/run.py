"""Where a training run keeps what: the one place that spells a run directory's layout.

    runs/cement/
      config.json              every setting of the run, defaults included (written at its start)
      log.jsonl                one strict-JSON row per logged step (``null`` where a term is absent)
      checkpoints/latest.pt    model, optimizer, scheduler, scaler, RNG states, data position
      tensorboard/             TensorBoard events (when tensorboard is installed)
      selection.json           hardest-of-K runs: what the selection picked, by third of training
      skipped.json             rows and images training could not use, by reason
      margin_fit.json          a calibrated Cement margin's LOESS fits (``--margin-schedule calibrated``)
      margin_fit.png           their plot: similarities and margin against concreteness (the paper's Fig. 4)
      model.pt                 the open_clip checkpoint, written last: the run is finished
      hf/                      a Hugging Face CLIP directory (``--export-hf``)

The names are those the README documents; existing run directories stay readable. Only the
standard library is imported here, so every layer may use it (tests/test_layers.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RunDir:
    root: Path

    def __post_init__(self):
        object.__setattr__(self, "root", Path(self.root))

    # -- paths
    @property
    def config(self) -> Path:
        return self.root / "config.json"

    @property
    def log(self) -> Path:
        return self.root / "log.jsonl"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def checkpoint(self) -> Path:
        """Where the trainer saves (and resumes from) its latest state, present or not."""
        return self.checkpoints / "latest.pt"

    @property
    def tensorboard(self) -> Path:
        return self.root / "tensorboard"

    @property
    def selection(self) -> Path:
        return self.root / "selection.json"

    @property
    def skipped(self) -> Path:
        return self.root / "skipped.json"

    @property
    def margin_fit(self) -> Path:
        return self.root / "margin_fit.json"

    @property
    def margin_fit_plot(self) -> Path:
        return self.root / "margin_fit.png"

    @property
    def model(self) -> Path:
        return self.root / "model.pt"

    @property
    def hf(self) -> Path:
        return self.root / "hf"

    @property
    def gradients_plot(self) -> Path:
        """Where ``slipform plot`` puts its figure by default."""
        return self.root / "gradients.png"

    # -- state
    @property
    def finished(self) -> bool:
        """The run wrote its final ``model.pt``, the last file a run writes (an open_clip model;
        a Hugging Face-family run ends with its checkpoint only)."""
        return self.model.is_file()

    def latest_checkpoint(self) -> Path | None:
        """The checkpoint a restarted run resumes from; None before the first save."""
        return self.checkpoint if self.checkpoint.is_file() else None

    # -- readers and writers
    def read_config(self) -> dict:
        if not self.config.is_file():
            raise FileNotFoundError(f"{self.config}: no run configuration in this directory")
        return json.loads(self.config.read_text())

    def write_config(self, config: dict) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        self.config.write_text(json.dumps(config, indent=2))
        return self.config

    def read_log(self) -> list[dict]:
        """The log's rows in order; blank lines are skipped, any other non-JSON line is an error."""
        if not self.log.is_file():
            raise FileNotFoundError(f"{self.log}: no training log in this run directory")
        rows = []
        for n, line in enumerate(self.log.read_text().splitlines(), 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except ValueError:
                raise ValueError(f"{self.log}:{n}: not a JSON line") from None
        return rows


__all__ = ["RunDir"]
