"""``--skip-invalid``: import the valid records of a file and write the others to a file.

Without it a file with any bad record is refused whole (nothing written). With it, every problem
that concerns one record (a line) skips that record instead; problems about the file as a whole,
or that stop the reader (a broken CSV quote), still refuse the file. The skipped records go to a
JSON Lines file, one line per skipped record::

    {"line": 7, "problems": [{"field": "prompt[2].role", "reason": "must be one of ..."}],
     "record": {...the record as read, when it could be read...}}
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from formats.problems import Problem, ProblemLog


def default_skipped_path(path: Path) -> Path:
    """``<name>.skipped.jsonl`` beside the input (``data.jsonl`` → ``data.skipped.jsonl``)."""
    name = path.name
    for suffix in (".jsonl.gz", ".json.gz", ".jsonl", ".ndjson", ".json", ".csv", ".tsv"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    else:
        name = path.stem
    return path.with_name(f"{name}.skipped.jsonl")


@dataclass
class SkippedRecords(ProblemLog):
    """A problem log that skips records instead of refusing the file; ``out`` is written last."""

    out: Path = Path("skipped.jsonl")
    entries: dict[int, dict[str, Any]] = field(default_factory=dict)

    def add(self, problem: Problem) -> None:
        entry = self.entries.setdefault(
            problem.line, {"line": problem.line, "problems": [], "record": None}
        )
        entry["problems"].append({"field": problem.field, "reason": problem.message})

    def keep_record(self, line: int, raw: dict[str, Any]) -> None:
        """Attach the record as read to the entry of ``line`` (when it is skipped)."""
        if line in self.entries:
            self.entries[line]["record"] = raw

    def __bool__(self) -> bool:
        return False  # skipped records never refuse the file

    @property
    def count(self) -> int:
        """How many records were skipped."""
        return len(self.entries)

    def write(self) -> None:
        """The skipped records, in line order, to :attr:`out` (created even when empty)."""
        with self.out.open("w", encoding="utf-8") as handle:
            for line in sorted(self.entries):
                handle.write(json.dumps(self.entries[line], ensure_ascii=False, default=str))
                handle.write("\n")


__all__ = ["SkippedRecords", "default_skipped_path"]
