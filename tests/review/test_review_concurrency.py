"""Several reviewers leasing at once never share an item when k = 1."""

from __future__ import annotations

import threading
from collections import Counter

from review_factory import make_reviewer, make_routed_dataset
from sqlalchemy import Engine, select

from referee.db.engine import transaction
from referee.db.models import HumanLabel
from referee.review import LabelSubmission, QueueConfig, lease_next, submit_label


def test_concurrent_reviewers_get_distinct_items(engine: Engine, embedder) -> None:
    config = QueueConfig(gold_rate=0.0)
    routed = make_routed_dataset(engine, n_review=24)
    reviewers = [make_reviewer(engine, f"r{i}")[0] for i in range(4)]
    with transaction(engine) as s:  # build the queue once, outside the race
        assert lease_next(s, routed.name, reviewers[0], config, embedder=embedder) is not None
    errors: list[BaseException] = []
    start = threading.Barrier(len(reviewers))

    def work(reviewer) -> None:  # type: ignore[no-untyped-def]
        start.wait()
        try:
            while True:
                with transaction(engine) as s:
                    got = lease_next(s, routed.name, reviewer, config, embedder=embedder)
                    if got is None:
                        return
                    submit_label(s, got.item.pair_id, reviewer, LabelSubmission("A"))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(r,)) for r in reviewers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    with transaction(engine) as s:
        per_pair = Counter(s.scalars(select(HumanLabel.pair_id)))
    assert set(per_pair) == set(routed.review)
    assert set(per_pair.values()) == {1}
