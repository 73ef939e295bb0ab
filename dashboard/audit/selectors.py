"""Reads of the audit log: filters from URL parameters, and keyset pages newest first.

Pages are keyset (``id < before``, ``dashboard.core.pagination``), never OFFSET: a deep page costs
what the first one does, and rows appended while someone pages through do not shift what they see.
Every parameter is parsed here before the database or a date library sees it; a bad one is an
error naming it, never an exception further down (issue 17).

This app is the base others write to: it imports no other app of ours (``tests/
test_import_layers.py``). Job outcomes are read through the ``job`` foreign key by status value.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import connections
from django.db.models import DateTimeField, Exists, Func, OuterRef, Q, QuerySet, TextField, Value
from django.db.models.functions import StrIndex
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from dashboard.audit.models import AuditEvent, AuditWord
from dashboard.audit.search import fold
from dashboard.core.pagination import Page, keyset_page, parse_cursor

KINDS = dict(AuditEvent.Kind.choices)
# What became of the move an event belongs to. The job statuses' words are AllocationJob.Status's
# labels (a test keeps them equal; this app imports no other): "Accepted by CIC", not "succeeded".
OUTCOMES = {
    "succeeded": "Accepted by CIC",
    "failed": "Failed",
    "cancelled": "Cancelled",
    "refused": "Refused before queuing",
    "pending": "Still in progress",
}
# The job statuses that end a move (AllocationJob.TERMINAL; a test keeps the two equal): the
# audit app filters by them without importing the allocations app.
JOB_FINISHED = frozenset({"succeeded", "failed", "cancelled"})
MAX_TEXT = 200
PAGE_CURSOR = "must be an entry id (the page links set it)"
TIME_FORMAT = "must be a date (2026-11-17) or date and time (2026-11-17T09:30)"
TIME_RANGE = "is outside the dates the log can hold (years 1 to 9999 in UTC and in your time zone)"


@dataclass(frozen=True)
class AuditFilter:
    actor: str = ""
    agent: str = ""
    campaign: str = ""
    outcome: str = ""
    kind: str = ""
    since: datetime | None = None
    until: datetime | None = None
    q: str = ""
    preset: str = ""  # since/until were derived from it, so links keep the preset, not times

    def as_params(self) -> dict[str, str]:
        """The URL parameters that give this filter back (for links and the export)."""
        params = {}
        for f in fields(self):
            if self.preset and f.name in ("since", "until"):
                continue
            value = getattr(self, f.name)
            if isinstance(value, datetime):
                value = timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")
            if value:
                params[f.name] = value
        return params

    @property
    def active(self) -> bool:
        return bool(self.as_params())


def audit_filter_from_params(params: Mapping[str, str]) -> tuple[AuditFilter, dict[str, str]]:
    """Parse URL parameters; the errors name each bad field. Times are the viewer's local time."""
    errors: dict[str, str] = {}
    values: dict = {}
    for name in ("actor", "agent", "campaign", "q"):
        value = (params.get(name) or "").strip()
        if len(value) > MAX_TEXT:
            errors[name] = f"at most {MAX_TEXT} characters"
        else:
            values[name] = value
    kind = params.get("kind") or ""
    if kind and kind not in KINDS:
        errors["kind"] = _unknown("event type", kind, KINDS)
    else:
        values["kind"] = kind
    outcome = params.get("outcome") or ""
    if outcome and outcome not in OUTCOMES:
        errors["outcome"] = _unknown("outcome", outcome, OUTCOMES)
    else:
        values["outcome"] = outcome
    for name in ("since", "until"):
        raw = (params.get(name) or "").strip()
        if raw:
            try:
                values[name] = _parse_time(raw, end_of_day=name == "until")
            except ValueError as exc:
                errors[name] = str(exc)
    preset = params.get("preset") or ""
    if preset and preset not in PRESETS:
        errors["preset"] = _unknown("time preset", preset, PRESETS)
    elif preset:
        values["since"], values["until"] = preset_range(preset)
        values["preset"] = preset
    since, until = values.get("since"), values.get("until")
    if not errors and since and until and since >= until:
        errors["until"] = "must be after the start of the range"
    return AuditFilter(**values), errors


