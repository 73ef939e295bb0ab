"""What people know about an audit row, stored on it at write time and searchable.

Names are copied onto the row when it is written (``agent_names``/``campaign_names``: id -> name
as they were then), since the audit app reads no other app (``tests/test_import_layers.py``)
and a renamed campaign should not rewrite history. The ``*_search`` columns hold the same
words folded (``fold``): casefolded with accents stripped, so "jose" finds "José" and "spring"
finds "Spring Upsell". Filters fold their input the same way and match by substring
(``LIKE '%x%'``), which PostgreSQL serves from pg_trgm GIN indexes (migration 0005) or, for
the agent, campaign and text columns, from the rows' words (``selectors.narrowest_words``,
migration 0008).

Who supplies the names: callers may pass them to ``audit_record``; otherwise the resolver
registered with ``set_name_resolver`` (the directory app registers one in its ``ready``) is
asked, so every writer (job engine, imports) gets names without passing them.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable, Iterable, Mapping

# (agent ids, campaign ids) -> (agent id -> name, campaign id -> name)
NameResolver = Callable[[list[str], list[str]], tuple[Mapping[str, str], Mapping[str, str]]]
_resolver: NameResolver | None = None


def set_name_resolver(resolver: NameResolver | None) -> None:
    global _resolver
    _resolver = resolver


def resolve_names(
    agent_ids: Iterable[str], campaign_ids: Iterable[str]
) -> tuple[dict[str, str], dict[str, str]]:
    agents, campaigns = list(dict.fromkeys(agent_ids)), list(dict.fromkeys(campaign_ids))
    if _resolver is None or not (agents or campaigns):
        return {}, {}
    found_agents, found_campaigns = _resolver(agents, campaigns)
    return dict(found_agents), dict(found_campaigns)


class _Bare(dict):
    """``str.translate`` table dropping combining marks (``unicodedata.combining``), filled
    as characters are met: a C loop over the text instead of a Python test per character (the
    per-character generator was 7% of a POST's CPU). Bounded: cleared past ``MOST`` entries."""

    MOST = 20_000

    def __missing__(self, code: int) -> int | None:
        if len(self) >= self.MOST:
            self.clear()
        kept = None if unicodedata.combining(chr(code)) else code
        self[code] = kept
        return kept


_BARE = _Bare()
# Folds of non-ASCII texts: the same names come back in every row of a move and in every move
# of those agents. Bounded like ``_BARE``.
_FOLDED: dict[str, str] = {}


def fold(text: str) -> str:
    """Casefolded, accents stripped (NFKD without combining marks), spaces squeezed."""
    text = text or ""
    if text.isascii():  # NFKD leaves ASCII as it is and it has no combining marks
        return " ".join(text.lower().split())  # casefold() of ASCII is lower()
    folded = _FOLDED.get(text)
    if folded is None:
        decomposed = unicodedata.normalize("NFKD", text)
        bare = decomposed if decomposed.isascii() else decomposed.translate(_BARE)
        folded = " ".join(bare.casefold().split())
        if len(_FOLDED) >= _Bare.MOST:
            _FOLDED.clear()
        _FOLDED[text] = folded
    return folded


def subject_text(ids: Iterable[str], names: Mapping[str, str] | None) -> str:
    """Each id with its name, folded: ``"{c1} spring upsell | {c2} winter"``."""
    names = names or {}
    return " | ".join(fold(f"{i} {names.get(i, '')}") for i in dict.fromkeys(ids))


def search_columns(
    *,
    actor_username: str,
    agent_ids: Iterable[str],
    campaign_ids: Iterable[str],
    agent_names: Mapping[str, str] | None,
    campaign_names: Mapping[str, str] | None,
    texts: Iterable[str],
) -> dict[str, str]:
    """The folded columns of one row (also used by the migration's backfill and the bench)."""
    actor = fold(actor_username)
    agents = subject_text(agent_ids, agent_names)
    campaigns = subject_text(campaign_ids, campaign_names)
    words = " | ".join(t for t in (actor, agents, campaigns, *map(fold, texts)) if t)
    return {
        "actor_search": actor,
        "agent_search": agents,
        "campaign_search": campaigns,
        "search_text": words,
    }


# The folded columns with a vocabulary (``AuditWord``) and a word-array index on PostgreSQL.
# The actor column is short and its btree/trigram paths are already fast.
WORD_COLUMNS = ("agent_search", "campaign_search", "search_text")


def rebuild_words(connection) -> None:
    """Add every word the rows hold to the vocabulary (the migration's backfill; run again
    after a restore that skipped triggers, or if ``missing_words`` finds any)."""
    with connection.cursor() as cursor:
        for column in WORD_COLUMNS:
            cursor.execute(
                f'INSERT INTO audit_auditword ("column", word) '  # noqa: S608 - fixed names
                f"SELECT DISTINCT %s, w FROM audit_auditevent, "
                f"unnest(string_to_array({column}, ' ')) AS w WHERE w <> '' "
                f"ON CONFLICT DO NOTHING",
                [column],
            )


def missing_words(connection) -> int:
    """How many (column, word) pairs the rows hold that the vocabulary lacks: rows holding
    them would be hidden from the filters on PostgreSQL. Zero on a sound database."""
    if connection.vendor != "postgresql":
        return 0
    total = 0
    with connection.cursor() as cursor:
        for column in WORD_COLUMNS:
            cursor.execute(
                f"SELECT count(*) FROM (SELECT DISTINCT w FROM audit_auditevent, "  # noqa: S608
                f"unnest(string_to_array({column}, ' ')) AS w WHERE w <> '') AS t "
                f"WHERE NOT EXISTS (SELECT 1 FROM audit_auditword v "
                f'WHERE v."column" = %s AND v.word = t.w)',
                [column],
            )
            total += cursor.fetchone()[0]
    return total


def named(ids: Iterable[str], names: Mapping[str, str] | None) -> list[tuple[str, str]]:
    """(id, name) pairs, the name empty when the row does not know it."""
    names = names or {}
    return [(i, names.get(i, "")) for i in ids]


def _words(ids: list[str], names: Mapping[str, str] | None, *, most: int = 3) -> str:
    shown = [(names or {}).get(i) or i for i in ids[:most]]
    more = len(ids) - len(shown)
    if more:
        return f"{', '.join(shown)} and {more} more"
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} and {shown[-1]}"


