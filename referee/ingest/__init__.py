"""Reading other people's files into Referee: streaming, strict and atomic."""

from formats.problems import InputRejected, Problem
from referee.ingest.importer import (
    ImportSummary,
    import_judgments,
    import_labels,
    ingest_pairs,
)
from referee.ingest.records import FieldMap

__all__ = [
    "FieldMap",
    "ImportSummary",
    "InputRejected",
    "Problem",
    "import_judgments",
    "import_labels",
    "ingest_pairs",
]
