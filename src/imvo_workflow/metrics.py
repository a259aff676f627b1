"""Prometheus metrics: what this process did, plus totals read from the database.

Counters and the scan histogram count this process's own work (each web and scheduler process
is scraped on its own). The totals (history rows, alerts by kind, deliveries by status) come
from the database at scrape time, so they agree whichever process answers.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from imvo_workflow.bootstrap import App
from imvo_workflow.db import tables as t
from imvo_workflow.db.tables import CHANNELS, DELIVERY_STATUSES
from imvo_workflow.domain.alerts import AlertKind

REGISTRY = CollectorRegistry()
# The process's memory, CPU, open files and the Python version, as every exporter has them.
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
MOVES = Counter("imvo_moves", "Moves made by this process", ["source"], registry=REGISTRY)
ALERTS_RAISED = Counter("imvo_alerts_raised", "Alerts this process raised", registry=REGISTRY)
DELIVERIES = Counter(
    "imvo_deliveries", "Deliveries this process attempted", ["outcome"], registry=REGISTRY
)
# Every label value reports from the start (0), so a series never appears out of nowhere
# and a rate() over it is defined: a missing series reads as "no data", not as "none".
for _source in ("web", "api"):
    MOVES.labels(_source)
for _outcome in ("sent", "failed"):
    DELIVERIES.labels(_outcome)
SCAN_SECONDS = Histogram(
    "imvo_scan_duration_seconds",
    "Duration of one alert scan",
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


class DatabaseTotals(Collector):
    """Gauges read from the database at scrape time."""

    def __init__(self, app: App) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self.app.uow(readonly=True) as uow:
            rows = uow.conn.execute(select(func.count()).select_from(t.transition)).scalar_one()
            alerts = uow.conn.execute(
                select(t.alert.c.kind, func.count()).group_by(t.alert.c.kind)
            ).all()
            deliveries = uow.conn.execute(
                select(t.delivery.c.status, t.delivery.c.channel, func.count()).group_by(
                    t.delivery.c.status, t.delivery.c.channel
                )
            ).all()
            failing = uow.conn.execute(
                select(func.count()).where(
                    t.delivery.c.last_error.is_not(None), t.delivery.c.status != "sent"
                )
            ).scalar_one()
        yield GaugeMetricFamily("imvo_history_rows", "History rows in the database", value=rows)
        by_kind = GaugeMetricFamily("imvo_alerts", "Alerts in the database", labels=["kind"])
        counted = dict.fromkeys(map(str, AlertKind), 0) | {k: n for k, n in alerts}
        for kind, count in counted.items():
            by_kind.add_metric([kind], count)
        yield by_kind
        by_status = GaugeMetricFamily(
            "imvo_deliveries_in_db",
            "Deliveries in the database",
            labels=["status", "channel"],
        )
        per = {(st, ch): 0 for st in DELIVERY_STATUSES for ch in CHANNELS}
        per |= {(st, ch): n for st, ch, n in deliveries}
        for (status, channel), count in per.items():
            by_status.add_metric([status, channel], count)
        yield by_status
        yield GaugeMetricFamily(
            "imvo_deliveries_failing",
            "Deliveries waiting to be retried after a failure",
            value=failing,
        )


def exposition(app: App) -> bytes:
    """The text format for /metrics: this process's counters and the database totals."""
    registry = CollectorRegistry()
    registry.register(DatabaseTotals(app))
    return generate_latest(REGISTRY) + generate_latest(registry)
