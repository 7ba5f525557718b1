"""Prometheus metrics read from the database at scrape time.

Pages are read in worker processes (embedded pool or Celery, on any machine), so in-process
counters would each see a fraction; the database sees everything, and a scrape is cheap aggregates.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import case, func
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models import Job, JobState, PageResultRow

JOB_DURATION_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600)
PAGE_SECONDS_BUCKETS = (0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120)


class DatabaseCollector(Collector):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def describe(self) -> Iterator[Metric]:
        """Names only, so registering the collector does not query the database."""
        yield GaugeMetricFamily("fiscalocr_jobs", "Jobs by state", labels=["state"])
        yield CounterMetricFamily("fiscalocr_pages_processed", "Pages read by the OCR")
        yield HistogramMetricFamily("fiscalocr_job_duration_seconds", "Time from job start to its end")
        yield HistogramMetricFamily("fiscalocr_page_ocr_seconds", "OCR time per page")

    def collect(self) -> Iterator[Metric]:
        with Session(self.engine) as session:
            yield self._jobs_by_state(session)
            pages = session.exec(select(func.count()).select_from(PageResultRow)).one()
            yield CounterMetricFamily("fiscalocr_pages_processed", "Pages read by the OCR", value=pages)
            yield _histogram(session, "fiscalocr_job_duration_seconds", "Time from job start to its end",
                             col(Job.duration_s), JOB_DURATION_BUCKETS,
                             where=col(Job.state) == JobState.succeeded.value)
            yield _histogram(session, "fiscalocr_page_ocr_seconds", "OCR time per page",
                             col(PageResultRow.ocr_seconds), PAGE_SECONDS_BUCKETS)

    def _jobs_by_state(self, session: Session) -> Metric:
        gauge = GaugeMetricFamily("fiscalocr_jobs", "Jobs by state", labels=["state"])
        counts = dict(session.exec(select(Job.state, func.count()).group_by(col(Job.state))).all())
        for state in JobState:
            gauge.add_metric([state.value], counts.get(state.value, 0))
        return gauge


def _histogram(session: Session, name: str, documentation: str, column: Any, buckets: Sequence[float], *,
               where: Any = None) -> Metric:
    """Cumulative bucket counts and the sum, in one aggregate query."""
    columns: list[Any] = [func.sum(case((column <= bound, 1), else_=0)) for bound in buckets]
    query = sa_select(*columns, func.count(column), func.sum(column))
    if where is not None:
        query = query.where(where)
    row = session.execute(query).one()
    counts: Iterable[Any] = row[: len(buckets)]
    total, value_sum = int(row[len(buckets)] or 0), float(row[len(buckets) + 1] or 0.0)
    bucket_values = [(f"{bound:g}", int(count or 0)) for bound, count in zip(buckets, counts, strict=True)]
    bucket_values.append(("+Inf", total))
    return HistogramMetricFamily(name, documentation, buckets=bucket_values, sum_value=value_sum)
