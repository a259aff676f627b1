"""Core table handles for hot paths (moves, scans, the outbox), taken from the ORM classes."""

from __future__ import annotations

from sqlalchemy import Table

from imvo_workflow.db import models as m


def _table(model: type[m.Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


covenant = _table(m.Covenant)
sector = _table(m.Sector)
organisation = _table(m.Organisation)
participation = _table(m.Participation)
transition = _table(m.TransitionRecord)
target = _table(m.Target)
target_change = _table(m.TargetChange)
user = _table(m.User)
subscription = _table(m.Subscription)
alert = _table(m.Alert)
delivery = _table(m.Delivery)
scheduler_state = _table(m.SchedulerState)
signature = _table(m.Signature)
audit_checkpoint = _table(m.AuditCheckpoint)
api_token = _table(m.ApiToken)
login_throttle = _table(m.LoginThrottle)
organisation_name = _table(m.OrganisationName)
note = _table(m.Note)
term = _table(m.Term)
issued_report = _table(m.IssuedReport)