def _unknown(what: str, value: str, choices: Mapping[str, str]) -> str:
    """A choice the page never offers (a hand-edited or old link, ``?kind=move``): what it is,
    and the choices by the names the form shows, not their URL codes."""
    return (
        f"unknown {what} {value[:40]!r}: there is no such {what}. "
        f"Choose one by name from the list: {', '.join(map(str, choices.values()))}."
    )


# A field's name on the form, for messages that name the field (the URL keeps the code).
FIELD_LABELS = {
    "actor": "Actor",
    "agent": "Agent",
    "campaign": "Campaign",
    "outcome": "Outcome",
    "kind": "Event",
    "preset": "When",
    "since": "From",
    "until": "To",
    "q": "Text",
    "before": "Page",
}


PRESETS = {
    "shift": "This shift",
    "hour": "Last hour",
    "today": "Today",
    "yesterday": "Yesterday",
    "week": "Last 7 days",
}


def preset_range(preset: str, now: datetime | None = None) -> tuple[datetime, datetime | None]:
    """(since, until) of a preset in the viewer's time zone (``timezone.get_current_timezone``,
    set from the tz cookie). "This shift" starts at the current block of
    ``DASHBOARD_SHIFT_HOURS`` hours counted from local midnight."""
    now = timezone.localtime(now or timezone.now())
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if preset == "hour":
        return now - timedelta(hours=1), None
    if preset == "shift":
        hours = settings.DASHBOARD_SHIFT_HOURS
        start = midnight.replace(hour=now.hour // hours * hours)
        return start, None
    if preset == "yesterday":
        start = _local_midnight(midnight.date() - timedelta(days=1))
        return start, midnight - timedelta(microseconds=1)
    if preset == "week":
        return _local_midnight(midnight.date() - timedelta(days=6)), None
    return midnight, None  # today


def _local_midnight(day) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day))


def _parse_time(raw: str, *, end_of_day: bool) -> datetime:
    """A date or a date and time, local to the viewer. An end of range includes the whole day
    (``until=2026-11-17``) or the whole minute (``until=2026-11-17T09:30``) it names, as a
    reader of the form would expect. ``ValueError`` (its text says why) when it is not one.

    The moment must exist in UTC (how the database stores it) and in the viewer's zone (how it
    is shown back): ``0001-01-01T00:00+23:59``, or ``9999-12-31`` for a viewer at UTC-12, is a
    valid text whose moment falls outside years 1-9999 in one of them.
    """
    try:
        day = parse_date(raw) if len(raw) == 10 else None
        if day is not None:
            moment = datetime(day.year, day.month, day.day)
            if end_of_day:
                moment = moment.replace(hour=23, minute=59, second=59, microsecond=999999)
        else:
            moment = parse_datetime(raw)
            if end_of_day and moment is not None and len(raw) == 16:  # as datetime-local sends
                moment = moment.replace(second=59, microsecond=999999)
    except ValueError:
        moment = None
    if moment is None:
        raise ValueError(TIME_FORMAT)
    try:
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment, timezone.get_current_timezone())
        moment.astimezone(UTC)
        timezone.localtime(moment)
    except (OverflowError, ValueError):
        raise ValueError(TIME_RANGE) from None
    return moment


def audit_queryset(audit_filter: AuditFilter, *, walk: bool = False) -> QuerySet[AuditEvent]:
    """Actor, agent, campaign and text match by substring of the folded columns
    (``audit.search``): partial, case- and accent-insensitive, ids and names alike; pg_trgm
    GIN indexes serve them on PostgreSQL. ``walk``: every text test row by row, no index (the
    same rows), for a walk of the newest rows or of a few jobs' steps."""
    indexed, walked, _ = _matching(audit_filter, indexed=not walk)
    return walked if walk else indexed


