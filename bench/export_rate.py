"""Export rate and memory: stream a release of N rows to DPO JSON Lines, print the figures.

Usage: python bench/export_rate.py [--rows 1000000] [--database-url URL (an empty database)]

For each size one subprocess writes a release of N generated final-label rows straight into
the release tables (the labels' origin does not matter to the exporter), then
times the export path the CLI takes (``release_rows`` → the export rules → ``write_dpo`` to
JSON Lines, and the full ``jsonl`` format) in another, which reads its peak RSS
(a process of its own, so ``ru_maxrss`` is the export's). A flat peak across sizes shows the
export streams. The target is ≥ 50,000 rows/s to JSON Lines.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _row(i: int) -> str:
    """One release row as stored: the full final-label JSON of a realistic pair."""
    from formats.rows import HumanAnswer, JudgeRef, LabeledPair

    human = i % 10 == 0
    row = LabeledPair(
        pair_id=f"bench-{i:08d}",
        dataset="bench",
        prompt=f"Explain item {i} to a new colleague in two sentences.",
        response_a=f"Item {i} is a widget that does one thing well. " * 2,
        response_b=f"Item {i}: a thing. It exists and has an id. " * 2,
        label="A" if i % 3 else "B",
        source="human" if human else "ai",
        method="majority" if human else "ai",
        decision="human_review" if human else "auto_accept",
        policy_version=1,
        judges=(JudgeRef("openai/gpt-4o-mini", "v1"),),
        ai_label="A",
        ai_confidence=0.93,
        answers=(HumanAnswer("annotator-1", "A", "review", "2026-01-01T00:00:00+00:00"),)
        if human
        else (),
        agreement=1.0 if human else None,
        labeled_at="2026-01-01T00:00:00+00:00",
        meta={"source": "bench", "index": i},
    )
    return json.dumps(row.to_json(), ensure_ascii=False)


def _make_release(url: str, rows: int) -> None:
    from sqlalchemy import insert

    from referee.db.engine import ensure_schema, make_engine, transaction
    from referee.db.models import Dataset, Release, ReleaseRow

    engine = make_engine(url)
    ensure_schema(engine)
    with transaction(engine) as s:
        ds = Dataset(name="bench")
        s.add(ds)
        s.flush()
        release = Release(
            dataset_id=ds.id, name="v1", row_count=rows, rows_sha256="0" * 64, manifest={}
        )
        s.add(release)
        s.flush()
        batch: list[dict[str, object]] = []
        for i in range(rows):
            batch.append(
                {"release_id": release.id, "seq": i, "pair_id": f"bench-{i:08d}", "body": _row(i)}
            )
            if len(batch) == 20_000:
                s.execute(insert(ReleaseRow), batch)
                batch.clear()
        if batch:
            s.execute(insert(ReleaseRow), batch)
    engine.dispose()


def run_one(rows: int, url: str) -> dict[str, float]:
    """Export the release at ``url`` twice (dpo, jsonl) in this process; rates and peak memory."""
    from sqlalchemy import select

    from formats.dpo import write_dpo
    from formats.full_jsonl import write_jsonl
    from formats.rules import Exclusions, ExportRules, filter_rows
    from referee.db.engine import make_engine, session_factory
    from referee.db.models import Release
    from referee.export.build import frozen_index
    from referee.export.release import release_rows

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(url)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        figures: dict[str, float] = {"rows": rows}
        with session_factory(engine)() as session:
            release = session.scalars(select(Release)).one()
            for fmt in ("dpo", "jsonl"):
                out = Path(tmp) / f"out-{fmt}.jsonl"
                policy = "preferences" if fmt == "dpo" else "labels"
                start = time.perf_counter()
                kept = filter_rows(
                    release_rows(session, release),
                    ExportRules(policy),  # type: ignore[arg-type]
                    Exclusions(),
                    frozen=frozen_index(session),
                )
                written = write_dpo(kept, out) if fmt == "dpo" else write_jsonl(kept, out)
                seconds = time.perf_counter() - start
                assert written == rows, (written, rows)
                figures[f"{fmt}_rows_per_s"] = rows / seconds
                figures[f"{fmt}_seconds"] = seconds
                figures[f"{fmt}_file_mb"] = out.stat().st_size / 1e6
        figures["rss_before_mb"] = rss_before / 1024
        figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--make", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make:
        _make_release(args.database_url, args.make)
        return
    if args.one:
        print(json.dumps(run_one(args.one, args.database_url)))
        return
    results = []
    for rows in (args.rows // 10, args.rows):
        with tempfile.TemporaryDirectory() as tmp:
            url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
            # the release is made in one process and exported in another, so the export's
            # peak RSS is its own
            base = [sys.executable, __file__, "--database-url", url]
            subprocess.run([*base, "--make", str(rows)], check=True, env=os.environ)
            out = subprocess.run(
                [*base, "--one", str(rows)], check=True, capture_output=True, text=True,
                env=os.environ,
            )  # fmt: skip
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    for r in results:
        print(
            f"{int(r['rows']):>9,} rows: dpo {r['dpo_rows_per_s']:,.0f} rows/s "
            f"({r['dpo_file_mb']:.0f} MB), jsonl {r['jsonl_rows_per_s']:,.0f} rows/s "
            f"({r['jsonl_file_mb']:.0f} MB); RSS before export {r['rss_before_mb']:.0f} MB, "
            f"peak {r['peak_rss_mb']:.0f} MB"
        )
    small, large = results
    print(
        f"memory ratio {int(large['rows'] // small['rows'])}x rows -> "
        f"{large['peak_rss_mb'] / small['peak_rss_mb']:.2f}x peak RSS; dpo rate "
        f"{large['dpo_rows_per_s'] / 50_000:.2f}x the 50,000 rows/s target"
    )


if __name__ == "__main__":
    main()
