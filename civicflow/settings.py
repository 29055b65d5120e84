"""One Settings object for the whole project (env prefix ``CIVICFLOW_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Runtime configuration. Tests pass overrides to the constructor.

    Every path defaults to a folder under ``var_dir`` so one setting moves the
    whole runtime state (the store, intake, outputs, quarantine).
    """

    model_config = SettingsConfigDict(env_prefix="CIVICFLOW_", env_file=".env", extra="ignore")

    var_dir: Path = Path("var")
    database_url: str = ""  # empty: sqlite file under var_dir

    # --- e-application intake (電子申請) ---
    intake_source: Literal["portal", "folder"] = "portal"
    export_dir: Path | None = None  # folder source: where the e-application system exports
    portal_url: str = "http://127.0.0.1:8710"
    portal_client_id: str = "minato-kosodate"
    portal_secret: SecretStr = SecretStr("simulator-secret")
    portal_timeout_s: float = 10.0
    portal_retries: int = 3
    portal_backoff_s: float = 1.0
    max_attachment_bytes: int = 5 * 1024 * 1024
    batch_size: int = Field(default=100, ge=1)

    # --- review (人による確認) ---
    review_timeout_s: int = 20 * 3600  # the next nightly run offers unanswered items again
    review_max_items: int = 50  # items per review form; the rest wait for the next run
    # Reviewer time counted per answered item when the reviewer does not state it: the wall
    # time from offering to answer, capped here (a form left open overnight is not work).
    review_seconds_cap_per_item: float = 300.0

    # --- childcare rules (産前産後家事・育児支援) ---
    childcare_baseline_minutes: float = 10.0
    childcare_window_before_due_days: int = 280  # apply from the start of pregnancy
    childcare_housework_until_age: int = 3  # 家事支援: until the day before age 3
    childcare_doula_until_months: int = 7  # 産後ドゥーラ: until the day before 7 months
    name_match_threshold: float = 85.0
    auto_accept_score: float = 95.0

    # --- overtime notice (超過勤務通知) ---
    overtime_input_dir: Path | None = None  # roster.xlsx + attendance CSVs; default samples
    overtime_monthly_hours: float = 45
    overtime_single_month_hours: float = 100
    overtime_rolling_average_hours: float = 80
    overtime_annual_hours: float = 360
    overtime_other_directed_annual_hours: float = 720
    overtime_other_directed_max_months_over: int = 6
    overtime_label_layout: Literal["A4-12up", "A4-44up"] = "A4-12up"
    overtime_baseline_minutes: float = 120.0  # per month by hand (Minato: ~2 h → 15 min)

    # --- asset ledger export (財産台帳 → 公会計 CSV) ---
    assets_input_dir: Path | None = None  # departments' ledgers (.xlsx); default samples
    assets_window_first_business_day: int = 1  # export window: business days of the month
    assets_window_last_business_day: int = 5
    assets_baseline_minutes: float = 1250.0  # per monthly export (~250 h a year by hand)

    # --- community-bus free pass (コミュニティバス無料乗車券, handwritten forms) ---
    bus_pass_inbox_dir: Path | None = None  # where the scanner drops files; default var/scans
    bus_pass_form: str = "bus_pass"  # the form definition in data/forms
    bus_pass_registry_csv: Path | None = None  # registry copy; default: the store's residents
    bus_pass_baseline_minutes: float = 4.2  # per form by hand (Minato: ~900 h a year)
    bus_pass_valid_years: int = 1  # a pass is valid until the end of the fiscal year + this - 1
    bus_pass_crop_max_px: int = 560  # review crops are scaled down to this width (grey PNG)
    # Paper forms per review screen: the crops travel inside the screen (~20 KB a field).
    bus_pass_review_forms: int = Field(default=20, ge=1)
    # Scanned files per task run: each costs ~50 ms of Prefect bookkeeping, a file ~0.4 s of OCR.
    bus_pass_files_per_task: int = Field(default=5, ge=1)
    # "dask": read the documents on a Dask cluster (prefect-dask); "" reads them one by one.
    ocr_task_runner: Literal["", "dask"] = ""
    dask_address: str = ""  # tcp://host:8786 of a running scheduler; empty: a local cluster
    dask_workers: int = Field(default=2, ge=1)  # local cluster: worker processes
    # Threads each OCR engine may use; 0: all cores. Dask workers set 1 so that several
    # worker processes on one machine do not fight over the same cores.
    ocr_threads: int = Field(default=0, ge=0)

    # --- housekeeping (保守: retention) ---
    retention_prefect_days: int = Field(default=90, ge=1)  # finished flow runs, artifacts
    retention_archive_after_days: int = Field(default=30, ge=1)  # processed files → archive
    retention_archive_keep_days: int = Field(default=5 * 366, ge=1)  # 文書保存年限: 5 years

    # --- Prefect server ---
    # Empty: Prefect keeps its own SQLite file under var/prefect. When the store is on
    # PostgreSQL (database_url), Prefect uses the same server in a database of its own
    # named <store database>_prefect; set this only to put Prefect somewhere else.
    prefect_database_url: str = ""

    @property
    def db_url(self) -> str:
        """The SQLAlchemy URL of the line-of-business store."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.var_dir / 'civicflow.db').resolve()}"

    @property
    def prefect_db_url(self) -> str:
        """The Prefect server's database URL (``postgresql+asyncpg://…``), or "" for SQLite.

        One setting moves both: with ``database_url`` on PostgreSQL, Prefect gets a database
        of its own (``<name>_prefect``) on the same server, because both keep an
        ``alembic_version`` table and must not share one database.
        """
        if self.prefect_database_url:
            return self.prefect_database_url
        if not self.database_url.startswith("postgresql"):
            return ""
        from sqlalchemy.engine import make_url

        url = make_url(self.database_url)
        return url.set(
            drivername="postgresql+asyncpg", database=f"{url.database or 'civicflow'}_prefect"
        ).render_as_string(hide_password=False)

    @property
    def bus_pass_inbox(self) -> Path:
        """Where scanned bus-pass applications arrive (the scanner's folder)."""
        return self.bus_pass_inbox_dir or self.var_dir / "scans" / "inbox"

    @property
    def bus_pass_crops_dir(self) -> Path:
        """Handwriting crops of bus-pass forms waiting for review, one folder per form ID."""
        return self.var_dir / "bus_pass" / "crops"

    @property
    def archive_dir(self) -> Path:
        """Processed input files, zipped per process and month by the retention flow."""
        return self.var_dir / "archive"

    @property
    def intake_dir(self) -> Path:
        """Downloaded applications (PDF + fields JSON), one folder per 受付番号."""
        return self.var_dir / "intake"

    @property
    def output_dir(self) -> Path:
        """Generated documents: 依頼書 PDFs, ledgers, CSV files."""
        return self.var_dir / "output"

    @property
    def quarantine_dir(self) -> Path:
        """Inputs that could not be processed, with a reason file beside each."""
        return self.var_dir / "quarantine"

    @property
    def samples_dir(self) -> Path:
        """Synthetic data written by ``civicflow samples generate``."""
        return self.var_dir / "samples"

    @property
    def overtime_dir(self) -> Path:
        """Where HR puts the roster workbook and the attendance exports."""
        return self.overtime_input_dir or self.samples_dir / "overtime"

    @property
    def assets_dir(self) -> Path:
        """Where departments put their property ledgers."""
        return self.assets_input_dir or self.samples_dir / "assets" / "ledgers"

    @property
    def folder_export_dir(self) -> Path:
        """The export folder read by the folder source."""
        return self.export_dir or self.samples_dir / "childcare" / "export"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
