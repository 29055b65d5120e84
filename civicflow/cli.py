"""The ``civicflow`` command line (Typer).

The CLI is the outermost shell of the project: commands that run flows import
``flows`` lazily inside the command, so ``civicflow`` itself stays Prefect-free
for every other caller.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Annotated

import typer

from civicflow.settings import get_settings

app = typer.Typer(
    help="civicflow: 区役所の定型業務の自動化 / city-office automation", no_args_is_help=True
)
db_app = typer.Typer(help="業務データベース / the store", no_args_is_help=True)
samples_app = typer.Typer(help="合成データ / synthetic data", no_args_is_help=True)
portal_app = typer.Typer(
    help="電子申請システムの模擬サーバ / portal simulator", no_args_is_help=True
)
run_app = typer.Typer(help="業務を実行 / run a process", no_args_is_help=True)
bench_app = typer.Typer(help="性能測定 / benchmarks (JSON)", no_args_is_help=True)
quarantine_app = typer.Typer(help="隔離した入力 / quarantined inputs", no_args_is_help=True)
review_app = typer.Typer(help="確認待ち / review queue", no_args_is_help=True)
forms_app = typer.Typer(help="帳票定義 / paper form definitions", no_args_is_help=True)
report_app = typer.Typer(help="報告 / reports", no_args_is_help=True)
for sub, name in (
    (db_app, "db"),
    (samples_app, "samples"),
    (portal_app, "portal"),
    (run_app, "run"),
    (bench_app, "bench"),
    (quarantine_app, "quarantine"),
    (review_app, "review"),
    (forms_app, "forms"),
    (report_app, "report"),
):
    app.add_typer(sub, name=name)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the store's schema to the newest version."""
    from civicflow.store.db import migrate

    settings = get_settings()
    migrate(settings.db_url)
    typer.echo(f"store ready: {settings.db_url.split('@')[-1]}")


@samples_app.command("generate")
def samples_generate(
    seed: Annotated[int, typer.Option(help="乱数の種 / random seed")] = 1,
    n: Annotated[int, typer.Option(help="申請件数 / number of applications")] = 60,
    out: Annotated[Path | None, typer.Option(help="出力先 / output folder")] = None,
    load: Annotated[
        bool, typer.Option(help="住民・事業者を業務DBへ取り込む / load masters")
    ] = True,
    staff: Annotated[int, typer.Option(help="超過勤務: 職員数 (0: none) / roster size")] = 0,
    assets: Annotated[int, typer.Option(help="財産台帳: 行数 (0: none) / ledger rows")] = 0,
) -> None:
    """Generate residents, providers, e-applications; optionally HR and ledger data."""
    from civicflow.samples.childcare import generate_childcare
    from civicflow.samples.loading import load_masters_into_store

    settings = get_settings()
    out_dir = out or settings.samples_dir
    sample = generate_childcare(out_dir, seed=seed, n=n, reference_date=dt.date.today())
    typer.echo(f"samples written to {out_dir} ({n} applications, seed {seed})")
    if staff:
        from civicflow.samples.overtime import generate_overtime

        last = dt.date.today().replace(day=1) - dt.timedelta(days=1)
        generate_overtime(
            out_dir / "overtime", seed=seed, n_staff=staff, year=last.year, month=last.month
        )
        typer.echo(f"overtime: roster of {staff} staff and 12 months of attendance ({last:%Y-%m})")
    if assets:
        from civicflow.samples.assets import generate_assets

        today = dt.date.today()
        fiscal_year = today.year if today.month >= 4 else today.year - 1
        generate_assets(out_dir, seed=seed, rows=assets, fiscal_year=fiscal_year)
        typer.echo(f"assets: {assets} ledger rows for fiscal year {fiscal_year}")
    if load:
        residents, providers = load_masters_into_store(settings, out_dir)
        typer.echo(f"store: {residents} residents, {providers} providers loaded")
    typer.echo(json.dumps(sample.counts, ensure_ascii=False))


