"""The one way to find a dataset by name, and the one error when it does not exist."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from referee.db.models import Dataset
from referee.errors import DatasetNotFound

__all__ = ["DatasetNotFound", "find_dataset"]


def find_dataset(session: Session, name: str) -> Dataset:
    """The dataset called ``name``; :class:`DatasetNotFound` naming the datasets there are."""
    dataset = session.scalar(select(Dataset).where(Dataset.name == name))
    if dataset is None:
        known = sorted(session.scalars(select(Dataset.name)))
        hint = (
            f" (datasets: {', '.join(known)})"
            if known
            else "; ingest pairs first ('referee ingest FILE --dataset NAME')"
        )
        raise DatasetNotFound(f"no dataset named {name!r}{hint}")
    return dataset