def _matching(
    f: AuditFilter, *, indexed: bool = True
) -> tuple[QuerySet[AuditEvent] | None, QuerySet[AuditEvent], bool]:
    """(the filter's rows as ``audit_queryset`` finds them, the same rows tested row by row,
    whether a text test of the first goes to an index over the whole table: ``_containing``'s
    broad case, which a bounded walk of the newest rows can spare). Both share the other
    tests, so the time range's id bounds are looked up once."""
    events = AuditEvent.objects.all()
    if f.actor:
        events = events.filter(actor_search__contains=fold(f.actor))
    if f.kind:
        events = events.filter(kind=f.kind)
    if f.outcome == "refused":
        events = events.filter(kind=AuditEvent.Kind.REFUSED)
    elif f.outcome == "pending":
        events = events.filter(job__isnull=False).exclude(job__status__in=JOB_FINISHED)
    elif f.outcome:
        events = events.filter(job__status=f.outcome)
    if f.since or f.until:
        events = _in_time(events, f.since, f.until)
    texts = [("agent_search", f.agent), ("campaign_search", f.campaign), ("search_text", f.q)]
    texts = [(column, fold(text)) for column, text in texts if text]
    walked = events
    for column, folded in texts:
        walked = _containing(walked, column, folded, walk=True)[0]
    broad = False
    if indexed:
        for column, folded in texts:
            events, wide = _containing(events, column, folded)
            broad = broad or wide
    return events if indexed else None, walked, broad


def _on_postgresql() -> bool:
    return connections[AuditEvent.objects.db].vendor == "postgresql"


def _containing(
    events: QuerySet[AuditEvent], column: str, folded: str, *, walk: bool = False
) -> tuple[QuerySet[AuditEvent], bool]:
    """Rows whose folded ``column`` contains ``folded``, and whether the test is broad (see
    below). On PostgreSQL, first narrowed to the rows holding one of the few words that can
    contain it (``narrowest_words``), which the word-array index finds without walking the
    common trigrams; the substring test still decides, so the answer is the same as SQLite's
    plain scan."""
    if not folded or not _on_postgresql():
        return events.filter(**{f"{column}__contains": folded}), False
    if walk:
        return _strpos(events, column, folded), False
    words, share = narrowest_words(column, folded)
    if words is None:
        return events.filter(**{f"{column}__contains": folded}), True
    if not words:
        return events.none(), False
    if share * _row_count() <= FEW_ROWS:
        # Few rows hold the words: fetch them through the word index and sort. The
        # substring test on a bare expression keeps the trigram index out (with both at hand
        # the planner intersected them, walking the common trigrams again).
        found = events.alias(
            **{f"{column}_words": _Words(column), f"{column}_text": _Unindexed(column)}
        ).filter(**{f"{column}_words__overlap": words, f"{column}_text__contains": folded})
        return found, False
    if " " in folded:
        # Several typed words, each in many rows: their trigrams together are rare where the
        # words seldom meet ("spring 0041": no campaign is both), which a walk would only
        # learn by reading the whole table; the planner weighs the two by the column's stats.
        # Broad: where they do meet often ("upsell 0040", 1% of rows) the trigram index
        # still walks the common trigrams' lists (90 ms at 1M rows) while a walk of the newest
        # rows finds a page in 10,000 rows, so the page walks a bounded window first
        # (``WALK_ROWS``) and asks the index only for what lies below it.
        return events.filter(**{f"{column}__contains": folded}), True
    # One common word: every row holding one of the words matches, so walking the newest
    # rows finds a page at once.
    return _strpos(events, column, folded), False


def _strpos(events: QuerySet[AuditEvent], column: str, folded: str) -> QuerySet[AuditEvent]:
    """The substring test as ``strpos`` (the same test as ``LIKE '%x%'``), which no index
    serves and the planner rates as a third of the rows, so it keeps the walk of the id index;
    a LIKE on a bare expression it rates near zero, and then a common word sent it scanning
    the whole table. No word test, so that no index competes with the walk."""
    return events.alias(**{f"{column}_at": StrIndex(column, Value(folded))}).filter(
        **{f"{column}_at__gt": 0}
    )


