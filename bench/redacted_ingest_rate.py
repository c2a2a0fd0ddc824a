"""Ingest with redaction: pairs/s through ``ingest_pairs`` with and without ``--redact``.

Usage: python bench/redacted_ingest_rate.py [--pairs 20000]

The pairs are the real prompts and responses of the shared data (LLMBar, PandaLM, LLMFAO;
about 1,300 characters a pair), repeated under fresh ids up to ``--pairs``, with an email, a
phone number and an API key planted in every tenth pair so the vault is written too. Each
run ingests into a fresh SQLite database (and vault); the figures are measured in one process,
one after the other. Target: ≥ 5,000 pairs/s with redaction on this 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data"


def write_corpus(path: Path, pairs: int) -> None:
    """``pairs`` real pairs under fresh ids, PII planted in every tenth."""
    source: list[dict[str, object]] = []
    for name in ("llmbar", "pandalm", "llmfao"):
        for line in (SHARED / name / "pairs.jsonl").read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                source.append({k: row[k] for k in ("prompt", "response_a", "response_b")})
    with path.open("w", encoding="utf-8") as out:
        for i in range(pairs):
            row = dict(source[i % len(source)])
            if i % 10 == 0:
                row["prompt"] = (
                    f"{row['prompt']}\nContact jane.doe{i}@example.com or +1 415 555 {i % 10000:04d}"
                )
                row["response_a"] = (
                    f"{row['response_a']}\napi_key = sk-proj-{i:012d}abcdefghijklmnopqrstu"
                )
            out.write(json.dumps({"id": f"bench-{i:08d}", **row}) + "\n")


def run(path: Path, redact: bool, tmp: Path) -> float:
    """Ingest ``path`` into a fresh database; pairs per second."""
    from referee.db.engine import ensure_schema, make_engine
    from referee.ingest import ingest_pairs
    from referee.ingest.redaction import RedactionSetup
    from referee.privacy import Vault, VaultKey, generate_vault_key

    tag = "redacted" if redact else "plain"
    engine = make_engine(f"sqlite:///{tmp / f'{tag}.db'}")
    ensure_schema(engine)
    setup = (
        RedactionSetup(
            redact=True,
            vault=Vault(f"sqlite:///{tmp / 'vault.db'}"),
            key=VaultKey.from_string(generate_vault_key()),
        )
        if redact
        else None
    )
    start = time.perf_counter()
    summary = ingest_pairs(engine, path, "bench", max_field_bytes=1_000_000, redaction=setup)
    seconds = time.perf_counter() - start
    engine.dispose()
    return summary.inserted / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        corpus = tmp / "pairs.jsonl"
        write_corpus(corpus, args.pairs)
        plain = run(corpus, False, tmp)
        redacted = run(corpus, True, tmp)
    print(
        f"{args.pairs:,} real pairs: plain {plain:,.0f} pairs/s, redacted {redacted:,.0f} pairs/s"
    )
    print(
        f"redaction keeps {redacted / plain:.2f}x of the plain rate; "
        f"{redacted / 5000:.2f}x the 5,000 pairs/s target"
    )


if __name__ == "__main__":
    main()
