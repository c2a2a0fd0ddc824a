"""The typed report of :func:`calibration.policy.fit_policy`: what was certified, how and why.

A ``TypedDict`` rather than a class so it stays the plain JSON stored beside each policy version
(``policies.report``) and printed by ``referee calibrate --json``, while the type checker knows
every key a reader may use.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

__all__ = ["PolicyReport"]


class PolicyReport(TypedDict):
    """Everything ``fit_policy`` reports (the per-judge parts only with ``reports=True``)."""

    target_agreement: float
    delta: float
    judges_in_panel: list[str]
    gold_items: int
    selection_items: int
    certification_items: int
    route: str  # "gold" (a gold-free score on all the gold) or "selected" (the label model)
    level: float  # the share of δ the winning route was tested at
    score: str
    score_kind: str
    why_this_score: str
    candidates: list[dict[str, Any]]
    routes: list[dict[str, Any]]
    threshold: float | None
    certified: bool
    certified_coverage: float
    n_accepted_on_gold: int
    agreement_on_accepted_gold: float | None
    bound: float | None
    min_items_to_certify: int
    more_gold_needed: int | None
    why_not_certified: str | None
    grid: list[dict[str, Any]]
    ungold_pairs: int
    expected_coverage_on_ungold: float | None
    panel: NotRequired[dict[str, Any]]
    judges: NotRequired[dict[str, dict[str, Any]]]
    calibrated_reliability: NotRequired[dict[str, Any]]
    simple_routers: NotRequired[list[dict[str, Any]]]