# A typed word contained in more words than this is broad: the rows holding it are many, and
# walking the newest rows with the substring test finds a page sooner than the index would.
MOST_WORDS = 500


def words_containing(
    column: str,
    word: str,
    *,
    most: int | None = None,
    known: list[str] | None = None,
    place: str = "inside",
    text: str | None = None,
) -> list[str] | None:
    """The vocabulary's words of ``column`` (or of ``known``, or of ``text``: words one a
    line as ``_lines`` joins them) that hold ``word`` at ``place``: "inside", "end", "start"
    or "whole"; ``None`` if more than ``most`` (``MOST_WORDS``) do. In vocabulary order.

    Found with ``str.find`` in the words joined one a line, not a test per word: a typed
    word is looked up in 10,000 words in C, where a Python loop over them cost about 1.5 ms
    of a filtered page's CPU per typed word (bench/audit_page.py at 1M rows)."""
    most = MOST_WORDS if most is None else most
    if text is None:
        text = _lines(vocabulary(column) if known is None else known)
    needle = {"end": f"{word}\n", "start": f"\n{word}", "whole": f"\n{word}\n"}.get(place, word)
    found: list[str] = []
    at = text.find(needle)
    while at >= 0:
        start = text.rfind("\n", 0, at + 1) + 1  # the needle's own newline, else the one before
        end = text.find("\n", start)
        if end < 0:
            break
        found.append(text[start:end])
        if len(found) > most:
            return None
        at = text.find(needle, end)
    return found


def _lines(words: list[str]) -> str:
    """The words one a line, with a newline before the first and after the last (folded words
    hold no newline: ``fold`` splits on every kind of space)."""
    return "\n" + "".join(f"{w}\n" for w in words)


_vocabularies: dict[str, tuple[int, list[str], str]] = {}


def vocabulary(column: str) -> list[str]:
    """Every word of ``column`` the vocabulary holds, kept in memory while its count stays
    the same (words are only added; counted, not "ids above the last seen", since a word
    committed late can have the lower id): a few thousand words are searched quicker here
    than by a query for each typed word."""
    return _vocabulary(column)[1]


def _vocabulary(column: str) -> tuple[int, list[str], str]:
    """(count, the words, the words as ``_lines``), checked by one count query."""
    words = AuditWord.objects.filter(column=column)
    count = words.count()
    cached = _vocabularies.get(column)
    if cached is None or cached[0] != count:
        known = list(words.values_list("word", flat=True))
        cached = (count, known, _lines(known))
        _vocabularies[column] = cached
    return cached


def narrowest_words(column: str, folded: str) -> tuple[list[str] | None, float]:
    """The words a row must hold one of to contain ``folded`` in ``column``: every word of
    the typed text lies inside one word of the row (both are folded, so single spaces
    separate words): of several typed words the first ends a row's word, the last begins
    one and the others are whole words, so the words holding any one typed word so are such
    a set. Returns the set the fewest rows hold
    (``word_frequencies``; ``None`` when every typed word is broad) and the share of rows
    holding it."""
    frequencies, rare = word_frequencies(column)
    best, best_share = None, 0.0
    text = _vocabulary(column)[2]
    typed = folded.split(" ")
    for i, word in enumerate(typed):
        if len(typed) == 1:
            place = "inside"
        else:
            place = "end" if i == 0 else "start" if i == len(typed) - 1 else "whole"
        found = words_containing(column, word, text=text, place=place)
        if found is None:
            continue
        share = min(1.0, sum(frequencies.get(w, rare) for w in found))
        if best is None or (share, len(found)) < (best_share, len(best)):
            best, best_share = found, share
    return best, best_share


_frequencies: dict[str, tuple[float, dict[str, float], float]] = {}
FREQUENCIES_TTL = 300.0  # seconds; ANALYZE refreshes them far less often


