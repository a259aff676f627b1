"""The tables, as typed SQLAlchemy 2.x ORM classes.

These classes describe the schema; Alembic migrations create it (a test fails when the two
differ). Services read and write through Core statements on these tables (db/tables.py), so
the classes declare columns, constraints and indexes, and no relationships.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: The kinds a coordinator picks from (the first seven); "bedrijf" and "facilitator" are kept
#: for organisations the 2016 seed already holds.
ORGANISATION_KINDS = (
    "ministerie",
    "brancheorganisatie",
    "ngo",
    "vakbond",
    "kennisinstelling",
    "overheid",
    "overig",
    "bedrijf",
    "facilitator",
)
PARTICIPATION_ROLES = ("trekker", "partij", "facilitator", "kwartiermaker", "betrokken")
#: One current (not yet ended) participation per covenant, organisation and role.
CURRENT_PARTICIPATION = "until IS NULL"
TARGET_STATUSES = ("open", "met", "cancelled")
OPEN_STAGE_TARGET = "status = 'open' AND stage IS NOT NULL"


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: DateTime(timezone=True)}


class Sector(Base):
    __tablename__ = "sector"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    group: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("sector.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (CheckConstraint(_in('"group"', ("risicosector", "overige")), name="group"),)


class Organisation(Base):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    full_name: Mapped[str | None] = mapped_column(String(400))
    kind: Mapped[str] = mapped_column(String(30))

    __table_args__ = (CheckConstraint(_in("kind", ORGANISATION_KINDS), name="kind"),)


class Covenant(Base):
    __tablename__ = "covenant"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    sector_id: Mapped[int] = mapped_column(ForeignKey("sector.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("covenant.id"))
    #: Set when the process continued in another covenant (stage `opgegaan`).
    continued_in_id: Mapped[int | None] = mapped_column(ForeignKey("covenant.id"))
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[list[str]] = mapped_column(JSON, default=list)
    stage: Mapped[str] = mapped_column(String(40), index=True)
    stage_since: Mapped[date] = mapped_column(Date)
    #: Optimistic lock: every move bumps it; a move that read an older one is refused.
    version: Mapped[int] = mapped_column(Integer, default=1)
    definition_version: Mapped[str] = mapped_column(String(40))
    #: Head of the history chain: last seq and its hash (the next row links to it).
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    head_hash: Mapped[str] = mapped_column(String(64), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        # Lists in the document's order, a page after a keyset cursor (services/listing.py).
        Index("ix_covenant_position_id", "position", "id"),
        Index("ix_covenant_stage_position_id", "stage", "position", "id"),
    )


class Participation(Base):
    """An organisation's part in a covenant, from `since` until `until` (open: still a party).

    `since` is empty for the parties the 2016 seed names: they took part from the start.
    """

    __tablename__ = "participation"

    id: Mapped[int] = mapped_column(primary_key=True)
    covenant_id: Mapped[int] = mapped_column(ForeignKey("covenant.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    role: Mapped[str] = mapped_column(String(20))
    since: Mapped[date | None] = mapped_column(Date)
    until: Mapped[date | None] = mapped_column(Date)
    left_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint(_in("role", PARTICIPATION_ROLES), name="role"),
        CheckConstraint("until IS NULL OR since IS NULL OR since <= until", name="period_order"),
        Index(
            "uq_participation_current",
            "covenant_id",
            "organisation_id",
            "role",
            unique=True,
            sqlite_where=text(CURRENT_PARTICIPATION),
            postgresql_where=text(CURRENT_PARTICIPATION),
        ),
    )


class OrganisationName(Base):
    """Every name an organisation had: a rename closes the old one (kept for the history)."""

    __tablename__ = "organisation_name"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    #: When this name was replaced (None: the current name).
    replaced_at: Mapped[datetime | None]
    actor: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime]


class Note(Base):
    """A dated progress note on a covenant; the newest note written on or before D is D's story."""

    __tablename__ = "note"

    id: Mapped[int] = mapped_column(primary_key=True)
    covenant_id: Mapped[int] = mapped_column(ForeignKey("covenant.id"), index=True)
    #: The history entry that wrote it.
    seq: Mapped[int] = mapped_column(Integer)
    written_on: Mapped[date] = mapped_column(Date)
    author: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime]


