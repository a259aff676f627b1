"""Users and their subscriptions: who gets which sectors' alerts, on which channel.

An admin can disable a user: from that moment no login, session, API token or calendar link
of theirs works (services/auth.py checks `disabled_at` on each; disabling also raises the
session number, so every session cookie ends at once). A web process other than the one that
disabled the user may accept a token it verified a moment before for at most
verified_tokens.TTL_SECONDS. Enabling lets tokens and the calendar link work again; revoke or
rotate them to withdraw them for good.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from secrets import token_hex
from urllib.parse import urlparse

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from imvo_workflow.db import tables as t
from imvo_workflow.db.session import UnitOfWork
from imvo_workflow.db.tables import CHANNELS, USER_ROLES
from imvo_workflow.db.upsert import insert_ignoring_conflict
from imvo_workflow.domain.bounds import (
    MAX_ADDRESS,
    check_label,
    check_user_name,
    user_name_key,
)
from imvo_workflow.domain.errors import InvalidInput, NotFound
from imvo_workflow.services import verified_tokens
from imvo_workflow.services.lookup import normalise

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def check_email(address: str) -> str:
    check_label(address, "Het e-mailadres", limit=MAX_ADDRESS)
    # fullmatch: `$` alone lets a trailing line break through, into the To: header.
    if not EMAIL.fullmatch(address):
        raise InvalidInput(f"'{address}' is geen e-mailadres.")
    return address


def check_webhook(url: str) -> str:
    check_label(url, "Het webhook-adres", limit=MAX_ADDRESS)
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
    """A new account; the name is stored NFC-normalised and is unique regardless of case
    (uq_user_name_lower in the database; the check here is for the message)."""
    if role not in USER_ROLES:
        raise InvalidInput(f"Onbekende rol '{role}'; kies uit {', '.join(USER_ROLES)}.")
    name = check_user_name(name)
    email = check_email(email) if email else None
    with uow:
        key = user_name_key(name)
        taken = [
            other
            for other in uow.conn.execute(select(t.user.c.name)).scalars()
            if user_name_key(other) == key
        ]
        if taken:
            raise InvalidInput(f"Er is al een gebruiker '{taken[0]}'.")
        try:
            user_id = uow.conn.execute(
                insert(t.user).returning(t.user.c.id),
                {
                    "name": name,
                    "email": email,
                    "role": role,
                    "password_hash": password_hash,
                    "created_at": now.astimezone(UTC),
                },
            ).scalar_one()
        except IntegrityError as exc:  # someone added the same name at the same moment
            raise InvalidInput(f"Er is al een gebruiker '{name}'.") from exc
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
    disabled: bool = False


def list_users(*, conn: Connection) -> list[UserRow]:
    u = t.user
    return [
        UserRow(r.name, r.role, r.email, r.disabled_at is not None)
        for r in conn.execute(
            select(u.c.name, u.c.role, u.c.email, u.c.disabled_at).order_by(u.c.name)
        )
    ]


def disable_user(*, uow: UnitOfWork, name: str, now: datetime) -> bool:
    """Disable `name` at once (sessions, tokens, calendar link); False if it already was.

    The last enabled admin cannot be disabled: nobody could enable anyone again.
    """
    u = t.user
    with uow:
        uid = user_id(uow.conn, name)
        row = uow.conn.execute(select(u.c.role, u.c.disabled_at).where(u.c.id == uid)).one()
        if row.disabled_at is not None:
            return False
        if row.role == "admin":
            admins = uow.conn.execute(
                select(func.count()).where(u.c.role == "admin", u.c.disabled_at.is_(None))
            ).scalar_one()
            if admins <= 1:
                raise InvalidInput(
                    f"{name} is de laatste actieve beheerder; schakel eerst een andere in."
                )
        uow.conn.execute(
            update(u)
            .where(u.c.id == uid)
            .values(disabled_at=now.astimezone(UTC), session_epoch=u.c.session_epoch + 1)
        )
        uow.commit()
    verified_tokens.TOKENS.forget_all()  # their API tokens too, from the next request on
    return True


def enable_user(*, uow: UnitOfWork, name: str) -> bool:
    """Let `name` log in again; False if the account was not disabled."""
    u = t.user
    with uow:
        uid = user_id(uow.conn, name)
        changed = uow.conn.execute(
            update(u)
            .where(u.c.id == uid, u.c.disabled_at.is_not(None))
            .values(disabled_at=None)
            .returning(u.c.id)
        ).first()
        uow.commit()
    return changed is not None
