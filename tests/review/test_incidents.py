"""Issue 14, item 7: both-bad answers and pairs marked unsafe go to an incident queue.

Through the REST API and the CLI: who is served incidents (role ``incident`` or a lead, never
a plain reviewer), what ``referee incidents list|export`` show (pseudonyms, reasons, status),
and that such a pair never becomes a training preference.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from escalation_client import answer, client_for, next_item, person
from fastapi.testclient import TestClient
from review_factory import Routed, make_routed_dataset
from sqlalchemy import Engine, select

from referee.db.engine import transaction
from referee.db.models import Escalation, HumanLabel
from tests.helpers import run_cli


def flag(client: TestClient, who: dict[str, str], pair_id: str, body: Mapping[str, object]) -> int:
    return client.post(f"/v1/items/{pair_id}/label", headers=who, json=body).status_code


def _flagged_dataset(engine: Engine) -> tuple[Routed, TestClient, dict[str, str], list[str]]:
    """ann answers three review items: both_bad, A marked unsafe, and a plain B."""
    routed = make_routed_dataset(engine, n_review=4, n_spot=0)
    ann = person(engine, "ann")
    client = client_for(engine)
    first = next_item(client, routed, ann)
    assert first is not None
    assert (
        flag(client, ann, first, {"label": "both_bad", "reason": "both answers are wrong"}) == 200
    )
    second = next_item(client, routed, ann)
    assert second is not None
    # unsafe needs a reason, like both_bad
    assert flag(client, ann, second, {"label": "A", "unsafe": True}) == 422
    body = {"label": "A", "unsafe": True, "reason": "B leaks a phone number"}
    assert flag(client, ann, second, body) == 200
    third = next_item(client, routed, ann)
    assert third is not None
    answer(client, ann, third, "B")
    return routed, client, ann, [first, second, third]


def test_incidents_go_to_incident_reviewers_and_leads_only(engine: Engine) -> None:
    routed, client, _ann, (both_bad, unsafe, plain) = _flagged_dataset(engine)
    with transaction(engine) as s:
        rows = list(s.scalars(select(Escalation).order_by(Escalation.id)))
        stored = s.scalar(select(HumanLabel.unsafe).where(HumanLabel.pair_id == unsafe))
    assert [(r.pair_id, r.queue, r.status) for r in rows] == [
        (both_bad, "incident", "open"),
        (unsafe, "incident", "open"),
    ]
    assert rows[0].routing_reasons == ["low_confidence"]
    assert rows[1].human_reasons[0]["reason"] == "B leaks a phone number"
    assert stored is True

    bob = person(engine, "bob")
    ivy = person(engine, "ivy", role="incident")
    lea = person(engine, "lea", role="lead")
    # a plain reviewer gets the remaining review item, never an incident
    assert next_item(client, routed, bob) not in (both_bad, unsafe)
    # the incident reviewer gets incidents, oldest first, and nothing else
    assert next_item(client, routed, ivy) == both_bad
    confirmed = {"label": "both_bad", "reason": "confirmed: both wrong"}
    assert flag(client, ivy, both_bad, confirmed) == 200
    # the lead takes the other one while ivy has nothing left (the review item is not hers)
    assert next_item(client, routed, lea) == unsafe
    answer(client, lea, unsafe, "B")
    assert next_item(client, routed, ivy) is None
    with transaction(engine) as s:
        done = {
            r.pair_id: (r.status, r.resolved_by, r.resolution)
            for r in s.scalars(select(Escalation))
        }
        kinds = dict(
            s.execute(
                select(HumanLabel.annotator, HumanLabel.kind).where(
                    HumanLabel.annotator.in_(("ivy", "lea"))
                )
            ).all()
        )
    assert done == {both_bad: ("resolved", "ivy", "both_bad"), unsafe: ("resolved", "lea", "B")}
    assert kinds == {"ivy": "incident", "lea": "incident"}
    assert plain not in done


def test_incidents_cli_list_export_and_never_a_preference(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    routed, _client, _ann, (both_bad, unsafe, plain) = _flagged_dataset(engine)

    listed = run_cli(db_url, "incidents", "list", "--dataset", routed.name, "--json")
    assert listed.exit_code == 0, listed.output
    doc = json.loads(listed.stdout)
    assert doc["open"] == 2
    by_pair = {d["pair_id"]: d for d in doc["incidents"]}
    assert set(by_pair) == {both_bad, unsafe}
    item = by_pair[unsafe]
    assert item["status"] == "open" and item["flagged_by"] == "annotator-1"
    assert item["routing_reasons"] == ["low_confidence"]
    assert item["human_reasons"][0] | {"at": None} == {
        "annotator": "annotator-1",
        "label": "A",
        "unsafe": True,
        "reason": "B leaks a phone number",
        "why": "marked unsafe",
        "queue": "review",
        "at": None,
    }
    assert '"ann"' not in listed.stdout  # pseudonyms only
    table = run_cli(db_url, "incidents", "list", "--dataset", routed.name)
    assert table.exit_code == 0 and "2 incident(s)" in table.stdout and unsafe in table.stdout

    out = tmp_path / "incidents.jsonl"
    exported = run_cli(db_url, "incidents", "export", "--dataset", routed.name, "--out", str(out))
    assert exported.exit_code == 0, exported.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["pair_id"] for r in records] == [both_bad, unsafe]
    assert records[1]["incident"] == ["unsafe"] and records[1]["label"] == "A"
    assert records[1]["status"] == "open" and records[1]["prompt"]
    assert records[0]["incident"] == ["both_bad"]

    # the general incidents format names the unsafe pair too, and dpo leaves both out
    dpo = tmp_path / "train.jsonl"
    result = run_cli(
        db_url, "export", "--dataset", routed.name, "--format", "dpo", "--out", str(dpo), "--json"
    )
    assert result.exit_code == 0, result.output
    excluded = json.loads(result.stdout)["excluded"]
    assert excluded["both_bad"]["examples"] == [both_bad]
    assert excluded["incident"]["examples"] == [unsafe]
    kept = [json.loads(line)["prompt"] for line in dpo.read_text().splitlines()]
    assert len(kept) == 1  # only the plain B answer
    general = tmp_path / "general.jsonl"
    result = run_cli(
        db_url, "export", "--dataset", routed.name, "--format", "incidents", "--out", str(general)
    )
    assert result.exit_code == 0, result.output
    assert [json.loads(x)["pair_id"] for x in general.read_text().splitlines()] == [
        both_bad,
        unsafe,
    ]
    assert plain not in general.read_text()


def test_incidents_list_refuses_an_unknown_dataset(engine: Engine, db_url: str) -> None:
    result = run_cli(db_url, "incidents", "list", "--dataset", "nope")
    assert result.exit_code == 2
    empty = make_routed_dataset(engine, "quiet", n_review=1)
    result = run_cli(db_url, "incidents", "list", "--dataset", empty.name)
    assert result.exit_code == 0 and "no incidents" in result.stdout