class Term(Base):
    """A signed covenant's term; a renewal opens the next one, linked to the previous."""

    __tablename__ = "term"

    id: Mapped[int] = mapped_column(primary_key=True)
    covenant_id: Mapped[int] = mapped_column(ForeignKey("covenant.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("term.id"))
    seq: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("covenant_id", "number", name="uq_term_covenant_number"),
        CheckConstraint("starts_on < ends_on", name="period_order"),
    )


class TransitionRecord(Base):
    """One move in a covenant's history. Append-only: rows are never updated or deleted."""

    __tablename__ = "transition"

    id: Mapped[int] = mapped_column(primary_key=True)
    covenant_id: Mapped[int] = mapped_column(ForeignKey("covenant.id"))
    seq: Mapped[int] = mapped_column(Integer)
    from_stage: Mapped[str | None] = mapped_column(String(40))
    to_stage: Mapped[str] = mapped_column(String(40))
    trigger: Mapped[str] = mapped_column(String(60))
    actor: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text, default="")
    occurred_on: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime]
    definition_version: Mapped[str] = mapped_column(String(40))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    #: A correction is a new row naming the seq of the row it corrects (its date, reason).
    corrects_seq: Mapped[int | None] = mapped_column(Integer)
    #: What a record entry (a party, a signature, a note, ...) changed: canonical JSON, hashed.
    detail: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("covenant_id", "seq", name="uq_transition_covenant_seq"),)


class Target(Base):
    """An expected step ('ondertekend in Q1 van 2017') or dated milestone, with its deadline."""

    __tablename__ = "target"

    id: Mapped[int] = mapped_column(primary_key=True)
    covenant_id: Mapped[int] = mapped_column(ForeignKey("covenant.id"))
    stage: Mapped[str | None] = mapped_column(String(40))
    milestone: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    phrase: Mapped[str] = mapped_column(String(200))
    reference_date: Mapped[date] = mapped_column(Date)
    period_start: Mapped[date] = mapped_column(Date)
    deadline: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="open")
    closed_on: Mapped[date | None] = mapped_column(Date)
    #: When the closing was entered (closed_on is when it happened): for "known at" views.
    closed_at: Mapped[datetime | None]
    #: Why a milestone was dropped (or any closing a coordinator explained).
    close_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint(_in("status", TARGET_STATUSES), name="status"),
        CheckConstraint("(stage IS NULL) <> (milestone IS NULL)", name="stage_xor_milestone"),
        CheckConstraint("period_start <= deadline", name="period_order"),
        Index("ix_target_covenant_status", "covenant_id", "status"),
        Index("ix_target_status_deadline", "status", "deadline"),
        Index("ix_target_deadline", "deadline"),
        # Two coordinators setting the same stage's target at once must not both insert one.
        # Milestones have no stage: they are not constrained here.
        Index(
            "uq_target_open_stage",
            "covenant_id",
            "stage",
            unique=True,
            sqlite_where=text(OPEN_STAGE_TARGET),
            postgresql_where=text(OPEN_STAGE_TARGET),
        ),
    )


class TargetChange(Base):
    """Every change of a target (its creation included): planned against actual stays visible."""

    __tablename__ = "target_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("target.id"), index=True)
    old_phrase: Mapped[str | None] = mapped_column(String(200))
    old_deadline: Mapped[date | None] = mapped_column(Date)
    new_phrase: Mapped[str] = mapped_column(String(200))
    new_period_start: Mapped[date] = mapped_column(Date)
    new_deadline: Mapped[date] = mapped_column(Date)
    reference_date: Mapped[date] = mapped_column(Date)
    actor: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text, default="")
    changed_at: Mapped[datetime]


USER_ROLES = ("admin", "coordinator", "viewer")
CHANNELS = ("email", "webhook", "inbox", "log")


class User(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    email: Mapped[str | None] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime]
    #: SHA-256 of the secret in the URL of the user's personal calendar feed.
    calendar_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: Session cookies carry this number; logging out raises it, which ends every session.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: Set by an admin: no login, session, API token or calendar link works while it is set.
    disabled_at: Mapped[datetime | None]

    __table_args__ = (CheckConstraint(_in("role", USER_ROLES), name="role"),)


# "Anna" and "anna" are one person: the database refuses the second (migration 0009).
Index("uq_user_name_lower", func.lower(User.__table__.c.name), unique=True)