# What each step of a move says, as a sentence about the agents ("Moved Emma Ortiz ...").
VERBS = {
    "requested": "Asked to move",
    "refused": "Refused to move",
    "started": "Started moving",
    "retry": "Will retry moving",
    "succeeded": "Moved",
    "failed": "Failed to move",
    "cancelled": "Cancelled moving",
}


def details_items(details) -> list[tuple[str, str]]:
    """A row's ``details`` as (key, text) pairs for the entry page: text values as they are,
    others as compact JSON. Every kind writes its own keys (plans, approvals, sign-ins,
    observations), so they are shown generically, sorted by key."""
    if isinstance(details, dict):
        return [(str(k), _detail_text(v)) for k, v in sorted(details.items(), key=str)]
    return [] if details in (None, [], "") else [("value", _detail_text(details))]


def _detail_text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def details_summary(details, *, most: int = 3, width: int = 160) -> str:
    """``key: value, ...`` of the first few details: what a row without a message says."""
    text = ", ".join(f"{k}: {v}" for k, v in details_items(details)[:most])
    return text if len(text) <= width else text[: width - 1] + "…"


def headline(event) -> str:
    """The event in words, names first: "Moved Emma Ortiz into Spring Upsell out of Winback".
    Events that are not moves (imports, archiving) keep their own message."""
    verb = VERBS.get(event.kind)
    if verb is None or not event.agent_ids:
        return event.message or details_summary(event.details)
    text = f"{verb} {_words(event.agent_ids, event.agent_names)}"
    if event.campaign_ids_in:
        text += f" into {_words(event.campaign_ids_in, event.campaign_names)}"
    if event.campaign_ids_out:
        text += f" out of {_words(event.campaign_ids_out, event.campaign_names)}"
    return text
