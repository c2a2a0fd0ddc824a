"""How ``referee calibrate --cascade`` prints its policy (the fit is
:func:`referee.app.calibrate_cascade.calibrate_cascade`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from referee.app.calibrate_cascade import calibrate_cascade
from referee.cli.common import stdout

__all__ = ["calibrate_cascade", "print_cascade"]


def print_cascade(doc: Mapping[str, Any]) -> None:
    """The human-readable report: each stage, then the union."""
    target, delta = doc["target_agreement"], doc["delta"]
    stdout.print(
        f"Cascade policy v{doc['policy_version']} for {doc['dataset']!r}: {len(doc['stages'])} "
        f"stages, each certified at δ = {doc['delta_per_stage']:.3g} on the gold items the "
        "earlier stages do not accept.",
        highlight=False,
    )
    for index, stage in enumerate(doc["stages"], start=1):
        judges = "+".join(stage["judges"])
        if stage["certified"]:
            stdout.print(
                f"  stage {index} ({judges}): accepts {stage['accepted_gold']} of the "
                f"{stage['gold_reaching']} gold items reaching it (agreement "
                f"{stage['agreement_on_accepted_gold']:.3f}) at score ≥ "
                f"{stage['threshold']:.4f} ({stage['score']}).",
                highlight=False,
                markup=False,
            )
        else:
            more = stage["more_gold_needed"]
            extra = f"; about {more} more gold labels would help" if more else ""
            stdout.print(
                f"  stage {index} ({judges}): certifies nothing on the {stage['gold_reaching']} "
                f"gold items reaching it ({stage['why']}{extra}); it passes every pair on.",
                highlight=False,
                markup=False,
            )
    agreement = doc["agreement_on_accepted_gold"]
    stdout.print(
        f"Together: {doc['certified_coverage']:.1%} of {doc['gold_items']} gold items "
        "auto-accepted"
        + (f" (agreement {agreement:.3f})" if agreement is not None else "")
        + f"; agreement ≥ {target} over every accepted label with probability ≥ "
        f"{1 - delta:.2f}. Run `referee prelabel --cascade` with the same judges in this order.",
        highlight=False,
        markup=False,
    )
