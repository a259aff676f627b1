"""Upgrading a database that holds the 2016 data from the previous release's schema.

Release 0.3 (issues 2-4: engine, alerts, audit) ended at revision 0003; this release adds
login throttling, calendar and API tokens (0004), when target closings were entered (0005),
one "all sectors" subscription per user, channel and address (0006), a session number per
user (0007), one open target per covenant and stage (0008) and, issue 11, login throttling
per name and address, token expiry, disabled users and hashed calendar links (0009:
existing calendar links keep working). The upgrade must keep every
history chain valid and every covenant where it was, and leave one of each subscription and
one open target per stage; downgrading and upgrading again must work too.
"""

from __future__ import annotations

import hashlib
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, insert, select, text

from imvo_workflow.bootstrap import App
from imvo_workflow.db import migrate
from imvo_workflow.db import tables as t
from imvo_workflow.domain.definition import WorkflowDefinition
from imvo_workflow.services import audit, queries
from imvo_workflow.services.queries import aware
from imvo_workflow.services.seed import seed
from imvo_workflow.services.seedfile import SEED_2016
from imvo_workflow.settings import Settings
from release import load_release

PREVIOUS_RELEASE = "0003"


def test_upgrade_from_release_0_3_keeps_the_2016_data_provable(
    empty_database_url: str, definition: WorkflowDefinition
) -> None:
    # The issue-11 release's rows (tests/release.py: the 2016 data and a signing in 2017) are
    # taken back to release 0.3's schema (the data stays; nothing in them needs a later
    # schema) and upgraded again as an operator would.
    load_release(empty_database_url)
    from alembic import command

    command.downgrade(migrate.alembic_config(empty_database_url), PREVIOUS_RELEASE)
    engine = create_engine(Settings(database_url=empty_database_url).database_url)
    assert migrate.current_revision(engine) == PREVIOUS_RELEASE
    engine.dispose()

    migrate.upgrade(empty_database_url)
    app = App(
        settings=Settings(database_url=empty_database_url, now="2017-07-02"), definition=definition
    )
    assert migrate.current_revision(app.engine) == migrate.head_revision()
    result = audit.verify(uow=app.uow(readonly=True))
    assert result.ok, result.problems
    assert result.covenants == 21
    with app.uow(readonly=True) as uow:
        status = {
            row.slug: (row.stage, row.since)
            for row in queries.status(conn=uow.conn, today=app.today())
        }
    app.close()
    assert status["goud"] == ("ondertekend", date(2017, 6, 19))
    assert status["bouw"] == ("afgezien", date(2016, 11, 1))


def test_a_history_with_record_entries_cannot_go_back_before_0012(
    empty_database_url: str, definition: WorkflowDefinition
) -> None:
    """A record entry's detail is part of its hash: the downgrade refuses, and changes nothing."""
    load_release(empty_database_url)
    migrate.upgrade(empty_database_url)  # 0013 turns the release's parties into entries
    from alembic import command

    config = migrate.alembic_config(empty_database_url)
    with pytest.raises(RuntimeError, match="terug naar vóór 0012 kan niet"):
        command.downgrade(config, "0011")
    engine = create_engine(Settings(database_url=empty_database_url).database_url)
    # SQLite stops after 0013's (empty) downgrade; PostgreSQL's one DDL transaction rolls back.
    assert migrate.current_revision(engine) in {"0012", "0013", migrate.head_revision()}
    engine.dispose()
    app = App(settings=Settings(database_url=empty_database_url), definition=definition)
    assert audit.verify(uow=app.uow(readonly=True)).ok
    app.close()


def test_upgrade_keeps_one_of_each_all_sectors_subscription(empty_database_url: str) -> None:
    from alembic import command

    command.upgrade(migrate.alembic_config(empty_database_url), "0005")
    engine = create_engine(Settings(database_url=empty_database_url).database_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO user_account (name, role, created_at, failed_logins)"
                " VALUES ('Anna', 'coordinator', CURRENT_TIMESTAMP, 0)"
            )
        )
        conn.execute(
            text(
                'INSERT INTO sector (slug, name, "group", position)'
                " VALUES ('textiel', 'Textiel', 'risicosector', 1)"
            )
        )
        for sector, channel in ((None, "inbox"), (None, "inbox"), (1, "inbox"), (None, "log")):
            conn.execute(
                text(
                    "INSERT INTO subscription (user_id, sector_id, channel, address)"
                    " VALUES (1, :sector, :channel, '')"
                ),
                {"sector": sector, "channel": channel},
            )
    migrate.upgrade(empty_database_url)
    with engine.connect() as conn:
        left = conn.execute(
            text("SELECT id, sector_id, channel FROM subscription ORDER BY id")
        ).all()
    engine.dispose()
    assert [tuple(row) for row in left] == [(1, None, "inbox"), (3, 1, "inbox"), (4, None, "log")]


