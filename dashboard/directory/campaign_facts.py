"""Campaign facts ICWS does not give (REF 10), imported from CSV: workgroup, state, note, target.

The file has a header row naming its columns: ``campaign_id`` (required) and any of
``workgroup``, ``state``, ``state_note``, ``staffing_target``; a ``name`` column may be present
for people reading the file and is ignored. A column present sets that fact for every row (an
empty cell clears it: state unknown, no workgroup, no note, no target); a column absent leaves
it as it is. Every row is checked before anything is written, and any error rejects the whole
file with every problem named by line and column; a file that passes is written in one
transaction with one audit row (kind ``roster_import``, ``details.import = "campaign_facts"``,
each change as ``[before, after]``). What is set is marked as recorded by an admin (the sync
never overwrites it) and the state with who recorded it and when.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from dashboard.audit.models import AuditEvent
from dashboard.audit.services import audit_record
from dashboard.directory.models import Campaign, Workgroup

COLUMNS = ("campaign_id", "workgroup", "state", "state_note", "staffing_target")
IGNORED = ("name",)
MAX_ROWS = 10_000
MAX_BYTES = 1024 * 1024
NOTE_MAX = 500
TARGET_MAX = 100_000
MAX_ERRORS = 100  # listed; the count says how many more
# State words accepted besides the stored values ("on", "schedule-only", ...): the labels.
STATE_WORDS = {
    **{value: value for value in Campaign.State.values},
    **{label.lower(): value for value, label in Campaign.State.choices},
}


@dataclass
class FactsResult:
    rows: int = 0
    changed: int = 0  # campaigns whose facts changed
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def campaign_facts_import(*, data: bytes | str, actor=None, filename: str = "") -> FactsResult:
    """Check every row of the CSV, then write all of it or nothing (see the module docstring)."""
    result = FactsResult()
    text = _decode(data, result)
    if text is None:
        return result
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    columns = _header(header, result)
    if columns is None:
        return result
    campaigns = {c.id: c for c in Campaign.objects.all()}
    workgroups = dict(Workgroup.objects.values_list("id", "name"))
    by_name = {name.lower(): wid for wid, name in workgroups.items()}
    wanted: dict[str, dict] = {}
    seen_at: dict[str, int] = {}
    for line, row in enumerate(reader, start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        result.rows += 1
        if result.rows > MAX_ROWS:
            result.errors.append(f"line {line}: more than {MAX_ROWS} rows; split the file")
            break
        if len(row) != len(header):
            result.errors.append(
                f"line {line}: {len(row)} cells, but the header names {len(header)} columns"
            )
            continue
        cells = {name: row[i].strip() for i, name in columns.items()}
        facts = _row(line, cells, campaigns, workgroups, by_name, result.errors)
        cid = cells["campaign_id"]
        if cid in seen_at:
            result.errors.append(
                f"line {line}, campaign_id: {cid!r} is already on line {seen_at[cid]}"
            )
            continue
        seen_at[cid] = line
        if facts is not None:
            wanted[cid] = facts
    if result.errors:
        more = len(result.errors) - MAX_ERRORS
        result.errors = result.errors[:MAX_ERRORS] + ([f"… and {more} more"] if more > 0 else [])
        return result
    if not result.rows:
        result.errors.append("the file has a header but no rows")
        return result
    result.changed = _write(wanted, campaigns, actor, filename, result.rows)
    return result


def _decode(data: bytes | str, result: FactsResult) -> str | None:
    if isinstance(data, str):
        return data
    if len(data) > MAX_BYTES:
        result.errors.append(f"the file is larger than {MAX_BYTES // 1024} KiB")
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        result.errors.append(f"the file is not UTF-8 text (byte {exc.start})")
        return None


def _header(header: list[str] | None, result: FactsResult) -> dict[int, str] | None:
    if not header or all(not cell.strip() for cell in header):
        result.errors.append("line 1: the header row is missing (campaign_id,…)")
        return None
    columns: dict[int, str] = {}
    for index, raw in enumerate(header):
        name = raw.strip().lower()
        if name in IGNORED:
            continue
        if name not in COLUMNS:
            result.errors.append(
                f"line 1: unknown column {raw.strip()[:40]!r} (known: {', '.join(COLUMNS)}, name)"
            )
        elif name in columns.values():
            result.errors.append(f"line 1: column {name!r} appears twice")
        else:
            columns[index] = name
    if "campaign_id" not in columns.values():
        result.errors.append("line 1: the header needs a campaign_id column")
    if len(columns) == 1 and not result.errors:
        result.errors.append("line 1: the header names no fact to set (workgroup, state, …)")
    return None if result.errors else columns


def _row(line, cells, campaigns, workgroups, by_name, errors) -> dict | None:
    """The facts one row sets, or None after appending its errors."""
    before = len(errors)
    cid = cells["campaign_id"]
    if not cid:
        errors.append(f"line {line}, campaign_id: empty")
    elif cid not in campaigns:
        errors.append(f"line {line}, campaign_id: no campaign with id {cid[:80]!r}")
    facts: dict = {}
    if "workgroup" in cells:
        value = cells["workgroup"]
        wid = value if value in workgroups else by_name.get(value.lower())
        if value and wid is None:
            errors.append(f"line {line}, workgroup: no workgroup {value[:80]!r}")
        facts["workgroup_id"] = wid
    if "state" in cells:
        value = cells["state"].lower()
        state = STATE_WORDS.get(value) if value else Campaign.State.UNKNOWN
        if state is None:
            errors.append(
                f"line {line}, state: {cells['state'][:40]!r} is not one of "
                + ", ".join(Campaign.State.values)
            )
        facts["state"] = state
    if "state_note" in cells:
        note = cells["state_note"]
        if len(note) > NOTE_MAX:
            errors.append(f"line {line}, state_note: longer than {NOTE_MAX} characters")
        elif any(unicodedata.category(ch) == "Cc" for ch in note):
            errors.append(f"line {line}, state_note: holds control characters")
        facts["state_note"] = note
    if "staffing_target" in cells:
        value = cells["staffing_target"]
        target = None
        if value:
            if not value.isascii() or not value.isdigit() or int(value) > TARGET_MAX:
                errors.append(
                    f"line {line}, staffing_target: {value[:20]!r} is not a whole number "
                    f"from 0 to {TARGET_MAX}"
                )
            else:
                target = int(value)
        facts["staffing_target"] = target
    return None if len(errors) > before else facts


def _write(wanted: dict[str, dict], campaigns, actor, filename: str, rows: int) -> int:
    now = timezone.now()
    who = getattr(actor, "username", "") or ""
    changes: dict[str, dict] = {}
    with transaction.atomic():
        for cid, facts in wanted.items():
            current = campaigns[cid]
            # A fact the file vouches for becomes the admin's even where the value is the same.
            diff = {
                name: [getattr(current, name), value]
                for name, value in facts.items()
                if getattr(current, name) != value or _source_changes(current, name, value)
            }
            if not diff:
                continue
            fields = {name: value for name, (_, value) in diff.items()}
            if "state" in diff:
                fields["state_source"] = "admin" if facts["state"] != Campaign.State.UNKNOWN else ""
            if "state" in diff or "state_note" in diff:
                fields.update(state_recorded_by=who, state_recorded_at=now)
            if "workgroup_id" in diff:
                fields["workgroup_source"] = "admin" if facts["workgroup_id"] else ""
            Campaign.objects.filter(id=cid).update(**fields)
            changes[cid] = diff
        audit_record(
            kind=AuditEvent.Kind.ROSTER_IMPORT,
            actor=actor,
            details={
                "import": "campaign_facts",
                "file": filename[:200],
                "rows": rows,
                "changes": changes,
            },
            message=(
                f"Campaign facts imported{f' from {filename[:200]}' if filename else ''}: "
                f"{len(changes)} campaign(s) changed, {rows} row(s)"
            ),
            campaign_names={cid: campaigns[cid].name for cid in changes},
            agent_names={},
        )
    return len(changes)


def _source_changes(current: Campaign, name: str, value) -> bool:
    if name == "state":
        return current.state_source != ("admin" if value != Campaign.State.UNKNOWN else "")
    if name == "workgroup_id":
        return current.workgroup_source != ("admin" if value else "")
    return False