def word_frequencies(column: str) -> tuple[dict[str, float], float]:
    """(word -> share of rows holding it, share assumed for any other word), from
    PostgreSQL's statistics of the word index (ANALYZE keeps the commonest ~1,000 words):
    "jose" may be one word and still be in a tenth of the rows, "0120" several rare ones."""
    cached = _frequencies.get(column)
    if cached and time.monotonic() - cached[0] < FREQUENCIES_TTL:
        return cached[1], cached[2]
    with connections[AuditEvent.objects.db].cursor() as cursor:
        cursor.execute(
            "SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats "
            "WHERE schemaname = current_schema() AND tablename = %s",
            [f"audit_words_{column}"],
        )
        row = cursor.fetchone()
    frequencies, rare = {}, 0.0
    if row and row[0] and row[1]:
        # The frequencies end with the least and greatest of them and the nulls' share.
        frequencies = dict(zip(row[0], row[1], strict=False))
        rare = row[1][-3] / 2
    _frequencies[column] = (time.monotonic(), frequencies, rare)
    return frequencies, rare


class _Words(Func):
    """``string_to_array(column, ' ')``: the expression the word indexes are built on."""

    function = "string_to_array"
    template = "%(function)s(%(expressions)s, ' ')"
    output_field = ArrayField(TextField())


# Up to this many rows holding the typed words (guessed from the word index's statistics),
# the word index fetches and sorts them all: a few ms per thousand.
FEW_ROWS = 5_000


_row_counts: dict[str, tuple[float, float]] = {}


def _row_count() -> float:
    """The planner's row count of the table (``reltuples``, kept by ANALYZE), read again
    after ``FREQUENCIES_TTL`` like the word statistics it is weighed with (a round trip of
    every filtered page otherwise)."""
    cached = _row_counts.get(AuditEvent.objects.db)
    if cached and time.monotonic() - cached[0] < FREQUENCIES_TTL:
        return cached[1]
    with connections[AuditEvent.objects.db].cursor() as cursor:
        cursor.execute(
            "SELECT reltuples FROM pg_class WHERE oid = %s::regclass",
            [AuditEvent._meta.db_table],
        )
        row = cursor.fetchone()
    count = max(row[0], 0) if row else 0
    _row_counts[AuditEvent.objects.db] = (time.monotonic(), count)
    return count


class _Unindexed(Func):
    """The column as an expression no index is built on, so it is tested row by row."""

    template = "(%(expressions)s || '')"
    output_field = TextField()


class _UnindexedTime(Func):
    """``at`` as an expression no index is built on, so it is tested row by row."""

    template = "(%(expressions)s + interval '0')"
    output_field = DateTimeField()


# How far a row's ``at`` may trail its id: ``at`` is stamped just before the INSERT that takes
# the id (``audit_record``), so ids follow time to within a transaction's wait, and a clock
# step back smaller than this keeps them in order too.
ID_TIME_SKEW = timedelta(minutes=15)


def _in_time(
    events: QuerySet[AuditEvent], since: datetime | None, until: datetime | None
) -> QuerySet[AuditEvent]:
    """Rows with ``since <= at <= until``, also bounded by id so the newest-first walk of the
    id index stays the plan (PostgreSQL assumes time and id unrelated and otherwise reads the
    whole range through the time index, then sorts it).

    The bounds are ids of rows well outside the range: a row stamped more than
    ``ID_TIME_SKEW`` before ``since`` took its id before any row of the range, one stamped as
    long after ``until`` after them; each is one step of the ``at`` index. The time test
    stays, so the bounds only skip rows that cannot match."""
    if _on_postgresql():
        # The time test row by row: given the time index too, PostgreSQL intersects it with
        # the id range as if the two were unrelated, then sorts what it found.
        events = events.alias(at_unindexed=_UnindexedTime("at"))
        at = "at_unindexed"
    else:
        at = "at"
    if since:
        events = events.filter(**{f"{at}__gte": since})
        below = AuditEvent.objects.filter(at__lt=since - ID_TIME_SKEW).order_by("-at")
        lowest = below.values_list("pk", flat=True).first()
        if lowest is not None:
            events = events.filter(pk__gt=lowest)
    if until:
        events = events.filter(**{f"{at}__lte": until})
        above = AuditEvent.objects.filter(at__gt=until + ID_TIME_SKEW).order_by("at")
        highest = above.values_list("pk", flat=True).first()
        if highest is not None:
            events = events.filter(pk__lt=highest)
    return events


