"""産前産後家事・育児支援サービス: the childcare-support process, as the procedure manual reads.

1. 一覧取得 — list the e-applications waiting in the e-application system.
2. 申請データ取得 — download each new one (PDF + fields); broken input is quarantined.
3. 本人確認・事業者確認・登録 — check the applicant against the resident registry and the
   provider against its contract; enter clean applications; queue doubtful ones.
4. 依頼書・実績管理 — write a request letter per provider and update the ledger.
5. 人による確認 — offer the queued applications to a reviewer; apply the answers.
6. 実行実績 — store the run summary (hours saved) and publish it.
"""

from __future__ import annotations

import datetime as dt

from prefect import flow
from pydantic import Field

from civicflow import models
from civicflow.childcare import pipeline
from civicflow.childcare.review import review_description
from civicflow.japanese import jst_date
from civicflow.review import measured_review_seconds
from civicflow.settings import get_settings
from tasks.childcare import (
    apply_review,
    check_and_enter,
    check_unfinished,
    download_applications,
    issue_documents,
    list_new_applications,
    record_listing_problems,
)
from tasks.common import (
    current_flow_run_id,
    noted_time,
    prepare_store,
    publish_summary,
    save_summary,
)
from tasks.review import ReviewerInput, wait_for_review


class ChildcareReviewInput(ReviewerInput):
    """The review form: one decision per application, and who decided."""

    # Not "items": Prefect 3.8.8's V2 Resume dialog validates the answer as if it were a
    # JSON schema, and a list under a JSON-Schema keyword is refused (tests/e2e found it).
    decisions: list[pipeline.ReviewDecision] = Field(
        default_factory=list, description="項目ごとの判断 / One decision per application"
    )


@flow(name="childcare-support", persist_result=True, log_prints=False)
def childcare_support(review: bool = True, today: dt.date | None = None) -> models.RunSummary:
    """Run the childcare-support procedure over every waiting e-application.

    Args:
        review: offer the doubtful applications to a reviewer and wait for the answer.
            False leaves them pending for a later run (as the benchmark does).
        today: the date printed on the documents; default today in Japan.

    Returns:
        The run's summary, also stored and published as an artifact.
    """
    settings = get_settings()
    today = today or jst_date(dt.datetime.now(dt.UTC))
    summary = models.RunSummary(
        process=pipeline.PROCESS,
        flow_run_id=current_flow_run_id(),
        started_at=noted_time("run-start"),
        baseline_minutes=settings.childcare_baseline_minutes,
    )
    prepare_store()
    pipeline.add_batch(summary, check_unfinished())  # left over by a crashed run, if any

    listing = list_new_applications()
    summary.quarantined += record_listing_problems(listing)
    summary.duplicates_skipped = len(listing.duplicates)
    for start in range(0, len(listing.refs), settings.batch_size):
        downloaded = download_applications(listing.refs[start : start + settings.batch_size])
        pipeline.add_download(summary, downloaded)
        pipeline.add_batch(summary, check_and_enter(downloaded.downloaded))

    summary.documents = [str(p) for p in issue_documents(today)]

    summary.review_pending = pipeline.pending_review_count(settings)
    save_summary(summary)  # visible even while the run waits for a reviewer

    if review:
        cards, pending_total = pipeline.offer_review(settings, summary.flow_run_id)
        if cards:
            form = ChildcareReviewInput.with_initial_data(
                description=review_description(cards, pending_total),
                decisions=[
                    pipeline.ReviewDecision(
                        item_id=c.item_id,
                        receipt_no=c.receipt_no,
                        resident_id=c.resident_id,
                        provider_id=c.provider_id,
                    )
                    for c in cards
                ],
            )
            answer = wait_for_review(form, settings.review_timeout_s, key="childcare-review")
            answered = sum(1 for d in answer.decisions if d.decision != "later")
            seconds = answer.minutes_spent * 60 or measured_review_seconds(
                settings, [c.item_id for c in cards], answered
            )
            report = apply_review(answer.decisions, answer.reviewer, seconds)
            pipeline.add_review(summary, report, seconds)
            summary.documents += [str(p) for p in issue_documents(today, stage="after-review")]

    pipeline.finish_summary(settings, summary)
    return publish_summary(
        summary,
        key="childcare-support-summary",
        title="産前産後家事・育児支援 実行結果",
        description="受付・確認・登録の件数と削減時間 / counts and hours saved",
    )
