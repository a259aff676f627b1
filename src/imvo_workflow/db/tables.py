"""The tables, declared as SQLAlchemy Core `Table`s on one MetaData.

These describe the schema; Alembic migrations create it (a test fails when the two differ).
Services read and write through Core statements on them, and nothing maps rows to objects,
so the tables are Core: importing them loads no `sqlalchemy.orm`, which cost `imvo status`
about a sixth of its start (issue 14). A column is NOT NULL unless it says `nullable=True`.
The three partial unique indexes are declared in db/schema.py, which the migrations and the
schema test read: their `where` is a dialect option, and declaring one loads SQLAlchemy's
SQLite and PostgreSQL dialects, whichever database a command uses.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)

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
USER_ROLES = ("admin", "coordinator", "viewer")
CHANNELS = ("email", "webhook", "inbox", "log")
DELIVERY_STATUSES = ("pending", "sending", "sent", "failed", "skipped")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _id() -> Column[int]:
    return Column("id", Integer, primary_key=True)


def _moment(name: str, *, nullable: bool = False, index: bool | None = None) -> Column[object]:
    """A point in time: always with its time zone."""
    return Column(name, DateTime(timezone=True), nullable=nullable, index=index)


sector = Table(
    "sector",
    metadata,
    _id(),
    Column("slug", String(80), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("group", String(20), nullable=False),
    Column("parent_id", Integer, ForeignKey("sector.id"), nullable=True),
    Column("position", Integer, nullable=False, default=0),
    CheckConstraint(_in('"group"', ("risicosector", "overige")), name="group"),
)

organisation = Table(
    "organisation",
    metadata,
    _id(),
    Column("name", String(200), nullable=False, unique=True),
    Column("full_name", String(400), nullable=True),
    Column("kind", String(30), nullable=False),
    CheckConstraint(_in("kind", ORGANISATION_KINDS), name="kind"),
)

covenant = Table(
    "covenant",
    metadata,
    _id(),
    Column("slug", String(80), nullable=False, unique=True),
    Column("sector_id", Integer, ForeignKey("sector.id"), nullable=False, index=True),
    Column("parent_id", Integer, ForeignKey("covenant.id"), nullable=True),
    #: Set when the process continued in another covenant (stage `opgegaan`).
    Column("continued_in_id", Integer, ForeignKey("covenant.id"), nullable=True),
    Column("title", String(300), nullable=False),
    Column("summary", Text, nullable=False, default=""),
    Column("notes", JSON, nullable=False, default=list),
    Column("stage", String(40), nullable=False, index=True),
    Column("stage_since", Date, nullable=False),
    #: Optimistic lock: every move bumps it; a move that read an older one is refused.
    Column("version", Integer, nullable=False, default=1),
    Column("definition_version", String(40), nullable=False),
    #: Head of the history chain: last seq and its hash (the next row links to it).
    Column("last_seq", Integer, nullable=False, default=0),
    Column("head_hash", String(64), nullable=False, default=""),
    Column("position", Integer, nullable=False, default=0),
    # Lists in the document's order, a page after a keyset cursor (services/listing.py).
    Index("ix_covenant_position_id", "position", "id"),
    Index("ix_covenant_stage_position_id", "stage", "position", "id"),
)

#: An organisation's part in a covenant, from `since` until `until` (open: still a party).
#: `since` is empty for the parties the 2016 seed names: they took part from the start.
participation = Table(
    "participation",
    metadata,
    _id(),
    Column("covenant_id", Integer, ForeignKey("covenant.id"), nullable=False, index=True),
    Column("organisation_id", Integer, ForeignKey("organisation.id"), nullable=False),
    Column("role", String(20), nullable=False),
    Column("since", Date, nullable=True),
    Column("until", Date, nullable=True),
    Column("left_reason", Text, nullable=True),
    CheckConstraint(_in("role", PARTICIPATION_ROLES), name="role"),
    CheckConstraint("until IS NULL OR since IS NULL OR since <= until", name="period_order"),
    # uq_participation_current: db/schema.py
)

#: Every name an organisation had: a rename closes the old one (kept for the history).
organisation_name = Table(
    "organisation_name",
    metadata,
    _id(),
    Column("organisation_id", Integer, ForeignKey("organisation.id"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    #: When this name was replaced (None: the current name).
    _moment("replaced_at", nullable=True),
    Column("actor", String(200), nullable=False),
    Column("reason", Text, nullable=False, default=""),
    _moment("recorded_at"),
)

#: A dated progress note on a covenant; the newest note written on or before D is D's story.
note = Table(
    "note",
    metadata,
    _id(),
    Column("covenant_id", Integer, ForeignKey("covenant.id"), nullable=False, index=True),
    #: The history entry that wrote it.
    Column("seq", Integer, nullable=False),
    Column("written_on", Date, nullable=False),
    Column("author", String(200), nullable=False),
    Column("text", Text, nullable=False),
    _moment("recorded_at"),
)

#: A signed covenant's term; a renewal opens the next one, linked to the previous.
term = Table(
    "term",
    metadata,
    _id(),
    Column("covenant_id", Integer, ForeignKey("covenant.id"), nullable=False, index=True),
    Column("number", Integer, nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("previous_id", Integer, ForeignKey("term.id"), nullable=True),
    Column("seq", Integer, nullable=False),
    _moment("recorded_at"),
    UniqueConstraint("covenant_id", "number", name="uq_term_covenant_number"),
    CheckConstraint("starts_on < ends_on", name="period_order"),
)

#: One move in a covenant's history. Append-only: rows are never updated or deleted.
transition = Table(
    "transition",
    metadata,
    _id(),
    Column("covenant_id", Integer, ForeignKey("covenant.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("from_stage", String(40), nullable=True),
    Column("to_stage", String(40), nullable=False),
    Column("trigger", String(60), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("occurred_on", Date, nullable=False),
    _moment("recorded_at"),
    Column("definition_version", String(40), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    #: A correction is a new row naming the seq of the row it corrects (its date, reason).
    Column("corrects_seq", Integer, nullable=True),
    #: What a record entry (a party, a signature, a note, ...) changed: canonical JSON, hashed.
    Column("detail", Text, nullable=True),
    UniqueConstraint("covenant_id", "seq", name="uq_transition_covenant_seq"),
)

#: An expected step ('ondertekend in Q1 van 2017') or dated milestone, with its deadline.
target = Table(
    "target",
    metadata,
    _id(),
    Column("covenant_id", Integer, ForeignKey("covenant.id"), nullable=False),
    Column("stage", String(40), nullable=True),
    Column("milestone", String(300), nullable=True),
    Column("description", Text, nullable=False, default=""),
    Column("phrase", String(200), nullable=False),
    Column("reference_date", Date, nullable=False),
    Column("period_start", Date, nullable=False),
    Column("deadline", Date, nullable=False),
    Column("status", String(20), nullable=False, default="open"),
    Column("closed_on", Date, nullable=True),
    #: When the closing was entered (closed_on is when it happened): for "known at" views.
    _moment("closed_at", nullable=True),
    #: Why a milestone was dropped (or any closing a coordinator explained).
    Column("close_reason", Text, nullable=True),
    _moment("created_at"),
    CheckConstraint(_in("status", TARGET_STATUSES), name="status"),
    CheckConstraint("(stage IS NULL) <> (milestone IS NULL)", name="stage_xor_milestone"),
    CheckConstraint("period_start <= deadline", name="period_order"),
    Index("ix_target_covenant_status", "covenant_id", "status"),
    Index("ix_target_status_deadline", "status", "deadline"),
    Index("ix_target_deadline", "deadline"),
    # uq_target_open_stage: db/schema.py
)

#: Every change of a target (its creation included): planned against actual stays visible.
target_change = Table(
    "target_change",
    metadata,
    _id(),
    Column("target_id", Integer, ForeignKey("target.id"), nullable=False, index=True),
    Column("old_phrase", String(200), nullable=True),
    Column("old_deadline", Date, nullable=True),
    Column("new_phrase", String(200), nullable=False),
    Column("new_period_start", Date, nullable=False),
    Column("new_deadline", Date, nullable=False),
    Column("reference_date", Date, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("reason", Text, nullable=False, default=""),
    _moment("changed_at"),
)

user = Table(
    "user_account",
    metadata,
    _id(),
    Column("name", String(120), nullable=False, unique=True),
    Column("email", String(320), nullable=True),
    Column("role", String(20), nullable=False),
    Column("password_hash", String(300), nullable=True),
    _moment("created_at"),
    #: SHA-256 of the secret in the URL of the user's personal calendar feed.
    Column("calendar_token_hash", String(64), nullable=True, unique=True),
    #: Session cookies carry this number; logging out raises it, which ends every session.
    Column("session_epoch", Integer, nullable=False, default=0, server_default="0"),
    #: Set by an admin: no login, session, API token or calendar link works while it is set.
    _moment("disabled_at", nullable=True),
    CheckConstraint(_in("role", USER_ROLES), name="role"),
)
# "Anna" and "anna" are one person: the database refuses the second (migration 0009).
Index("uq_user_name_lower", func.lower(user.c.name), unique=True)

#: A bearer token for the JSON API; only its hash is stored.
api_token = Table(
    "api_token",
    metadata,
    _id(),
    Column("user_id", Integer, ForeignKey("user_account.id"), nullable=False, index=True),
    Column("name", String(120), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    _moment("created_at"),
    _moment("revoked_at", nullable=True),
    #: The token stops working from this moment (None: until revoked).
    _moment("expires_at", nullable=True),
)

#: Failed logins per (name, client address) and per client address. Keyed by a SHA-256 of
#: the scope, so a name nobody has is counted like one that exists, without a user row and
#: without storing what a stranger typed.
login_throttle = Table(
    "login_throttle",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    _moment("blocked_until", nullable=True),
    _moment("last_failure_at", index=True),
)

#: Which user gets which sector's alerts (all sectors when sector is empty), on which channel.
subscription = Table(
    "subscription",
    metadata,
    _id(),
    Column("user_id", Integer, ForeignKey("user_account.id"), nullable=False, index=True),
    Column("sector_id", Integer, ForeignKey("sector.id"), nullable=True),
    Column("channel", String(20), nullable=False),
    #: e-mail address or webhook URL; empty for inbox and log.
    Column("address", String(500), nullable=False, default=""),
    #: Webhook: the HMAC-SHA256 signing secret, shown once when subscribing. Kept as is (not
    #: hashed): the sender needs the secret itself to sign each delivery.
    Column("secret", String(100), nullable=True),
    CheckConstraint(_in("channel", CHANNELS), name="channel"),
    UniqueConstraint("user_id", "sector_id", "channel", "address", name="uq_subscription"),
    # uq_subscription_all_sectors: db/schema.py
)

#: One alert per event; the unique key makes a second insert of the same event a no-op.
alert = Table(
    "alert",
    metadata,
    _id(),
    Column("key", String(200), nullable=False, unique=True),
    Column("kind", String(20), nullable=False),
    Column("target_id", Integer, ForeignKey("target.id"), nullable=True, index=True),
    Column("covenant_id", Integer, ForeignKey("covenant.id"), nullable=True),
    Column("user_id", Integer, ForeignKey("user_account.id"), nullable=True),
    Column("days", Integer, nullable=False, default=0),
    Column("deadline", Date, nullable=True),
    _moment("fire_at"),
    _moment("raised_at"),
    #: For digests: the overview's lines, fixed when raised so a redelivery says the same.
    Column("lines", JSON, nullable=False, default=list),
    _moment("acked_at", nullable=True),
    Column("acked_by", String(200), nullable=True),
    #: Set when a catch-up found a more advanced alert of the same target: this one was
    #: recorded but never sent (its deliveries are `skipped`).
    Column("superseded_by", String(200), nullable=True),
)

#: One per alert, channel and recipient: the outbox, delivered at least once.
delivery = Table(
    "delivery",
    metadata,
    _id(),
    Column("alert_id", Integer, ForeignKey("alert.id"), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("recipient", String(500), nullable=False),
    Column("status", String(20), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    _moment("next_attempt_at"),
    #: While `sending`: when the claim lapses (a killed process leaves it to be re-claimed).
    _moment("lease_until", nullable=True),
    Column("last_error", Text, nullable=True),
    _moment("sent_at", nullable=True),
    CheckConstraint(_in("status", DELIVERY_STATUSES), name="status"),
    UniqueConstraint("alert_id", "channel", "recipient", name="uq_delivery"),
    Index("ix_delivery_due", "status", "next_attempt_at"),
)

#: Small named values the schedulers share through the database (the scan watermark).
scheduler_state = Table(
    "scheduler_state",
    metadata,
    Column("name", String(60), primary_key=True),
    _moment("value"),
)

#: Which party signed the covenant, and when.
signature = Table(
    "signature",
    metadata,
    _id(),
    Column("covenant_id", Integer, ForeignKey("covenant.id"), nullable=False, index=True),
    Column("organisation_id", Integer, ForeignKey("organisation.id"), nullable=False),
    Column("signed_on", Date, nullable=False),
    Column("actor", String(200), nullable=False),
    _moment("recorded_at"),
    UniqueConstraint("covenant_id", "organisation_id", name="uq_signature"),
)

#: A digest over every chain head at one moment: catches a deleted tail later.
audit_checkpoint = Table(
    "audit_checkpoint",
    metadata,
    _id(),
    _moment("created_at"),
    Column("covenants", Integer, nullable=False),
    Column("rows", Integer, nullable=False),
    #: {covenant_id: [last_seq, head_hash]} at the time of the checkpoint.
    Column("heads", JSON, nullable=False),
    Column("digest", String(64), nullable=False),
)

#: A progress report that was sent out: its dates, format and the SHA-256 of its bytes. A
#: read table beside the proof: each issue also appends a `rapport_uitgebracht` entry to the
#: chain of every covenant it reports on, so `imvo audit verify` covers it.
issued_report = Table(
    "issued_report",
    metadata,
    _id(),
    Column("as_of", Date, nullable=False, index=True),
    Column("since", Date, nullable=True),
    Column("known_at", Boolean, nullable=False),
    Column("format", String(8), nullable=False),
    Column("sha256", String(64), nullable=False, index=True),
    Column("size", Integer, nullable=False),
    Column("covenants", Integer, nullable=False),
    Column("actor", String(200), nullable=False),
    _moment("issued_at"),
    CheckConstraint("format IN ('md', 'html', 'docx')", name="format"),
    CheckConstraint("since IS NULL OR since < as_of", name="since_before_as_of"),
)