def audit_events(
    audit_filter: AuditFilter, *, before_id: int | None = None, limit: int = 50
) -> list[AuditEvent]:
    """Up to ``limit`` events newest first, older than ``before_id`` when given. Ask for one more
    than you show to know whether there is a next page."""
    events = audit_queryset(audit_filter).select_related("job")
    if before_id is not None:
        events = events.filter(pk__lt=before_id)
    return list(events.order_by("-pk")[:limit])


def audit_page(audit_filter: AuditFilter, before: str | int | None, limit: int) -> Page[AuditEvent]:
    """One keyset page of matching events for the audit page and the API; ``BadParameter`` for
    a ``before`` that is not an entry id."""
    events = audit_queryset(audit_filter).select_related("job")
    return keyset_page(events, before, limit, message=PAGE_CURSOR)


@dataclass
class Move:
    """One row of the audit page: a job's newest matching event (``lead``), every step of that
    job oldest first, and which of them the filter matched; an event without a job is a move of
    its own."""

    lead: AuditEvent
    matched: list[AuditEvent]
    steps: list[AuditEvent]
    matched_ids: set[int] = field(default_factory=set)
    # A job's requester and reason: its row stands for the move, whose lead is often an event
    # of the system's (the observation after it), which would read "By system" alone.
    mover: str = ""
    move_reason: str = ""

    @property
    def other_matched_ids(self) -> set[int]:
        return (self.matched_ids or {e.pk for e in self.matched}) - {self.lead.pk}


def audit_move_page(audit_filter: AuditFilter, before: str | int | None, limit: int) -> Page[Move]:
    """One keyset page of moves, newest first. A move is listed once, on the page of its newest
    matching event (its lead): the page is keyset over leads only (an event is a lead when no
    newer event of its job matches), so a job whose events straddle two pages is neither
    repeated nor dropped, and each page holds ``limit`` moves.

    The "no newer matching event" test sits in an OR with "has no job" on purpose: PostgreSQL
    then runs it per candidate row through the (job, id) index as the backward scan meets
    them, instead of planning an anti-join over every matching row."""
    cursor = parse_cursor(before, message=PAGE_CURSOR)
    matching, walked, broad = _matching(audit_filter)
    if broad:
        leads = _window_leads(matching, walked, cursor, limit + 1)
    else:
        leads = _leads(matching, cursor, limit + 1)
    has_next = len(leads) > limit
    leads = leads[:limit]
    moves = audit_moves(leads)
    for move in moves:
        if move.lead.job_id:  # the job and its requester came with the lead (_leads)
            move.mover = move.lead.job.requested_by.username
            move.move_reason = move.lead.job.reason
    job_ids = {m.lead.job_id for m in moves if m.lead.job_id}
    if job_ids and audit_filter.active:
        # Row by row: a few jobs' steps, which the (job, id) index finds; a text index here
        # would walk its lists over the whole table for them.
        matched = set(walked.filter(job_id__in=job_ids).values_list("pk", flat=True))
        for move in moves:
            move.matched_ids = {s.pk for s in move.steps if s.pk in matched} | {move.lead.pk}
    elif job_ids:  # no filter: every step matched, no query needed to say so
        for move in moves:
            move.matched_ids = {s.pk for s in move.steps} | {move.lead.pk}
    next_before = leads[-1].pk if has_next else None
    return Page(items=moves, next_before=next_before, is_first=cursor is None)


def _leads(matching: QuerySet[AuditEvent], before: int | None, count: int) -> list[AuditEvent]:
    """Up to ``count`` leads of ``matching`` below ``before``, newest first."""
    newer = matching.filter(job_id=OuterRef("job_id"), pk__gt=OuterRef("pk"))
    leads = matching.filter(Q(job__isnull=True) | ~Exists(newer))
    if before is not None:
        leads = leads.filter(pk__lt=before)
    # The columns the row shows, and of the job its status, reason and requester: the rosters
    # and the job's JSON columns were parsed for every lead and never shown.
    leads = leads.select_related("job__requested_by").only(
        *STEP_FIELDS, "job__status", "job__reason", "job__requested_by__username"
    )
    return list(leads.order_by("-pk")[:count])


