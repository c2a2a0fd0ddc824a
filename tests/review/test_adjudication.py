"""Issue 14, item 2: a spot check that disagrees with the accepted AI label goes to adjudication.

End to end through the REST API: the spot checker answers, a second reviewer (an expert when
one can take it) adjudicates, the final label follows the adjudication, and the spot-check
estimate still counts the disagreement.
"""

from __future__ import annotations

import json

from escalation_client import answer, client_for, next_item, person
from fastapi.testclient import TestClient
from review_factory import Routed, make_routed_dataset
from sqlalchemy import Engine, select

from judge.conversation import Message, flat_prompt, messages_to_json
from referee.db.engine import transaction
from referee.db.models import Escalation, HumanLabel, Pair, ReviewAssignment, Reviewer
from referee.db.routing import spot_check_accuracy, spot_check_outcomes
from referee.review import final_labels
from referee.review.escalation import withdraw_after_undo
from tests.helpers import run_cli


def spot_check_all(client: TestClient, routed: Routed, who: dict[str, str], disagree: str) -> None:
    """``who`` answers every spot check: B (against the AI's A) on ``disagree``, else A."""
    while (pid := next_item(client, routed, who)) is not None:
        assert pid in routed.spot
        answer(client, who, pid, "B" if pid == disagree else "A")


def final_of(engine: Engine, routed: Routed, pair_id: str) -> tuple[str | None, str, list[str]]:
    with transaction(engine) as s:
        row = next(f for f in final_labels(s, routed.dataset_id) if f.pair_id == pair_id)
    return row.label, row.method, [f"{v.kind}:{v.label}" for v in row.votes]


