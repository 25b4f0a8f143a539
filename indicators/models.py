"""The database schema as typed SQLAlchemy 2.0 models. Only table definitions belong here.

Catalog tables (pillars, plans, regions, indicators, targets, milestones) mirror the YAML catalog and are
rewritten from it by ``init``. Statistics live in two tables:

- ``observations``: the current value of every (indicator, region, year), one row each, with its source,
  confidence, publication date and the batch that brought it.
- ``observation_history``: every earlier version, moved there (with its original id) when a later batch
  revised it, or when a revert retracted it. Together they answer "what was known on date D".

Every change arrives as a ``batches`` row: file name, checksum, user, time and counts. Task statuses are
batches too (kind ``task_status``): every status an editor sets is a ``task_statuses`` row, never changed
afterwards except to mark it retracted by a revert, so the rows are the history and the newest standing row
of a task is its status.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names, so migrations can alter them on every database.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def table_of(model: type[Base]) -> Table:
    """A model's Core table, for the bulk statements of ``queries`` and ``store`` (typed, unlike ``__table__``)."""
    return cast(Table, model.__table__)


class Pillar(Base):
    __tablename__ = "pillars"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    description_zh: Mapped[str] = mapped_column(Text)
    description_en: Mapped[str] = mapped_column(Text)


class Plan(Base):
    __tablename__ = "plans"
    id: Mapped[str] = mapped_column(String(60), primary_key=True)
    name_zh: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    issuer_zh: Mapped[str] = mapped_column(Text)
    issuer_en: Mapped[str] = mapped_column(Text)
    published: Mapped[str] = mapped_column(String(20))
    period_start: Mapped[int] = mapped_column(Integer)
    period_end: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)


class Region(Base):
    __tablename__ = "regions"
    code: Mapped[str] = mapped_column(String(60), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    iso3166: Mapped[str | None] = mapped_column(String(10))
    iso3: Mapped[str | None] = mapped_column(String(3))
    country: Mapped[str | None] = mapped_column(String(2))
    note: Mapped[str | None] = mapped_column(Text)
    aliases: Mapped[list] = mapped_column(JSON, default=list)
    parent: Mapped[str | None] = mapped_column(String(60))  # the region it lies in (zones, districts)
    # True for regions an upload introduced (named with a code and a name), not the catalog.
    from_upload: Mapped[bool] = mapped_column(Boolean, default=False)


class Publication(Base):
    """A document values cite: from the catalog's publications.yaml, or named by an upload (``from_upload``)."""

    __tablename__ = "publications"
    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    publisher_zh: Mapped[str] = mapped_column(Text)
    publisher_en: Mapped[str] = mapped_column(Text)
    title_zh: Mapped[str] = mapped_column(Text)
    title_en: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(40))
    published_on: Mapped[str | None] = mapped_column(String(10))
    date_basis: Mapped[str] = mapped_column(String(20))
    official_url: Mapped[str | None] = mapped_column(Text)
    read_at: Mapped[list] = mapped_column(JSON, default=list)
    accessed_on: Mapped[str | None] = mapped_column(String(10))
    notes: Mapped[str | None] = mapped_column(Text)
    from_upload: Mapped[bool] = mapped_column(Boolean, default=False)


class Indicator(Base):
    __tablename__ = "indicators"
    code: Mapped[str] = mapped_column(String(60), primary_key=True)
    name_zh: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    short_name_zh: Mapped[str] = mapped_column(String(200))
    short_name_en: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(40))
    unit_zh: Mapped[str] = mapped_column(String(80))
    unit_en: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(20))
    direction: Mapped[str] = mapped_column(String(10))
    growth: Mapped[str] = mapped_column(String(10))
    pillar: Mapped[str] = mapped_column(ForeignKey("pillars.code"))
    frequency: Mapped[str] = mapped_column(String(20))
    description_zh: Mapped[str] = mapped_column(Text)
    description_en: Mapped[str] = mapped_column(Text)
    measurement_zh: Mapped[str] = mapped_column(Text)
    measurement_en: Mapped[str] = mapped_column(Text)
    publisher_zh: Mapped[str] = mapped_column(Text)
    publisher_en: Mapped[str] = mapped_column(Text)
    external_codes: Mapped[dict] = mapped_column(JSON, default=dict)
    aliases: Mapped[list] = mapped_column(JSON, default=list)
    editions: Mapped[list] = mapped_column(JSON, default=list)
    owner: Mapped[str | None] = mapped_column(String(60))  # an agencies.code
    release_rule: Mapped[dict | None] = mapped_column(JSON)


