"""The previous release's database, row for row: what upgrade tests start from.

tests/fixtures/release-0011.json holds every row of a database made by the issue-11 release
(schema 0011, commit d18a579): `imvo db upgrade; imvo seed` with the clock on 2016-11-01, then
on 2017-07-01 `sign goud FNV`, `sign goud Pax`, `move goud ondertekend`, `audit correct goud 4`
(the signing date), `targets set natuursteen ondertekend "eind 2017"`, `users add anna` and
`audit checkpoint`. `load_release` puts those rows into a database at that schema, typed for
each column, on SQLite or PostgreSQL.
"""

from __future__ import annotations

import json
import warnings
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import create_engine

from imvo_workflow.db import migrate
from imvo_workflow.settings import Settings

FIXTURE = Path(__file__).parent / "fixtures" / "release-0011.json"


def _value(column: sa.Column[Any], raw: Any) -> Any:
    """A value as the release's SQLite file held it, typed for the column it goes into."""
    if raw is None:
        return None
    if isinstance(column.type, sa.DateTime):
        moment = datetime.fromisoformat(raw)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if isinstance(column.type, sa.Date):
        return date.fromisoformat(raw)
    if isinstance(column.type, sa.JSON):
        return json.loads(raw)
    return raw


def load_release(url: str) -> dict[str, Any]:
    """A database at the release's schema holding exactly the release's rows."""
    dump = json.loads(FIXTURE.read_text(encoding="utf-8"))
    migrate.upgrade(url, dump["revision"])
    engine = create_engine(Settings(database_url=url).database_url)
    metadata = sa.MetaData()
    with warnings.catch_warnings():  # SQLite cannot reflect the lower(name) index: not needed
        warnings.filterwarnings("ignore", "Skipped unsupported reflection", sa.exc.SAWarning)
        metadata.reflect(engine)
    with engine.begin() as conn:
        for name, content in dump["tables"].items():
            table = metadata.tables[name]
            rows = [
                {
                    col: _value(table.c[col], raw)
                    for col, raw in zip(content["columns"], row, strict=True)
                }
                for row in content["rows"]
            ]
            if rows:
                conn.execute(sa.insert(table), rows)
            if engine.dialect.name == "postgresql" and "id" in table.c and rows:
                conn.execute(
                    sa.text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), :top)"),
                    {"top": max(r["id"] for r in rows)},
                )
    engine.dispose()
    return dump
