"""The one table from exception to exit code and message (`imvo_workflow.cli.errors`).

Database failures are recognised by the driver's type and codes (db/errors.py's `classify`,
tested in test_db_errors.py), never by their wording; here: which message each kind gets.
"""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors as pg
from sqlalchemy.exc import ArgumentError, OperationalError, ProgrammingError

from imvo_workflow.cli import errors
from imvo_workflow.cli.errors import refusal
from imvo_workflow.domain.errors import DomainError, ForbiddenTransition, RequirementMissing


def _wrapped(orig: Exception) -> OperationalError:
    return OperationalError("SELECT 1", {}, orig)


def test_a_missing_table_sends_to_db_upgrade_only_when_the_database_is_behind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    exc = ProgrammingError("SELECT 1", {}, pg.UndefinedTable('relation "covenant" does not exist'))
    monkeypatch.setattr(errors, "migration_state", lambda: (None, "head1"))
    assert refusal(exc) == (
        2,
        'De database is nog niet ingericht (relation "covenant" does not exist). '
        "Voer eerst `imvo db upgrade` uit.",
    )
    monkeypatch.setattr(errors, "migration_state", lambda: ("old1", "head1"))
    code, message = refusal(exc) or (0, "")
    assert code == 2
    assert "migratie old1, de code verwacht head1" in message
    assert "`imvo db upgrade`" in message
    monkeypatch.setattr(errors, "migration_state", lambda: ("head1", "head1"))
    assert refusal(exc) == (2, 'Databasefout: relation "covenant" does not exist')


def test_write_and_connection_failures_have_their_own_message() -> None:
    code, message = refusal(_wrapped(pg.DiskFull("could not extend file"))) or (0, "")
    assert code == 2
    assert message.startswith("Kan niet naar de database schrijven")
    assert "IMVO_DATABASE_URL" not in message
    code, message = refusal(_wrapped(psycopg.OperationalError("connection refused"))) or (0, "")
    assert (code, message) == (
        2,
        "Kan de database niet bereiken: connection refused. Controleer IMVO_DATABASE_URL.",
    )


def test_the_nearest_type_in_the_table_words_the_message() -> None:
    assert refusal(RequirementMissing("Geef een reden.", field="reason")) == (
        2,
        "Geef een reden. (--reason)",
    )
    assert refusal(RequirementMissing("Zonder veld.")) == (2, "Zonder veld.")
    forbidden = ForbiddenTransition("bouw", "afgezien", "ondertekend", ["heropenen"])
    assert refusal(forbidden) == (2, forbidden.message)  # via DomainError
    assert refusal(DomainError("x")) == (2, "x")
    code, message = refusal(ArgumentError("Could not parse URL")) or (0, "")
    assert code == 2 and message.startswith("IMVO_DATABASE_URL is geen bruikbare database-URL")
    assert refusal(KeyError("a bug")) is None  # not a refusal: a traceback