class ApiToken(Base):
    """A bearer token for the JSON API; only its hash is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    #: The token stops working from this moment (None: until revoked).
    expires_at: Mapped[datetime | None]


class LoginThrottle(Base):
    """Failed logins per (name, client address) and per client address.

    Keyed by a SHA-256 of the scope, so a name nobody has is counted like one that exists,
    without a user row and without storing what a stranger typed.
    """

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    blocked_until: Mapped[datetime | None]
    last_failure_at: Mapped[datetime] = mapped_column(index=True)


class Subscription(Base):
    """Which user gets which sector's alerts (all sectors when sector is empty), on which channel."""

    __tablename__ = "subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    sector_id: Mapped[int | None] = mapped_column(ForeignKey("sector.id"))
    channel: Mapped[str] = mapped_column(String(20))
    #: e-mail address or webhook URL; empty for inbox and log.
    address: Mapped[str] = mapped_column(String(500), default="")
    #: Webhook: the HMAC-SHA256 signing secret, shown once when subscribing. Kept as is (not
    #: hashed): the sender needs the secret itself to sign each delivery.
    secret: Mapped[str | None] = mapped_column(String(100))

    __table_args__ = (
        CheckConstraint(_in("channel", CHANNELS), name="channel"),
        UniqueConstraint("user_id", "sector_id", "channel", "address", name="uq_subscription"),
        # NULLs are distinct in a unique constraint: "all sectors" needs an index of its own.
        Index(
            "uq_subscription_all_sectors",
            "user_id",
            "channel",
            "address",
            unique=True,
            sqlite_where=text("sector_id IS NULL"),
            postgresql_where=text("sector_id IS NULL"),
        ),
    )


class Alert(Base):
    """One alert per event; the unique key makes a second insert of the same event a no-op."""

    __tablename__ = "alert"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[int | None] = mapped_column(ForeignKey("target.id"), index=True)
    covenant_id: Mapped[int | None] = mapped_column(ForeignKey("covenant.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    days: Mapped[int] = mapped_column(Integer, default=0)
    deadline: Mapped[date | None] = mapped_column(Date)
    fire_at: Mapped[datetime]
    raised_at: Mapped[datetime]
    #: For digests: the overview's lines, fixed when raised so a redelivery says the same.
    lines: Mapped[list[str]] = mapped_column(JSON, default=list)
    acked_at: Mapped[datetime | None]
    acked_by: Mapped[str | None] = mapped_column(String(200))
    #: Set when a catch-up found a more advanced alert of the same target: this one was
    #: recorded but never sent (its deliveries are `skipped`).
    superseded_by: Mapped[str | None] = mapped_column(String(200))


DELIVERY_STATUSES = ("pending", "sending", "sent", "failed", "skipped")


class Delivery(Base):
    """One per alert, channel and recipient: the outbox, delivered at least once."""

    __tablename__ = "delivery"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id"))
    channel: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    #: While `sending`: when the claim lapses (a killed process leaves it to be re-claimed).
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint(_in("status", DELIVERY_STATUSES), name="status"),
        UniqueConstraint("alert_id", "channel", "recipient", name="uq_delivery"),
        Index("ix_delivery_due", "status", "next_attempt_at"),
    )


class SchedulerState(Base):
    """Small named values the schedulers share through the database (the scan watermark)."""

    __tablename__ = "scheduler_state"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[datetime]


class Signature(Base):
    """Which party signed the covenant, and when."""

    __tablename__ = "signature"

    id: Mapped[int] = mapped_column(primary_key=True)
    covenant_id: Mapped[int] = mapped_column(ForeignKey("covenant.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    signed_on: Mapped[date] = mapped_column(Date)
    actor: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("covenant_id", "organisation_id", name="uq_signature"),)


class AuditCheckpoint(Base):
    """A digest over every chain head at one moment: catches a deleted tail later."""

    __tablename__ = "audit_checkpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime]
    covenants: Mapped[int] = mapped_column(Integer)
    rows: Mapped[int] = mapped_column(Integer)
    #: {covenant_id: [last_seq, head_hash]} at the time of the checkpoint.
    heads: Mapped[dict[str, list[object]]] = mapped_column(JSON)
    digest: Mapped[str] = mapped_column(String(64))


class IssuedReport(Base):
    """A progress report that was sent out: its dates, format and the SHA-256 of its bytes.

    A read table beside the proof: each issue also appends a `rapport_uitgebracht` entry to
    the chain of every covenant it reports on, so `imvo audit verify` covers it.
    """

    __tablename__ = "issued_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[date] = mapped_column(Date, index=True)
    since: Mapped[date | None] = mapped_column(Date)
    known_at: Mapped[bool]
    format: Mapped[str] = mapped_column(String(8))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    covenants: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(200))
    issued_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint("format IN ('md', 'html', 'docx')", name="format"),
        CheckConstraint("since IS NULL OR since < as_of", name="since_before_as_of"),
    )