@samples_app.command("scans")
def samples_scans(
    n: Annotated[int, typer.Option(help="申請書の枚数 / number of forms")] = 20,
    seed: Annotated[int, typer.Option(help="乱数の種 / random seed")] = 1,
    font: Annotated[
        Path | None, typer.Option(help="任意の TTF/OTF で書く / write with this font")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="出力先 / output folder")] = None,
    form: Annotated[str, typer.Option(help="帳票 ID / form id")] = "bus_pass",
    workers: Annotated[int, typer.Option(help="並列数 / processes")] = 1,
    reference_date: Annotated[
        str | None,
        typer.Option(help="申請日の基準日（既定: 今日）/ applications are dated before this day"),
    ] = None,
) -> None:
    """Generate handwritten-looking scans of a paper form, with ground truth beside each."""
    import datetime as dt

    from civicflow.japanese import jst_date
    from civicflow.samples.registry import read_residents_csv
    from civicflow.samples.scans import generate_scans

    settings = get_settings()
    out_dir = out or settings.samples_dir
    registry = settings.samples_dir / "registry" / "residents.csv"
    sample = generate_scans(
        out_dir,
        n=n,
        seed=seed,
        fonts=[font] if font else None,
        form_id=form,
        handwriting_dir=settings.var_dir / "handwriting",
        residents=read_residents_csv(registry) if registry.exists() else None,
        workers=workers,
        reference_date=dt.date.fromisoformat(reference_date)
        if reference_date
        else jst_date(dt.datetime.now(dt.UTC)),
    )
    typer.echo(f"scans written to {out_dir / 'scans'} ({n} forms, seed {seed})")
    typer.echo(f"hands: {', '.join(sample.hands)}; digits: {sample.digits}; {sample.seconds:.1f} s")
    typer.echo(json.dumps(sample.counts, ensure_ascii=False))


@forms_app.command("render")
def forms_render(
    form_id: Annotated[str, typer.Argument(help="帳票 ID / form id")] = "bus_pass",
    out: Annotated[Path | None, typer.Option(help="出力先 / output folder")] = None,
) -> None:
    """Render a form definition's blank form as a printable PDF and a 200 dpi PNG."""
    from civicflow.forms.render import write_blank_form

    for path in write_blank_form(form_id, out or get_settings().var_dir / "forms"):
        typer.echo(str(path))


@portal_app.command("serve")
def portal_serve(
    port: int = 8710,
    host: str = "127.0.0.1",
    export_dir: Path | None = None,
    state: Path | None = None,
    fail_rate: float = 0.0,
    timeout_rate: float = 0.0,
    delay: float = 0.0,
    seed: int = 0,
) -> None:
    """Serve the e-application export through the portal simulator's HTTP API."""
    from civicflow.simulators.portal import Faults, run_simulator

    settings = get_settings()
    run_simulator(
        host,
        port,
        export_dir or settings.folder_export_dir,
        state or settings.var_dir / "portal-state.json",
        Faults(fail_rate=fail_rate, timeout_rate=timeout_rate, delay_s=delay, seed=seed),
    )


@run_app.command("childcare")
def run_childcare(
    review: Annotated[bool, typer.Option(help="確認者の回答を待つ / wait for review")] = False,
) -> None:
    """Run the childcare-support flow once, here (the worker runs it on schedule)."""
    from flows.childcare_support import childcare_support

    summary = childcare_support(review=review)
    typer.echo(summary.model_dump_json(indent=2))


@run_app.command("bus-pass")
def run_bus_pass(
    review: Annotated[bool, typer.Option(help="確認者の回答を待つ / wait for review")] = False,
) -> None:
    """Read the scan inbox once, here (the worker runs it nightly)."""
    from flows.bus_pass import bus_pass

    summary = bus_pass(review=review)
    typer.echo(summary.model_dump_json(indent=2))


@quarantine_app.command("list")
def quarantine_list(process: str = "childcare_support") -> None:
    """Show the quarantined inputs still waiting for a fix, with the reason."""
    from civicflow.store import repositories as repo
    from civicflow.store.db import session_scope

    with session_scope(get_settings().db_url) as session:
        rows = repo.open_quarantine(session, process)
        if not rows:
            typer.echo("隔離中の入力はありません / nothing quarantined")
        for row in rows:
            typer.echo(f"{row.item_ref}\t{row.reason_code}\t{row.message_ja}\t{row.message_en}")


