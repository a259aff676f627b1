"""APScheduler wiring: the scheduler only computes when; the database holds what happened.

Jobs, all in memory (APScheduler 3.x must never share a job store between processes) and all
with `misfire_grace_time=None` and coalescing, so a job that fell due while the process was
busy or down runs once rather than being dropped or repeated:
- `scan`: every `scan_interval_seconds`, first at start (that is the catch-up); a scan that
  raised alerts delivers them in the same job, at once;
- `alarm`: a date job at the next known fire time (a scan and a delivery round), so an alert
  goes out within seconds of its moment instead of at the next scan;
- `drain`: the outbox (retries, and whatever another process queued), every
  `drain_interval_seconds`;
- `digest`: daily at the policy's hour, Europe/Amsterdam;
- `checkpoint`: daily at 02:00, a digest over every history chain (also to a file).
Time: scans, digests and messages follow the application clock (`IMVO_NOW` pins it); the
outbox (leases, retry times, what is due) follows the real clock, so under a pinned clock a
killed scheduler's leases still lapse and retries still come.
Several schedulers may run on one PostgreSQL: the alert key and the delivery claims keep
their work from doubling. For the same reason two delivery rounds in one process (the drain
job and a scan's own round) never send a delivery twice: each row is leased to one of them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from imvo_workflow import metrics
from imvo_workflow.bootstrap import App
from imvo_workflow.notify.channels import senders
from imvo_workflow.services.alerts import ScanResult, policy_from, scan
from imvo_workflow.services.audit import checkpoint
from imvo_workflow.services.digest import raise_digests
from imvo_workflow.services.outbox import Backoff, DrainResult, drain

log = logging.getLogger("imvo.scheduler")


def real_clock() -> datetime:
    return datetime.now(UTC)


JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}


@dataclass(frozen=True, slots=True)
class TickResult:
    scan: ScanResult
    digests: int
    drain: DrainResult


class AlertScheduler:
    """The alert jobs of one process, around an in-memory APScheduler."""

    def __init__(self, app: App) -> None:
        app.check_definition()  # once per process, as every entrypoint does
        self.app = app
        self.policy = policy_from(app.definition.reminders)
        self.senders = senders(app.settings)
        settings = app.settings
        self.backoff = Backoff(
            settings.retry_base_seconds,
            settings.retry_cap_seconds,
            max_attempts=settings.retry_max_attempts,
            jitter=settings.retry_jitter,
        )
        self.scheduler = BackgroundScheduler(
            job_defaults=JOB_DEFAULTS, timezone=self.policy.timezone
        )
        self._stopped = threading.Event()

    # -- the work, usable without a scheduler (`imvo scheduler tick`) ---------------------
    def scan_once(self) -> ScanResult:
        with metrics.SCAN_SECONDS.time():
            result = scan(uow=self.app.uow(), policy=self.policy, now=self.app.now())
        metrics.ALERTS_RAISED.inc(result.raised)
        log.info(
            "scan", extra={"action": "alerts.scan", "raised": result.raised, "due": result.due}
        )
        if self.scheduler.running:
            self._set_alarm(result.next_fire_at)
        return result

    def _scan_and_deliver(self) -> None:
        """The scan job: what it raised goes out now, not at the drain job's next turn.

        (Asking APScheduler to run the drain job early does not do: while that job is still
        running, the early run is skipped as a second instance.)
        """
        if self.scan_once().raised:
            self.drain_once()

    def drain_once(self) -> DrainResult:
        result = drain(
            uow=self.app.uow(),
            senders=self.senders,
            # Leases and retries on the real clock: under IMVO_NOW they still lapse and come.
            clock=real_clock,
            today=self.app.today,
            backoff=self.backoff,
            base_url=self.app.settings.base_url,
            should_stop=self._stopped.is_set,
        )
        metrics.DELIVERIES.labels("sent").inc(result.sent)
        metrics.DELIVERIES.labels("failed").inc(result.failed)
        return result

    def digest_once(self) -> int:
        return raise_digests(uow=self.app.uow(), now=self.app.now())

    def checkpoint_once(self) -> None:
        made = checkpoint(
            uow=self.app.uow(), now=self.app.now(), file=self.app.settings.checkpoint_file
        )
        log.info(
            "checkpoint",
            extra={"action": "audit.checkpoint", "checkpoint_id": made.id, "digest": made.digest},
        )

    def tick(self, *, digest: bool = False) -> TickResult:
        """One scan and one delivery round (and the digest, when asked): for cron and checks."""
        scanned = self.scan_once()
        digests = self.digest_once() if digest else 0
        return TickResult(scanned, digests, self.drain_once())

    # -- the long-running process --------------------------------------------------------
    def start(self) -> None:
        settings = self.app.settings
        now = datetime.now(UTC)
        self.scheduler.add_job(
            self._safely(self._scan_and_deliver),
            IntervalTrigger(seconds=settings.scan_interval_seconds),
            id="scan",
            name="scan",
            next_run_time=now,
        )
        self.scheduler.add_job(
            self._safely(self.drain_once),
            IntervalTrigger(seconds=settings.drain_interval_seconds),
            id="drain",
            name="drain",
            next_run_time=now,
        )
        self.scheduler.add_job(
            self._safely(self.digest_once),
            CronTrigger(hour=self.policy.send_hour, timezone=self.policy.timezone),
            id="digest",
            name="digest",
        )
        self.scheduler.add_job(
            self._safely(self.checkpoint_once),
            CronTrigger(hour=2, timezone=self.policy.timezone),
            id="checkpoint",
            name="checkpoint",
        )
        self.scheduler.start()
        log.info("scheduler started", extra={"action": "scheduler.start"})

    def _set_alarm(self, moment: datetime | None) -> None:
        # With a pinned clock (IMVO_NOW) the next fire time is not a wall-clock moment.
        if moment is None or self.app.settings.now is not None or moment <= datetime.now(UTC):
            return
        self.scheduler.add_job(
            self._safely(self.tick),
            DateTrigger(run_date=moment),
            id="alarm",
            name="alarm",
            replace_existing=True,
        )

    def _safely(self, job: Callable[[], object]) -> Callable[[], None]:
        def run() -> None:
            try:
                job()
            except Exception:  # a job failure is logged; the next run tries again
                log.exception("job failed", extra={"action": "scheduler.job_failed"})

        run.__name__ = getattr(job, "__name__", "job")
        return run

    def stop(self) -> None:
        self._stopped.set()

    def run_until_stopped(self) -> None:
        self.start()
        self._stopped.wait()
        self.scheduler.shutdown(wait=True)
        self.app.close()
        log.info("scheduler stopped", extra={"action": "scheduler.stop"})