def test_disagreeing_spot_check_is_adjudicated_by_an_expert_and_the_label_follows(
    engine: Engine, db_url: str
) -> None:
    routed = make_routed_dataset(engine, n_review=0, n_spot=2, ai_label="A")
    ann = person(engine, "ann")
    bob = person(engine, "bob")
    eve = person(engine, "eve", role="expert")
    client = client_for(engine)
    disputed, confirmed = routed.spot
    spot_check_all(client, routed, ann, disagree=disputed)

    with transaction(engine) as s:
        rows = list(s.scalars(select(Escalation)))
    assert [(r.pair_id, r.queue, r.status, r.flagged_by) for r in rows] == [
        (disputed, "adjudication", "open", "ann")
    ]
    # until it is adjudicated, the spot checker's answer stands (as before)
    assert final_of(engine, routed, disputed) == ("B", "majority", ["spot_check:B"])

    # an expert exists, so a plain reviewer is not handed the adjudication
    assert next_item(client, routed, bob) is None
    assert next_item(client, routed, eve) == disputed
    answer(client, eve, disputed, "A")  # the expert sides with the AI
    assert next_item(client, routed, eve) is None

    assert final_of(engine, routed, disputed) == (
        "A",
        "adjudication",
        ["spot_check:B", "adjudication:A"],
    )
    assert final_of(engine, routed, confirmed) == ("A", "majority", ["spot_check:A"])
    with transaction(engine) as s:
        row = s.scalars(select(Escalation)).one()
        assert (row.status, row.resolved_by, row.resolution) == ("resolved", "eve", "A")
        kinds = sorted(s.scalars(select(HumanLabel.kind)))
        # the disagreement is kept for the estimate: one of two spot checks disagreed
        outcomes = {o.pair_id: o.correct for o in spot_check_outcomes(s, routed.dataset_id)}
        estimate = spot_check_accuracy(s, routed.dataset_id)
    assert kinds == ["adjudication", "spot_check", "spot_check"]
    assert outcomes == {disputed: False, confirmed: True}
    assert estimate.n == 2 and estimate.accuracy == 0.5

    # the CLI's final labels carry the adjudication
    result = run_cli(db_url, "labels", "final", "--dataset", routed.name, "--json")
    assert result.exit_code == 0, result.output
    by_pair = {r["pair_id"]: r for r in json.loads(result.stdout)["rows"]}
    assert (by_pair[disputed]["label"], by_pair[disputed]["method"]) == ("A", "adjudication")
    assert [a["kind"] for a in by_pair[disputed]["answers"]] == ["spot_check", "adjudication"]
    # a second look is a sample of disputes: it is not pooled into inter-annotator agreement
    result = run_cli(db_url, "agreement", "--dataset", routed.name, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["comparable_items"] == 0


def test_without_an_expert_anyone_but_the_spot_checker_adjudicates(engine: Engine) -> None:
    routed = make_routed_dataset(engine, n_review=2, n_spot=1, ai_label="A")
    ann = person(engine, "ann")
    ivy = person(engine, "ivy", role="incident")
    bob = person(engine, "bob")
    client = client_for(engine)
    disputed = routed.spot[0]
    while (pid := next_item(client, routed, ann)) is not None:  # ann answers everything
        answer(client, ann, pid, "B")
    assert next_item(client, routed, ann) is None  # never her own adjudication
    assert next_item(client, routed, ivy) is None  # incident reviewers adjudicate nothing
    assert next_item(client, routed, bob) == disputed  # served before anything else
    answer(client, bob, disputed, "B")  # sides with the spot checker
    assert final_of(engine, routed, disputed) == (
        "B",
        "adjudication",
        ["spot_check:B", "adjudication:B"],
    )
    with transaction(engine) as s:
        (outcome,) = spot_check_outcomes(s, routed.dataset_id)
    assert outcome.correct is False


def test_expert_gets_adjudication_before_regular_items_and_an_expert_spot_checker_is_skipped(
    engine: Engine,
) -> None:
    routed = make_routed_dataset(engine, n_review=3, n_spot=1, ai_label="A")
    eve = person(engine, "eve", role="expert")
    bob = person(engine, "bob")
    client = client_for(engine)
    disputed = routed.spot[0]
    # eve, the only expert, answers until she has spot-checked (and disagreed)
    while (pid := next_item(client, routed, eve)) is not None:
        answer(client, eve, pid, "B")
        if pid == disputed:
            break
    # no expert who has not seen the pair: the plain reviewer gets it, ahead of review items
    assert next_item(client, routed, bob) == disputed
    answer(client, bob, disputed, "A")
    assert final_of(engine, routed, disputed)[:2] == ("A", "adjudication")


def test_expert_role_is_accepted_by_the_cli(db_url: str, engine: Engine) -> None:
    for role in ("expert", "incident"):
        result = run_cli(db_url, "reviewers", "add", f"someone-{role}", "--role", role)
        assert result.exit_code == 0, result.output
    result = run_cli(db_url, "reviewers", "add", "x", "--role", "wizard")
    assert result.exit_code == 2


def test_withdraw_after_undo_takes_the_flag_and_the_resolution_back(engine: Engine) -> None:
    """What the undo of a label must also undo (``referee.review.undo`` is to call it)."""
    routed = make_routed_dataset(engine, n_review=0, n_spot=1, ai_label="A")
    ann = person(engine, "ann")
    bob = person(engine, "bob")
    client = client_for(engine)
    disputed = routed.spot[0]

    def undo(annotator: str, kind: str, queue: str) -> tuple[str, int]:
        with transaction(engine) as s:
            label = s.scalars(
                select(HumanLabel).where(HumanLabel.annotator == annotator, HumanLabel.kind == kind)
            ).one()
            withdraw_after_undo(s, label, queue)
            s.delete(label)
            held = s.scalars(
                select(ReviewAssignment)
                .join(Reviewer)
                .where(ReviewAssignment.queue == queue, Reviewer.name == annotator)
            ).one()
            held.completed_at = None  # as undo_label does: the same lease, open again
            row = s.scalars(select(Escalation)).one()
            return row.status, len(row.human_reasons)

    spot_check_all(client, routed, ann, disagree=disputed)
    assert undo("ann", "spot_check", "spot_check") == ("withdrawn", 0)
    assert next_item(client, routed, bob) is None  # a withdrawn item is not served
    answer(client, ann, disputed, "B")  # ann answers again, and disagrees again
    assert next_item(client, routed, bob) == disputed
    answer(client, bob, disputed, "A")
    assert undo("bob", "adjudication", "adjudication") == ("open", 1)
    assert next_item(client, routed, bob) == disputed  # his own lease, resumed
    answer(client, bob, disputed, "B")
    with transaction(engine) as s:
        row = s.scalars(select(Escalation)).one()
        assert (row.status, row.flagged_by, row.resolved_by, row.resolution) == (
            "resolved",
            "ann",
            "bob",
            "B",
        )


def test_a_paused_expert_does_not_hold_adjudications_back(engine: Engine) -> None:
    routed = make_routed_dataset(engine, n_review=0, n_spot=1, ai_label="A")
    ann = person(engine, "ann")
    bob = person(engine, "bob")
    person(engine, "eve", role="expert")
    client = client_for(engine)
    spot_check_all(client, routed, ann, disagree=routed.spot[0])
    assert next_item(client, routed, bob) is None  # eve can take it
    with transaction(engine) as s:
        s.scalars(select(Reviewer).where(Reviewer.name == "eve")).one().paused = True
    assert next_item(client, routed, bob) == routed.spot[0]


def test_an_adjudicator_can_undo_and_answer_again(engine: Engine) -> None:
    """Undo of an adjudication deletes that answer (not a review one) and reopens the item."""
    routed = make_routed_dataset(engine, n_review=0, n_spot=1, ai_label="A")
    ann = person(engine, "ann")
    eve = person(engine, "eve", role="expert")
    client = client_for(engine)
    (disputed,) = routed.spot
    spot_check_all(client, routed, ann, disagree=disputed)
    assert next_item(client, routed, eve) == disputed
    answer(client, eve, disputed, "B")
    undone = client.post(f"/v1/items/{disputed}/undo", headers=eve)
    assert undone.status_code == 200, undone.text
    with transaction(engine) as s:
        assert sorted(s.scalars(select(HumanLabel.kind))) == ["spot_check"]
        assert s.scalars(select(Escalation)).one().status == "open"
    answer(client, eve, disputed, "A")  # the same lease, answered again
    assert final_of(engine, routed, disputed)[:2] == ("A", "adjudication")


def test_a_lead_adjudicating_or_answering_an_incident_gets_the_conversation(
    engine: Engine, db_url: str
) -> None:
    """A lead's second looks (adjudication when no expert can take it, and incidents) come from
    ``/v1/next`` like any item, with the conversation's turns as sent, untouched."""
    routed = make_routed_dataset(engine, n_review=0, n_spot=2, ai_label="A")
    disputed, flagged = routed.spot
    turns = [Message("system", "Be brief."), Message("user", "Hi <script>alert(1)</script>"),
             Message("assistant", "Hello!"), Message("user", "Name a fruit")]  # fmt: skip
    with transaction(engine) as s:
        for pair in s.scalars(select(Pair).where(Pair.id.in_(routed.spot))):
            pair.messages, pair.prompt = messages_to_json(turns), flat_prompt(turns)
    ann, lead = person(engine, "ann"), person(engine, "lee", role="lead")
    client = client_for(engine)
    while (pid := next_item(client, routed, ann)) is not None:
        body = {"label": "B"} if pid == disputed else {"label": "both_bad", "reason": "both wrong"}
        assert client.post(f"/v1/items/{pid}/label", headers=ann, json=body).status_code == 200
    served = {}
    for _ in range(2):
        resp = client.get("/v1/next", params={"dataset": routed.name}, headers=lead)
        assert resp.status_code == 200, resp.text
        served[resp.json()["pair_id"]] = resp.json()
        answer(client, lead, resp.json()["pair_id"], "A")
    assert next_item(client, routed, lead) is None
    assert set(served) == {disputed, flagged}
    for doc in served.values():
        assert doc["messages"] == [{"role": t.role, "content": t.content} for t in turns]
        assert doc["prompt"] == flat_prompt(turns)
    with transaction(engine) as s:
        kinds = s.execute(
            select(HumanLabel.pair_id, HumanLabel.kind).where(HumanLabel.annotator == "lee")
        ).all()
    assert sorted(kinds) == sorted([(disputed, "adjudication"), (flagged, "incident")])