@review_app.command("list")
def review_list(process: str = "childcare_support") -> None:
    """Show the items waiting for a reviewer (receipt numbers and reason codes only)."""
    from civicflow.store import repositories as repo
    from civicflow.store.db import session_scope

    with session_scope(get_settings().db_url) as session:
        for item in repo.pending_reviews(session, process, limit=10_000):
            codes = ",".join(str(r.get("code")) for r in item.reasons)
            typer.echo(f"{item.id}\t{item.item_ref}\t{codes}\toffered {item.offered_count}x")


@review_app.command("resume")
def review_resume(
    flow_run_id: str,
    reviewer: Annotated[str, typer.Option(help="確認者 / reviewer's name")],
    approve_all: Annotated[bool, typer.Option(help="全件承認 / approve every item")] = False,
    reject_all: Annotated[bool, typer.Option(help="全件却下 / reject every item")] = False,
    process: Annotated[str, typer.Option(help="業務 / childcare_support or bus_pass")] = (
        "childcare_support"
    ),
) -> None:
    """Answer a waiting review form from the shell (the UI's Resume button does the same).

    For bus_pass, approve takes the prefilled readings as they are; a second-entry screen
    has blank critical fields, so its forms stay waiting (double entry needs a person).
    """
    from prefect.flow_runs import resume_flow_run

    from civicflow.store import repositories as repo
    from civicflow.store.db import session_scope

    decision = "approve" if approve_all else "reject" if reject_all else "later"
    if process == "bus_pass":
        _resume_bus_pass(flow_run_id, reviewer, decision)
        return
    with session_scope(get_settings().db_url) as session:
        items = [
            {
                "item_id": item.id,
                "receipt_no": item.item_ref,
                "decision": decision,
                "resident_id": str(item.proposed.get("resident_id") or ""),
                "provider_id": str(item.proposed.get("provider_id") or ""),
            }
            for item in repo.pending_reviews(session, "childcare_support", limit=10_000)
            if item.last_offered_run == flow_run_id
        ]
    resume_flow_run(flow_run_id, run_input={"reviewer": reviewer, "decisions": items})  # type: ignore[arg-type]
    typer.echo(f"resumed {flow_run_id}: {len(items)} items → {decision}")


def _resume_bus_pass(flow_run_id: str, reviewer: str, decision: str) -> None:
    from prefect.flow_runs import resume_flow_run

    from civicflow.bus_pass.pipeline import PROCESS
    from civicflow.bus_pass.review import build_card, initial_answers
    from civicflow.forms.definition import load_form
    from civicflow.store import repositories as repo
    from civicflow.store.db import session_scope

    settings = get_settings()
    form = load_form(settings.bus_pass_form)
    with session_scope(settings.db_url) as session:
        cards = [
            build_card(form, item)
            for item in repo.pending_reviews(session, PROCESS, limit=10_000)
            if item.last_offered_run == flow_run_id
        ]
    answers = initial_answers(cards)
    for answer in answers:
        answer.decision = decision  # type: ignore[assignment]
    resume_flow_run(
        flow_run_id,  # type: ignore[arg-type]
        run_input={"reviewer": reviewer, "forms": [a.model_dump() for a in answers]},
    )
    typer.echo(f"resumed {flow_run_id}: {len(answers)} forms → {decision}")


@app.command("ocr")
def ocr(
    image: Annotated[Path, typer.Argument(help="スキャン画像・PDF / PNG, JPEG, TIFF or PDF")],
    form: Annotated[str, typer.Option(help="帳票 ID / form id")] = "bus_pass",
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = True,
    registry: Annotated[
        Path | None, typer.Option(help="住民記録 CSV (照合用) / residents.csv to match against")
    ] = None,
) -> None:
    """Read a handwritten paper form: per field value, raw, confidence, engines, flags."""
    from civicflow.ocr.reader import ocr_json

    default_registry = get_settings().samples_dir / "registry" / "residents.csv"
    registry_csv = registry or (default_registry if default_registry.exists() else None)
    typer.echo(ocr_json(image, form, registry_csv=registry_csv))