def test_upgrade_keeps_the_newest_open_target_of_each_stage(empty_database_url: str) -> None:
    # Before 0008 two coordinators at once could each insert an open target for one stage.
    from alembic import command

    command.upgrade(migrate.alembic_config(empty_database_url), "0007")
    engine = create_engine(Settings(database_url=empty_database_url).database_url)
    entered = [datetime(2016, 10, day, 22, 30, tzinfo=UTC) for day in range(1, 8)]
    with engine.begin() as conn:
        conn.execute(insert(t.sector), {"slug": "textiel", "name": "Textiel", "group": "overige"})
        conn.execute(
            insert(t.covenant),
            {
                "slug": "textiel",
                "sector_id": 1,
                "title": "Textiel",
                "stage": "dialoog",
                "stage_since": date(2016, 1, 4),
                "definition_version": "test",
            },
        )
        for (stage, milestone, status), at in zip(
            [
                ("ondertekend", None, "open"),
                ("ondertekend", None, "open"),
                ("ondertekend", None, "open"),  # the newest of three: it stays
                ("ondertekend", None, "met"),
                (None, "Plan van aanpak", "open"),  # milestones: not constrained by stage
                (None, "Plan van aanpak", "open"),
                ("kwartiermaker", None, "open"),
            ],
            entered,
            strict=True,
        ):
            conn.execute(
                insert(t.target),
                {
                    "covenant_id": 1,
                    "stage": stage,
                    "milestone": milestone,
                    "phrase": "2017",
                    "reference_date": date(2016, 10, 1),
                    "period_start": date(2017, 1, 1),
                    "deadline": date(2017, 12, 31),
                    "status": status,
                    "created_at": at,
                },
            )
    migrate.upgrade(empty_database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            select(t.target.c.status, t.target.c.closed_on, t.target.c.closed_at).order_by(
                t.target.c.id
            )
        ).all()
    engine.dispose()
    # Cancelled as of when the newest was entered: 3 October 22:30 UTC, the 4th in Amsterdam.
    cancelled = ("cancelled", date(2016, 10, 4), entered[2])
    assert [(s, on, at and aware(at)) for s, on, at in rows] == [
        cancelled,
        cancelled,
        ("open", None, None),
        ("met", None, None),
        ("open", None, None),
        ("open", None, None),
        ("open", None, None),
    ]


def test_upgrade_hashes_calendar_links_and_they_keep_working(empty_database_url: str) -> None:
    """Issue 11: the calendar secret was stored in clear; the upgrade keeps only its SHA-256,
    so a link a user subscribed to still opens their feed."""
    from alembic import command

    from imvo_workflow.services import auth

    command.upgrade(migrate.alembic_config(empty_database_url), "0008")
    engine = create_engine(Settings(database_url=empty_database_url).database_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO user_account (name, role, created_at, failed_logins, calendar_token)"
                " VALUES ('Anna', 'coordinator', CURRENT_TIMESTAMP, 2, 'oud-geheim-van-anna'),"
                " ('Bert', 'viewer', CURRENT_TIMESTAMP, 0, NULL)"
            )
        )
    migrate.upgrade(empty_database_url)
    with engine.connect() as conn:
        stored = dict(conn.execute(select(t.user.c.name, t.user.c.calendar_token_hash)).all())
        found = auth.user_for_calendar(conn, "oud-geheim-van-anna")
        assert auth.user_for_calendar(conn, stored["Anna"]) is None  # the hash is no link
    engine.dispose()
    assert stored == {"Anna": hashlib.sha256(b"oud-geheim-van-anna").hexdigest(), "Bert": None}
    assert found is not None and found.name == "Anna"


def test_downgrade_and_upgrade_again(empty_database_url: str) -> None:
    migrate.upgrade(empty_database_url)
    config = migrate.alembic_config(empty_database_url)
    from alembic import command

    command.downgrade(config, "base")
    migrate.upgrade(empty_database_url)
    engine = create_engine(Settings(database_url=empty_database_url).database_url)
    assert migrate.current_revision(engine) == migrate.head_revision()
    engine.dispose()


def test_sqlite_backup_is_a_consistent_copy(
    tmp_path: Path, sqlite_template: Path, definition: WorkflowDefinition
) -> None:
    path = tmp_path / "live.db"
    shutil.copy(sqlite_template, path)
    app = App(
        settings=Settings(database_url=f"sqlite:///{path}", now="2016-11-01"), definition=definition
    )
    seed(uow=app.uow(), definition=definition, path=SEED_2016, now=app.now())
    (tmp_path / "backup").mkdir()  # a backup makes no folders (issue 11)
    migrate.backup_sqlite(f"sqlite:///{path}", tmp_path / "backup" / "copy.db")
    app.close()
    copy = App(
        settings=Settings(database_url=f"sqlite:///{tmp_path / 'backup' / 'copy.db'}"),
        definition=definition,
    )
    assert audit.verify(uow=copy.uow(readonly=True)).covenants == 21
    copy.close()
