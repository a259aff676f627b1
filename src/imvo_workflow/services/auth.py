"""Who is asking: passwords (argon2), logins, API and calendar tokens, roles.

Passwords are stored only as argon2 hashes; failed logins are counted per (name, client
address) and per address in services/throttle.py. API tokens and calendar tokens are random
and only their SHA-256 is stored: they are shown once, when made. A token can be revoked or
given an expiry; a disabled user's sessions, tokens and calendar link all stop working.
The API's bearer check (`api_user`) keeps a token it found valid for a second
(services/verified_tokens.py): a revocation here is seen by the next request, one made in
another process within that second.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine, bindparam, func, insert, or_, select, update

from imvo_workflow.db import tables as t
from imvo_workflow.db.driver import DriverStatement
from imvo_workflow.db.session import UnitOfWork
from imvo_workflow.domain.bounds import check_id, check_label
from imvo_workflow.domain.clock import AMSTERDAM
from imvo_workflow.domain.errors import DomainError, Forbidden, InvalidInput, NotFound
from imvo_workflow.services import throttle, verified_tokens
from imvo_workflow.services.queries import aware
from imvo_workflow.services.users import add_user, user_id

ROLE_RANK = {"viewer": 0, "coordinator": 1, "admin": 2}
_hasher = PasswordHasher()


class LoginFailed(DomainError):
    """Name or password wrong (deliberately not saying which)."""

    def __init__(self) -> None:
        super().__init__("Onbekende gebruiker of onjuist wachtwoord.")


class LoginThrottled(DomainError):
    """Too many failed logins for this name or from this address; the wait doubles each time."""

    def __init__(self, seconds: int) -> None:
        super().__init__(f"Te veel mislukte pogingen; probeer het over {seconds} seconden opnieuw.")
        self.seconds = seconds


class AccountDisabled(Forbidden):
    """The password was right, but an admin has disabled the account."""

    def __init__(self, name: str) -> None:
        super().__init__(f"Het account {name} is uitgeschakeld; vraag een beheerder.")


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


@cache
def _dummy_hash() -> str:
    """A hash to check unknown names against: the same argon2 work as a real check."""
    return _hasher.hash(secrets.token_urlsafe(16))


def _password_ok(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def authenticate(
    *, uow: UnitOfWork, name: str, password: str, address: str, now: datetime
) -> UserView:
    """The user `name` if `password` is theirs; counts failures per (name, address) and address.

    A name that exists and one that does not get the same answer after the same work (an
    argon2 check against a dummy hash), and the same throttling: nothing tells them apart.
    The password is checked outside any transaction (argon2 is slow on purpose).
    """
    u = t.user
    # Reading needs no write lock: a login works while the database cannot be written.
    with UnitOfWork(uow.engine, readonly=True) as reader:
        wait = throttle.seconds_to_wait(reader.conn, name=name, address=address, now=now)
        counted = throttle.is_counted(reader.conn, name=name, address=address)
        row = (
            None
            if wait
            else reader.conn.execute(
                select(
                    u.c.id,
                    u.c.name,
                    u.c.role,
                    u.c.email,
                    u.c.password_hash,
                    u.c.session_epoch,
                    u.c.disabled_at,
                ).where(u.c.name == unicodedata.normalize("NFC", name))  # names are stored NFC
            ).first()
        )
    if wait:
        raise LoginThrottled(wait)
    if not _password_ok(row.password_hash if row else None, password) or row is None:
        with uow:
            throttle.record_failure(uow.conn, name=name, address=address, now=now)
            uow.commit()
        raise LoginFailed()
    if row.disabled_at is not None:  # said only to whoever knows the password
        raise AccountDisabled(row.name)
    if counted:
        with uow:
            throttle.forget_name(uow.conn, name=name, address=address)
            uow.commit()
    return UserView(row.id, row.name, row.role, row.email, row.session_epoch)


def user_by_id(conn: Connection, user_id: int) -> UserView | None:
    """The user of a session cookie; None when gone or disabled."""
    u = t.user
    row = conn.execute(
        select(u.c.id, u.c.name, u.c.role, u.c.email, u.c.session_epoch).where(
            u.c.id == user_id, u.c.disabled_at.is_(None)
        )
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
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def expiry(day: date | None, *, now: datetime) -> datetime | None:
    """A token "vervalt op `day`": it works until that day starts, Amsterdam time."""
    if day is None:
        return None
    if not 1900 <= day.year <= 2200:
        raise InvalidInput(f"Vervaldatum {day.isoformat()} ligt buiten de jaren 1900-2200.")
    moment = datetime.combine(day, time(0), tzinfo=AMSTERDAM)
    if moment <= now:
        raise InvalidInput(f"Vervaldatum {day.isoformat()} ligt niet in de toekomst.")
    return moment


def create_api_token(
    *, uow: UnitOfWork, user_id: int, name: str, now: datetime, expires: date | None = None
) -> str:
    """A new bearer token, shown once; only its hash is kept."""
    name = check_label(name.strip(), "De naam van het API-token", limit=120)
    if not name:
        raise InvalidInput("Een API-token heeft een naam van 1 tot 120 tekens nodig.")
    until = expiry(expires, now=now)
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
                "expires_at": until.astimezone(UTC) if until else None,
            },
        )
        uow.commit()
    return token


def add_api_token(
    *, uow: UnitOfWork, user: str, name: str, now: datetime, expires: date | None = None
) -> str:
    """`create_api_token` for a user named by an operator (the CLI)."""
    with uow:
        uid = user_id(uow.conn, user)
    return create_api_token(uow=uow, user_id=uid, name=name, now=now, expires=expires)


@dataclass(frozen=True, slots=True)
class TokenRow:
    id: int
    user: str
    name: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    def state(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "ingetrokken"
        if self.expires_at is not None and self.expires_at <= now:
            return "verlopen"
        return "geldig"


def list_api_tokens(conn: Connection, *, user: str) -> list[TokenRow]:
    """Every API token of `user`, newest first (revoked and expired ones too)."""
    a, u = t.api_token, t.user
    uid = user_id(conn, user)
    rows = conn.execute(
        select(a.c.id, u.c.name.label("user"), a.c.name, a.c.created_at, a.c.expires_at)
        .add_columns(a.c.revoked_at)
        .join(u, u.c.id == a.c.user_id)
        .where(a.c.user_id == uid)
        .order_by(a.c.id.desc())
    )
    return [
        TokenRow(
            r.id,
            r.user,
            r.name,
            aware(r.created_at),
            aware(r.expires_at) if r.expires_at else None,
            aware(r.revoked_at) if r.revoked_at else None,
        )
        for r in rows
    ]


def revoke_api_token(
    *, uow: UnitOfWork, token_id: int, now: datetime, owner: int | None = None
) -> bool:
    """Revoke a token at once; False if it was already revoked. With `owner`, only that
    user's own tokens (another user's token is "not found", not "not yours")."""
    a = t.api_token
    check_id(token_id, "API-token")
    with uow:
        found = uow.conn.execute(
            select(a.c.id, a.c.user_id, a.c.revoked_at).where(a.c.id == token_id)
        ).first()
        if found is None or (owner is not None and found.user_id != owner):
            raise NotFound("API-token", str(token_id))
        if found.revoked_at is not None:
            return False
        uow.conn.execute(
            update(a)
            .where(a.c.id == token_id, a.c.revoked_at.is_(None))
            .values(revoked_at=now.astimezone(UTC))
        )
        uow.commit()
    verified_tokens.TOKENS.forget_all()  # in this process, from the next request on
    return True


#: The bearer check, prebuilt (db/driver.py): it runs on every API request whose token this
#: process has not verified within verified_tokens.TTL_SECONDS.
_TOKEN_USER = DriverStatement(
    select(t.user.c.id, t.user.c.name, t.user.c.role, t.user.c.email, t.api_token.c.expires_at)
    .join(t.api_token, t.api_token.c.user_id == t.user.c.id)
    .where(
        t.api_token.c.token_hash == bindparam("b_hash"),
        t.api_token.c.revoked_at.is_(None),
        or_(t.api_token.c.expires_at.is_(None), t.api_token.c.expires_at > bindparam("b_now")),
        t.user.c.disabled_at.is_(None),
    )
)


def _token_holder(
    conn: Connection, digest: str, now: datetime
) -> tuple[UserView, datetime | None] | None:
    """The user of a token hash and the token's end, if it is valid now."""
    row = _TOKEN_USER.execute(conn, {"b_hash": digest, "b_now": now.astimezone(UTC)}).one_or_none()
    if row is None:
        return None
    uid, name, role, email, ends = row
    return UserView(uid, name, role, email), (aware(ends) if ends else None)