@app.command("catalog")
def catalog(
    out: Annotated[Path | None, typer.Option(help="Markdown の出力先 / write to a file")] = None,
) -> None:
    """Render the automation catalog (業務カタログ) as Markdown."""
    from civicflow.catalog import catalog_markdown, load_catalog

    text = catalog_markdown(load_catalog())
    if out:
        out.write_text(text, encoding="utf-8")
        typer.echo(str(out))
    else:
        typer.echo(text)


@report_app.command("hours")
def report_hours(
    year: Annotated[int | None, typer.Option(help="年度 (April–March); default: this one")] = None,
    out: Annotated[Path | None, typer.Option(help="出力先 / output folder")] = None,
) -> None:
    """Write the hours saved by process and month of a fiscal year as CSV and PNG."""
    from civicflow import hours_report

    settings = get_settings()
    fy = year if year is not None else hours_report.fiscal_year(dt.date.today())
    for path in hours_report.write_hours_report(
        settings, fy, out or settings.output_dir / "reports"
    ):
        typer.echo(str(path))


@bench_app.command("overtime")
def bench_overtime(
    staff: Annotated[int, typer.Option(help="職員数 / staff in the roster")] = 10_000,
    seed: int = 1,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON line")] = False,
) -> None:
    """Time the overtime preparation against a bare pandas baseline, same files, same run."""
    from civicflow.overtime.baseline import run_benchmark

    result = run_benchmark(staff, seed=seed)
    typer.echo(json.dumps(result, ensure_ascii=False, default=str))


@bench_app.command("assets")
def bench_assets(
    rows: Annotated[int, typer.Option(help="台帳の行数 / ledger rows")] = 100_000,
    seed: int = 1,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON line")] = False,
) -> None:
    """Time the asset export against a bare pandas baseline, same workbooks, same run."""
    import tempfile

    from civicflow.assets.baseline import benchmark_export
    from civicflow.samples.assets import generate_assets

    work = Path(tempfile.mkdtemp(prefix="civicflow-bench-assets-"))
    sample = generate_assets(work, seed=seed, rows=rows, fiscal_year=2025)
    report = benchmark_export(sample.workbooks, 2025, out_dir=work / "out")
    result = {"rows": rows, **report.model_dump()}
    result["ratio_with_reading"] = round(report.ratio_with_reading, 3)
    result["ratio_transform"] = round(report.transform_s / report.baseline_transform_s, 3)
    typer.echo(json.dumps(result, ensure_ascii=False))


@bench_app.command("childcare")
def bench_childcare(
    n: Annotated[int, typer.Option(help="申請件数 / applications")] = 200,
    seed: int = 7,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON line")] = False,
    work_dir: Path | None = None,
) -> None:
    """Run N applications through the Prefect flow and as plain Python; print timings."""
    from flows.benchmarks import bench_childcare as run_bench

    result = run_bench(n=n, seed=seed, work_dir=work_dir)
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
    else:
        for key, value in result.items():
            typer.echo(f"{key:>18}: {value}")


@bench_app.command("ocr")
def bench_ocr(
    n: Annotated[int, typer.Option(help="申請書の枚数 / forms to generate")] = 40,
    seed: int = 2026,
    workers: Annotated[int, typer.Option(help="読取の並列数（2以上は Dask）/ OCR workers")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON line")] = False,
    work_dir: Path | None = None,
) -> None:
    """Generate N scans, run the bus-pass batch, answer review from the truth; print figures."""
    from flows.benchmarks import bench_ocr as run_bench

    result = run_bench(n=n, seed=seed, workers=workers, work_dir=work_dir)
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
    else:
        for key, value in result.items():
            typer.echo(f"{key:>26}: {value}")


def main() -> None:  # pragma: no cover - console entry point
    """Entry point for ``python -m civicflow.cli``."""
    # The telemetry heartbeat of an ephemeral Prefect server logs a harmless "database is
    # locked"; offices run closed networks anyway.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
