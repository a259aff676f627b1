"""Who is asking: passwords (argon2), login throttling, API and calendar tokens, roles.

Passwords are stored only as argon2 hashes. Every failed login doubles the wait before the
next attempt for that user is heard (after three free tries, capped at five minutes), kept in
the database so several web processes share it. API tokens and calendar tokens are random;
only a SHA-256 of an API token is stored.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, func, insert, select, update

from imvo_workflow.db import tables as t
from imvo_workflow.db.session import UnitOfWork
from imvo_workflow.domain.errors import DomainError, Forbidden
from imvo_workflow.services.queries import aware
from imvo_workflow.services.users import add_user

ROLE_RANK = {"viewer": 0, "coordinator": 1, "admin": 2}
FREE_ATTEMPTS = 3
MAX_WAIT = timedelta(minutes=5)
_hasher = PasswordHasher()


class LoginFailed(DomainError):
    """Name or password wrong (deliberately not saying which)."""

    def __init__(self) -> None:
        super().__init__("Onbekende gebruiker of onjuist wachtwoord.")


class LoginThrottled(DomainError):
    """Too many failed logins for this user; the wait doubles with each one."""

    def __init__(self, seconds: int) -> None:
        super().__init__(f"Te veel mislukte pogingen; probeer het over {seconds} seconden opnieuw.")
        self.seconds = seconds


@dataclass(frozen=True, slots=True)
class UserView:
    id: int
    name: str
    role: str
    email: str | None
    #: Which of the user's sessions are still valid (see `end_sessions`).
    session_epoch: int = 0

    def can(self, role: str) -> bool:
        """True when this user's role is at least `role`."""
        return ROLE_RANK[self.role] >= ROLE_RANK[role]


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def require(user: UserView, role: str) -> None:
    if not user.can(role):
        raise Forbidden(f"Hiervoor is de rol '{role}' nodig; {user.name} is '{user.role}'.")


def authenticate(*, uow: UnitOfWork, name: str, password: str, now: datetime) -> UserView:
    u = t.user
    with uow:
        row = uow.conn.execute(
            select(
                u.c.id,
                u.c.name,
                u.c.role,
                u.c.email,
                u.c.password_hash,
                u.c.failed_logins,
                u.c.blocked_until,
                u.c.session_epoch,
            ).where(u.c.name == name)
        ).first()
        if row is None:
            _hasher.hash(
                password
            )  # same work as a real check: no timing hint that the name is unknown
            raise LoginFailed()
        if row.blocked_until is not None and aware(row.blocked_until) > now:
            raise LoginThrottled(max(1, int((aware(row.blocked_until) - now).total_seconds())))
        try:
            ok = row.password_hash is not None and _hasher.verify(row.password_hash, password)
        except (VerificationError, InvalidHashError):
            ok = False
        if not ok:
            failures = row.failed_logins + 1
            wait = (
                timedelta(seconds=2 ** (failures - FREE_ATTEMPTS))
                if failures >= FREE_ATTEMPTS
                else None
            )
            uow.conn.execute(
                update(u)
                .where(u.c.id == row.id)
                .values(
                    failed_logins=failures,
                    blocked_until=(now + min(wait, MAX_WAIT)).astimezone(UTC) if wait else None,
                )
            )
            uow.commit()
            raise LoginFailed()
        if row.failed_logins:
            uow.conn.execute(
                update(u).where(u.c.id == row.id).values(failed_logins=0, blocked_until=None)
            )
        uow.commit()
    return UserView(row.id, row.name, row.role, row.email, row.session_epoch)


def user_by_id(conn: Connection, user_id: int) -> UserView | None:
    u = t.user
    row = conn.execute(
        select(u.c.id, u.c.name, u.c.role, u.c.email, u.c.session_epoch).where(u.c.id == user_id)
    ).first()
    return UserView(row.id, row.name, row.role, row.email, row.session_epoch) if row else None


def end_sessions(*, uow: UnitOfWork, user_id: int) -> None:
    """Log the user out everywhere: every session cookie issued so far stops being valid.

    The cookie is signed, not stored: it stays readable after logout, so the server keeps a
    number per user that every cookie must match, and raises it here.
    """
    with uow:
        uow.conn.execute(
            update(t.user)
            .where(t.user.c.id == user_id)
            .values(session_epoch=t.user.c.session_epoch + 1)
        )
        uow.commit()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(*, uow: UnitOfWork, user_id: int, name: str, now: datetime) -> str:
    """A new bearer token, shown once; only its hash is kept."""
    token = "imvo_" + secrets.token_urlsafe(32)
    with uow:
        uow.conn.execute(
            insert(t.api_token),
            {
                "user_id": user_id,
                "name": name,
                "token_hash": _digest(token),
                "created_at": now.astimezone(UTC),
                "revoked_at": None,
            },
        )
        uow.commit()
    return token


def user_for_token(conn: Connection, token: str) -> UserView | None:
    a, u = t.api_token, t.user
    row = conn.execute(
        select(u.c.id, u.c.name, u.c.role, u.c.email)
        .join(a, a.c.user_id == u.c.id)
        .where(a.c.token_hash == _digest(token), a.c.revoked_at.is_(None))
    ).first()
    return UserView(row.id, row.name, row.role, row.email) if row else None


def calendar_token(*, uow: UnitOfWork, user_id: int) -> str:
    """The user's calendar-feed secret, made on first use."""
    u = t.user
    with uow:
        token = uow.conn.execute(select(u.c.calendar_token).where(u.c.id == user_id)).scalar()
        if token is None:
            token = secrets.token_urlsafe(24)
            uow.conn.execute(update(u).where(u.c.id == user_id).values(calendar_token=token))
        uow.commit()
    return str(token)


def user_for_calendar(conn: Connection, token: str) -> UserView | None:
    u = t.user
    row = conn.execute(
        select(u.c.id, u.c.name, u.c.role, u.c.email).where(u.c.calendar_token == token)
    ).first()
    return UserView(row.id, row.name, row.role, row.email) if row else None


def ensure_first_admin(*, uow: UnitOfWork, now: datetime, name: str = "admin") -> str | None:
    """Create the first admin with a generated password when there are no users; return it once."""
    with uow:
        exists = uow.conn.execute(select(func.count()).select_from(t.user)).scalar_one()
    if exists:
        return None
    password = secrets.token_urlsafe(12)
    add_user(uow=uow, name=name, role="admin", password_hash=hash_password(password), now=now)
    return password