class Agency(Base):
    """A body that owns indicators or carries out tasks (the catalog's ``agencies``)."""

    __tablename__ = "agencies"
    code: Mapped[str] = mapped_column(String(60), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    name_zh: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20))
    url: Mapped[str | None] = mapped_column(Text)


class Task(Base):
    """A task of the plan (the catalog's ``tasks.yaml``); its statuses are in ``task_statuses``."""

    __tablename__ = "tasks"
    id: Mapped[str] = mapped_column(String(60), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    title_zh: Mapped[str] = mapped_column(Text)
    title_en: Mapped[str] = mapped_column(Text)
    pillar: Mapped[str] = mapped_column(String(40))
    section_zh: Mapped[str | None] = mapped_column(Text)
    section_en: Mapped[str | None] = mapped_column(Text)
    lead: Mapped[str | None] = mapped_column(String(60))
    partners: Mapped[list] = mapped_column(JSON, default=list)
    milestones: Mapped[list] = mapped_column(JSON, default=list)
    indicators: Mapped[list] = mapped_column(JSON, default=list)
    documents: Mapped[list] = mapped_column(JSON, default=list)
    source: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)


class Target(Base):
    __tablename__ = "targets"
    __table_args__ = (UniqueConstraint("indicator_code", "region_code", "plan_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator_code: Mapped[str] = mapped_column(ForeignKey("indicators.code"))
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"))
    also_in: Mapped[list] = mapped_column(JSON, default=list)
    qualifier: Mapped[str] = mapped_column(String(20))
    tolerance: Mapped[float | None] = mapped_column(Float)
    tolerance_note: Mapped[str | None] = mapped_column(Text)
    base_year: Mapped[int | None] = mapped_column(Integer)
    base_value: Mapped[float | None] = mapped_column(Float)
    base_source: Mapped[str | None] = mapped_column(Text)
    base_confidence: Mapped[str | None] = mapped_column(String(10))
    period_average_start: Mapped[int | None] = mapped_column(Integer)
    period_average_end: Mapped[int | None] = mapped_column(Integer)
    wording_zh: Mapped[str] = mapped_column(Text)
    wording_en: Mapped[str] = mapped_column(Text)
    quote: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    confidence: Mapped[str] = mapped_column(String(10))
    binding: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[list] = mapped_column(JSON, default=list)
    milestones: Mapped[list[Milestone]] = relationship(
        back_populates="target", cascade="all, delete-orphan", order_by="Milestone.year"
    )


class Milestone(Base):
    __tablename__ = "milestones"
    __table_args__ = (UniqueConstraint("target_id", "year"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    value: Mapped[float | None] = mapped_column(Float)
    text_zh: Mapped[str | None] = mapped_column(Text)
    text_en: Mapped[str | None] = mapped_column(Text)
    target: Mapped[Target] = relationship(back_populates="milestones")


class Batch(Base):
    __tablename__ = "batches"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # seed | upload | revert | task_status
    file_name: Mapped[str | None] = mapped_column(Text)
    checksum: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    user: Mapped[str] = mapped_column(String(120))
    note: Mapped[str | None] = mapped_column(Text)
    n_new: Mapped[int] = mapped_column(Integer, default=0)
    n_revised: Mapped[int] = mapped_column(Integer, default=0)
    n_unchanged: Mapped[int] = mapped_column(Integer, default=0)
    n_skipped: Mapped[int] = mapped_column(Integer, default=0)
    n_rejected: Mapped[int] = mapped_column(Integer, default=0)
    reverts_batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"))
    reverted_by_batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"))


class _ObservationVersion:
    """The columns of one version of a value, shared by the current values and their history."""

    indicator_code: Mapped[str] = mapped_column(ForeignKey("indicators.code"), sort_order=1)
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), sort_order=1)
    year: Mapped[int] = mapped_column(Integer, sort_order=1)
    value: Mapped[float] = mapped_column(Float, sort_order=1)
    source: Mapped[str] = mapped_column(Text, sort_order=1)
    confidence: Mapped[str] = mapped_column(String(10), sort_order=1)
    note: Mapped[str | None] = mapped_column(Text, sort_order=1)
    flag: Mapped[str | None] = mapped_column(String(40), sort_order=1)  # flag codes, space-separated (flags.py)
    publication_id: Mapped[str | None] = mapped_column(String(80), sort_order=1)  # a row of publications
    published_on: Mapped[str | None] = mapped_column(String(10), sort_order=1)
    known_from: Mapped[datetime] = mapped_column(DateTime, sort_order=1)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True, sort_order=1)


class Observation(_ObservationVersion, Base):
    __tablename__ = "observations"
    __table_args__ = (
        UniqueConstraint("indicator_code", "region_code", "year"),
        {"sqlite_autoincrement": True},  # ids order versions in time: never reuse one
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


class ObservationHistory(_ObservationVersion, Base):
    __tablename__ = "observation_history"
    __table_args__ = (Index("ix_observation_history_key", "indicator_code", "region_code", "year"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    observation_id: Mapped[int] = mapped_column(Integer)
    superseded_by_batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True, sort_order=2)
    retracted: Mapped[bool] = mapped_column(Boolean, default=False, sort_order=2)


class TaskStatus(Base):
    """One status an editor set for a task: what, as of which date, why (note) and on what evidence.

    No foreign key to ``tasks``: a task the catalog drops keeps its history, like an observation's region.
    """

    __tablename__ = "task_statuses"
    __table_args__ = (Index("ix_task_statuses_task", "task_id", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(20))  # catalog.TASK_STATUSES
    status_date: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD: the day the status describes
    note: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text)  # an address or a publication id
    known_from: Mapped[datetime] = mapped_column(DateTime)  # when it was recorded
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    retracted_by_batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"))


class User(Base):
    """A person who may sign in. Viewers read; editors upload, commit and revert; admins also manage users."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(10))  # viewer | editor | admin
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # carried in every session cookie; sign-out, a new password and disabling add one, ending every session
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # an editor scoped to one agency commits only the indicators it owns (None: every indicator)
    agency: Mapped[str | None] = mapped_column(String(60))



class SignInFailure(Base):
    """Failed sign-ins of one (name, address) pair or of one address, shared by every server process and host.

    ``key`` is a digest of the pair or the address (fixed length, whatever a form sent); ``last`` is when the
    latest failure was reserved, in seconds since the epoch (every process reads the same clock).
    """

    __tablename__ = "sign_in_failures"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    last: Mapped[float] = mapped_column(Float, index=True)


class Job(Base):
    """A background job started from the web (a briefing pack, a work report): its progress, error and result,
    where every server process can read them, so any process answers a poll or a download.

    ``state``: pending | running | done | failed. ``beat`` is when the process running it last reported
    (seconds since the epoch): a running job whose process died stops beating and is shown as failed.
    """

    __tablename__ = "jobs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    owner: Mapped[str] = mapped_column(String(200), index=True)  # who started it: an account, else an address
    name: Mapped[str] = mapped_column(String(200))  # the file name the result downloads as
    state: Mapped[str] = mapped_column(String(10), index=True)
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    step: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[bytes | None] = mapped_column(LargeBinary)
    created: Mapped[float] = mapped_column(Float, index=True)
    beat: Mapped[float] = mapped_column(Float)


OBSERVATION_COLUMNS = [
    "id", "indicator_code", "region_code", "year", "value", "source", "confidence", "note", "flag",
    "publication_id", "published_on", "known_from", "batch_id",
]
