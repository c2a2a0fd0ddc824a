"""``referee demo``: the whole loop on the bundled LLMBar sample, through the real commands.

Steps: ingest → pre-label (replay judges answering with recorded GPT-4 and PaLM 2 verdicts in
both orders, through the worker path) → import half of the gold labels → calibrate → route the
pairs → simulated reviewers answer the review queue from the held-back gold labels → cost report
→ a check of the final labels against the held-back gold → a release (manifest through the
promotion gate) and its DPO file. Needs no services and no API keys.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.rule import Rule

from referee.cli.common import EXIT_RUNTIME, EmbedderChoice, embedder_of, fail, stdout

if TYPE_CHECKING:
    from routing.embeddings import Embedder

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "data" / "sample"
DATASET = "llmbar-demo"
PANEL = ("gpt-4/vanilla", "gpt-4/vanilla_norules", "palm2/vanilla")


def _step(title: str) -> None:
    stdout.print(Rule(f"[bold]{title}[/]", align="left"))


def _run(*args: str) -> None:
    """Run one ``referee`` command in this process, as a user would type it."""
    from referee.cli.main import app

    shown = " ".join(a if " " not in a else repr(a) for a in args)
    stdout.print(f"[dim]$ referee {shown}[/]")
    command = typer.main.get_command(app)
    code = command.main(list(args), prog_name="referee", standalone_mode=False)
    if isinstance(code, int) and code != 0:
        fail(f"demo step `referee {shown}` failed (exit {code})", EXIT_RUNTIME)


def _split_gold(workdir: Path, seed: int) -> tuple[Path, dict[str, str], dict[str, str]]:
    """Half of the gold for calibration (written to a file), half held back for reviewers."""
    records = [
        json.loads(line)
        for line in (SAMPLE_DIR / "gold_labels.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    random.Random(seed).shuffle(records)
    half = len(records) // 2
    calibration, held_back = records[:half], records[half:]
    path = workdir / "gold_calibration.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in calibration), encoding="utf-8")
    return (
        path,
        {r["pair_id"]: r["label"] for r in calibration},
        {r["pair_id"]: r["label"] for r in held_back},
    )


def demo(
    workdir: Annotated[
        Path, typer.Option("--workdir", help="Folder for the demo database and outputs.")
    ] = Path("referee-demo"),
    database_url: Annotated[
        str | None,
        typer.Option("--database-url", help="Use this database instead of a fresh SQLite file."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the gold split.")] = 0,
    embedder: EmbedderChoice = "auto",
) -> None:
    """Run the end-to-end demo on the bundled LLMBar sample (no services, no API keys)."""
    started = time.perf_counter()
    vectors = None if embedder == "auto" else embedder_of(embedder)  # auto: MiniLM, else TF-IDF
    if not (SAMPLE_DIR / "pairs.jsonl").is_file():
        fail(f"the bundled sample is missing from {SAMPLE_DIR}; reinstall Referee", EXIT_RUNTIME)
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    url = database_url or f"sqlite:///{(workdir / 'demo.db').resolve()}"
    os.environ["REFEREE_DATABASE_URL"] = url
    os.environ.pop("REFEREE_BROKER_URL", None)
    calibration_gold, held_back = _label_and_route(workdir, seed)
    _review_and_check(workdir, calibration_gold, held_back, vectors)
    _release_and_export(workdir)
    stdout.print(
        f"\nDone in {time.perf_counter() - started:.1f} s. Outputs in {workdir}/: demo.db, "
        "decisions.jsonl, cost_report.html, releases/v1/manifest.json, train_dpo.jsonl"
    )


def _label_and_route(workdir: Path, seed: int) -> tuple[dict[str, str], dict[str, str]]:
    """Steps 1-5: ingest, pre-label, import half the gold, calibrate, route. Returns the gold
    labels imported and the ones held back."""
    recorded = SAMPLE_DIR / "recorded_judgments.jsonl"
    _step("1. Ingest the bundled LLMBar sample (419 real pairs, MIT licence)")
    _run("ingest", str(SAMPLE_DIR / "pairs.jsonl"), "--dataset", DATASET)

    _step("2. Pre-label through the worker path: 3 replay judges x 2 orders per pair")
    stdout.print(
        "[dim]No provider is reachable here, so the judges are replay judges answering with "
        "verdicts recorded from real GPT-4 and PaLM 2 runs (both orders).[/]"
    )
    judges = [a for name in PANEL for a in ("--judge", f"replay:{recorded}#{name}")]
    _run("prelabel", "--dataset", DATASET, *judges)

    _step("3. Import half of the gold labels for calibration")
    calibration_file, calibration_gold, held_back = _split_gold(workdir, seed)
    _run("labels", "import", str(calibration_file), "--kind", "gold")

    _step("4. Calibrate: judge-vs-gold report and a certified auto-accept policy")
    _run("calibrate", "--dataset", DATASET, "--target-agreement", "0.85", "--delta", "0.1")

    _step("5. Route every pair")
    _run("route", "--dataset", DATASET, "--out", str(workdir / "decisions.jsonl"))
    return calibration_gold, held_back


def _review_and_check(
    workdir: Path,
    calibration_gold: dict[str, str],
    held_back: dict[str, str],
    vectors: Embedder | None,
) -> None:
    """Steps 6-8: simulated reviewers answer the queue (ordered with ``vectors``), the cost
    report, and the labels checked against the held-back gold."""
    _step("6. Human review queue, answered by SIMULATED reviewers")
    stdout.print(
        "[bold yellow]Simulated reviewers:[/] they answer from the held-back gold labels of "
        "the sample, through the same lease/submit path as the API and `referee review`."
    )
    from referee.cli.common import open_database
    from referee.review.simulate import answer_queue_from_gold

    engine = open_database()
    gold = {**calibration_gold, **held_back}
    counts = answer_queue_from_gold(engine, DATASET, gold, embedder=vectors)
    stdout.print(
        "simulated-reviewer-1 answered "
        + ", ".join(f"{v} {k}" for k, v in counts.items() if v)
        + " items"
    )

    _step("7. Cost report")
    _run("report", "cost", "--dataset", DATASET, "--html", str(workdir / "cost_report.html"))

    _step("8. Check against the held-back gold labels (never shown to the policy)")
    from referee.app.held_back import check_against_held_back

    check = check_against_held_back(engine, DATASET, held_back)
    agree_ai = check["auto_accepted_agreement"]
    agree_all = check["final_agreement"]
    stdout.print(
        f"{check['auto_accepted']} of {check['held_back_pairs']} held-back pairs auto-accepted"
        + (f", agreeing with gold on {agree_ai:.1%}" if agree_ai is not None else "")
        + f"; {check['final_labels']} final labels"
        + (f", agreeing on {agree_all:.1%}" if agree_all is not None else "")
    )


def _release_and_export(workdir: Path) -> None:
    """Step 9: the release through the gate, and its DPO export."""
    _step("9. Release the final labels and export them for DPO training")
    release_dir = workdir / "releases" / "v1"
    stdout.print(
        "[bold yellow]Demo only:[/] one simulated reviewer answers each item, so agreement "
        "rests on very few pairs with two answers; the demo passes --min-agreement-items 0 "
        "(the manifest states n, the minimum and the interval). A real release keeps the "
        "default minimum of 50."
    )
    _run(
        "release", "--dataset", DATASET, "--name", "v1", "--out", str(release_dir),
        "--min-agreement-items", "0",
    )  # fmt: skip
    dpo_file = workdir / "train_dpo.jsonl"
    _run(
        "export", "--dataset", DATASET, "--release", "v1", "--format", "dpo",
        "--out", str(dpo_file),
    )  # fmt: skip
    manifest = json.loads((release_dir / "manifest.json").read_text(encoding="utf-8"))
    counts = manifest["row_counts"]
    stdout.print(
        f"manifest {release_dir / 'manifest.json'}: {counts['rows']} rows "
        f"(sources: {', '.join(f'{k} {v}' for k, v in counts['by_source'].items())}), "
        f"policy v{manifest['selection_policy_version']}, leakage check "
        f"{'passed' if manifest['leakage_check_passed'] else 'FAILED'}, rows sha256 "
        f"{manifest['rows_sha256'][:12]}"
    )


def register(app: typer.Typer) -> None:
    """Add the demo command to ``app``."""
    app.command("demo")(demo)
