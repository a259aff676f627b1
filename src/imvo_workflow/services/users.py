"""Users and their subscriptions: who gets which sectors' alerts, on which channel."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from secrets import token_hex
from urllib.parse import urlparse

from sqlalchemy import Connection, insert, select

from imvo_workflow.db import tables as t
from imvo_workflow.db.models import CHANNELS, USER_ROLES
from imvo_workflow.db.session import UnitOfWork
from imvo_workflow.db.upsert import insert_ignoring_conflict
from imvo_workflow.domain.errors import InvalidInput, NotFound
from imvo_workflow.services.lookup import normalise

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def check_email(address: str) -> str:
    # fullmatch: `$` alone lets a trailing line break through, into the To: header.
    if not EMAIL.fullmatch(address):
        raise InvalidInput(f"'{address}' is geen e-mailadres.")
    return address


def check_webhook(url: str) -> str:
    parts = urlparse(url)  # (which drops line breaks and tabs silently: look at `url` itself)
    unsafe = any(ch.isspace() or not ch.isprintable() for ch in url)
    if unsafe or parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"'{url}' is geen webhook-adres; gebruik http(s)://host/pad.")
    return url


def add_user(
    *,
    uow: UnitOfWork,
    name: str,
    role: str,
    email: str | None = None,
    password_hash: str | None = None,
    now: datetime,
) -> int:
    if role not in USER_ROLES:
        raise InvalidInput(f"Onbekende rol '{role}'; kies uit {', '.join(USER_ROLES)}.")
    if not name.strip():
        raise InvalidInput("Een gebruiker heeft een naam nodig.")
    with uow:
        taken = uow.conn.execute(select(t.user.c.id).where(t.user.c.name == name)).scalar()
        if taken is not None:
            raise InvalidInput(f"Er is al een gebruiker '{name}'.")
        user_id = uow.conn.execute(
            insert(t.user).returning(t.user.c.id),
            {
                "name": name,
                "email": check_email(email) if email else None,
                "role": role,
                "password_hash": password_hash,
                "created_at": now.astimezone(UTC),
            },
        ).scalar_one()
        uow.commit()
    return int(user_id)


def user_id(conn: Connection, name: str) -> int:
    found = conn.execute(select(t.user.c.id).where(t.user.c.name == name)).scalar()
    if found is None:
        names = list(conn.execute(select(t.user.c.name)).scalars())
        raise NotFound("gebruiker", name, difflib.get_close_matches(name, names, n=3))
    return int(found)


def sector_id(conn: Connection, name: str) -> int:
    slug = normalise(name)
    found = conn.execute(select(t.sector.c.id).where(t.sector.c.slug == slug)).scalar()
    if found is None:
        slugs = list(conn.execute(select(t.sector.c.slug)).scalars())
        raise NotFound("sector", name, difflib.get_close_matches(slug, slugs, n=3, cutoff=0.5))
    return int(found)


def subscribe(
    *,
    uow: UnitOfWork,
    user: str,
    channel: str,
    sector: str | None = None,
    address: str = "",
    secret: str | None = None,
) -> bool:
    """Subscribe `user` to `sector`'s alerts (all sectors when None); False if it existed.

    A webhook subscription keeps `secret` (the caller shows it once; one is made when none
    is given) to sign its deliveries; it is stored as is, as HMAC needs the secret itself.
    """
    if channel not in CHANNELS:
        raise InvalidInput(f"Onbekend kanaal '{channel}'; kies uit {', '.join(CHANNELS)}.")
    with uow:
        uid = user_id(uow.conn, user)
        if channel == "email":
            email = uow.conn.execute(select(t.user.c.email).where(t.user.c.id == uid)).scalar()
            address = check_email(address or email or "")
        elif channel == "webhook":
            address = check_webhook(address)
        else:
            address = ""
        sid = sector_id(uow.conn, sector) if sector else None
        row: dict[str, object] = {
            "user_id": uid,
            "sector_id": sid,
            "channel": channel,
            "address": address,
        }
        # The database decides, also for two at once: uq_subscription for one sector, the
        # partial index uq_subscription_all_sectors for all sectors (NULLs never clash).
        everywhere = sid is None
        signing = {"secret": secret or token_hex(32)} if channel == "webhook" else {}
        added = insert_ignoring_conflict(
            uow.conn,
            t.subscription,
            row | signing,
            ["user_id", "channel", "address"] if everywhere else list(row),
            where=t.subscription.c.sector_id.is_(None) if everywhere else None,
        )
        uow.commit()
    return added


@dataclass(frozen=True, slots=True)
class UserRow:
    name: str
    role: str
    email: str | None


def list_users(*, conn: Connection) -> list[UserRow]:
    u = t.user
    return [
        UserRow(r.name, r.role, r.email)
        for r in conn.execute(select(u.c.name, u.c.role, u.c.email).order_by(u.c.name))
    ]