# Rows below the cursor (or the newest id) a broad filter walks before it asks the index: a
# filter matching 1% of the rows finds a page of 25 moves in about 9,000 (10 ms at 1M rows);
# one that matches nothing costs this walk on top of the index.
WALK_ROWS = 20_000


def _window_leads(
    matching: QuerySet[AuditEvent], walked: QuerySet[AuditEvent], before: int | None, count: int
) -> list[AuditEvent]:
    """``_leads`` of a broad filter: the rows in the window ``[top - WALK_ROWS, top)`` walked
    newest first with every test row by row, then, if that gave fewer than ``count``, the
    older rows through the index. Leads are decided over the whole table in both (the newer
    event may lie above the window), so the two parts are the one list split at an id."""
    top = before
    if top is None:
        newest = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
        if newest is None:
            return []
        top = newest + 1
    floor = top - WALK_ROWS
    found = _leads(walked.filter(pk__gte=floor), top, count)
    if len(found) < count and floor > 1:
        found += _leads(matching, floor, count - len(found))
    return found


def audit_moves(events: list[AuditEvent]) -> list[Move]:
    """Group events into moves, in their order (newest lead first), with every step of each
    job in one query."""
    moves: dict[object, Move] = {}
    for event in events:
        key = ("job", event.job_id) if event.job_id else ("event", event.pk)
        if key in moves:
            moves[key].matched.append(event)
        else:
            moves[key] = Move(lead=event, matched=[event], steps=[])
    job_ids = [e.job_id for e in events if e.job_id]
    if job_ids:
        steps = AuditEvent.objects.filter(job_id__in=set(job_ids)).order_by("job_id", "id")
        for step in steps.only(*STEP_FIELDS):
            moves[("job", step.job_id)].steps.append(step)
    return list(moves.values())


STEP_FIELDS = (
    "id", "at", "kind", "job_id", "actor_username", "reason", "message", "icws_status",
    "icws_error_id", "icws_message", "agent_ids", "campaign_ids_in", "campaign_ids_out",
    "agent_names", "campaign_names", "details",
)  # fmt: skip


def audit_suggestions(field: str, text: str, *, limit: int = 10) -> list[tuple[str, str]]:
    """(value, label) pairs for the filter's autocomplete: names and ids recent rows know that
    contain ``text`` (folded). Read from the newest rows that match, so the trigram index
    serves it and the answer is the names as people saw them lately."""
    folded = fold(text)
    if len(folded) < 2 or field not in ("actor", "agent", "campaign"):
        return []
    found: dict[str, str] = {}
    if field == "actor":
        rows = AuditEvent.objects.filter(actor_search__contains=folded).order_by("-pk")
        for username in rows.values_list("actor_username", flat=True)[:200]:
            found.setdefault(username, username)
            if len(found) >= limit:
                break
        return list(found.items())
    column = "agent_names" if field == "agent" else "campaign_names"
    rows = AuditEvent.objects.filter(**{f"{field}_search__contains": folded}).order_by("-pk")
    for names in rows.values_list(column, flat=True)[:200]:
        for subject_id, name in (names or {}).items():
            if folded in fold(f"{subject_id} {name}"):
                found.setdefault(name or subject_id, f"{name} ({subject_id})")
        if len(found) >= limit:
            break
    return list(found.items())[:limit]


def audit_iter(audit_filter: AuditFilter, *, chunk: int = 2000) -> Iterator[AuditEvent]:
    """Every matching event newest first, in keyset chunks: constant memory at any size."""
    before = None
    while True:
        page = audit_events(audit_filter, before_id=before, limit=chunk)
        yield from page
        if len(page) < chunk:
            return
        before = page[-1].pk
