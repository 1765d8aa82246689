"""What a planting run did: counts by outcome, merged across chunks, shards and machines."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field


@dataclass
class Summary:
    read: int = 0
    planted: int = 0
    negatives: int = 0
    resumed: int = 0
    skipped: Counter = field(default_factory=Counter)
    rejected: Counter = field(default_factory=Counter)  # proposals refused by the checks, by reason
    seconds: float = 0.0
    startup_seconds: float = 0.0  # loading the pipeline, vocabulary and embeddings
    output: str = ""

    def as_dict(self) -> dict:
        d = asdict(self)
        d["skipped"] = dict(self.skipped)
        d["rejected"] = dict(self.rejected)
        d["skipped_total"] = sum(self.skipped.values())
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Summary:
        return cls(d["read"], d["planted"], d["negatives"], d["resumed"], Counter(d["skipped"]),
                   Counter(d["rejected"]), d["seconds"], d["startup_seconds"], d["output"])

    def add(self, other: Summary) -> None:
        """Count ``other``'s captions in this summary (times and output stay this one's)."""
        self.read += other.read
        self.planted += other.planted
        self.negatives += other.negatives
        self.resumed += other.resumed
        self.skipped.update(other.skipped)
        self.rejected.update(other.rejected)

    def text(self) -> str:
        lines = [f"read {self.read} captions; planted {self.negatives} negatives for {self.planted} captions "
                 f"in {self.seconds:.1f}s ({self.startup_seconds:.1f}s loading)" + (f"; {self.resumed} already done (resumed)" if self.resumed else "")]
        total = sum(self.skipped.values())
        if total:
            lines.append(f"skipped {total}:")
            lines += [f"  {n:>7}  {reason}" for reason, n in self.skipped.most_common()]
        if self.rejected:
            lines.append(f"rejected {sum(self.rejected.values())} proposals by the checks (the next target was tried):")
            lines += [f"  {n:>7}  {reason}" for reason, n in self.rejected.most_common()]
        lines.append(f"output: {self.output}")
        return "\n".join(lines)


def skip_kind(reason: str) -> str:
    """The reason a skip is counted under: a backend's error message is counted as its kind."""
    return reason.split(": ")[0] if reason.startswith("backend error") else reason