def remembered_api_user(engine: Engine, token: str, *, now: datetime) -> UserView | None:
    """The token's user if this process verified it a moment ago (no I/O); else None: ask
    `api_user`. Revocations made here are seen at once (services/verified_tokens.py)."""
    return verified_tokens.TOKENS.recall(engine, _digest(token), now=now)


def api_user(*, uow: UnitOfWork, token: str, now: datetime) -> UserView | None:
    """The user of a bearer token that is not revoked, not expired, of a user not disabled:
    from this process's memory when it verified the token less than
    verified_tokens.TTL_SECONDS ago, else read (and a valid token kept)."""
    digest = _digest(token)
    memory = verified_tokens.TOKENS
    user = memory.recall(uow.engine, digest, now=now)
    if user is not None:
        return user
    generation = memory.generation  # before reading: a revocation meanwhile wins
    with uow:
        found = _token_holder(uow.conn, digest, now)
    if found is None:
        return None
    memory.keep(uow.engine, digest, found[0], expires_at=found[1], generation=generation)
    return found[0]


def new_calendar_token(*, uow: UnitOfWork, user_id: int) -> str:
    """A new secret for the user's calendar link, shown once; the old link stops working."""
    token = secrets.token_urlsafe(32)
    with uow:
        uow.conn.execute(
            update(t.user).where(t.user.c.id == user_id).values(calendar_token_hash=_digest(token))
        )
        uow.commit()
    return token


def rotate_calendar_link(*, uow: UnitOfWork, user: str) -> str:
    """`new_calendar_token` for a user named by an operator (the CLI)."""
    with uow:
        uid = user_id(uow.conn, user)
    return new_calendar_token(uow=uow, user_id=uid)


def has_calendar_link(conn: Connection, user_id: int) -> bool:
    found = conn.execute(
        select(t.user.c.calendar_token_hash).where(t.user.c.id == user_id)
    ).scalar()
    return found is not None


def user_for_calendar(conn: Connection, token: str) -> UserView | None:
    u = t.user
    row = conn.execute(
        select(u.c.id, u.c.name, u.c.role, u.c.email).where(
            u.c.calendar_token_hash == _digest(token), u.c.disabled_at.is_(None)
        )
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
