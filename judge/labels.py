"""The vocabulary every package shares: labels, orders and the verdicts a judge may give.

A *label* is always in the original frame of a pair: ``A`` means ``response_a`` is better,
whatever order the responses were shown in.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

Label = Literal["A", "B", "tie", "both_bad"]
Order = Literal["AB", "BA"]
LabelKind = Literal["gold", "review", "spot_check"]
JudgmentStatus = Literal["ok", "unparseable", "failed"]

LABELS: Final[tuple[Label, ...]] = get_args(Label)
ORDERS: Final[tuple[Order, ...]] = get_args(Order)
LABEL_KINDS: Final[tuple[LabelKind, ...]] = get_args(LabelKind)
JUDGMENT_STATUSES: Final[tuple[JudgmentStatus, ...]] = get_args(JudgmentStatus)

__all__ = [
    "JUDGMENT_STATUSES",
    "LABELS",
    "LABEL_KINDS",
    "ORDERS",
    "JudgmentStatus",
    "Label",
    "LabelKind",
    "Order",
]
