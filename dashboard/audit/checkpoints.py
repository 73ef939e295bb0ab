"""Signed checkpoints of the audit chain, kept in the database and outside it.

A checkpoint says "row ``seq`` of the chain has hash ``hash``", signed with HMAC-SHA256 under
``AUDIT_SIGNING_KEY`` (not Django's key, and never in the database). Whoever can write the
database can rewrite the whole chain consistently, delete its tail or forge a backdated row
with the head set to match; none of that can produce a checkpoint that verifies, and each one
contradicts the last checkpoint taken before it.

The writer takes one every ``AUDIT_CHECKPOINT_EVERY_ROWS`` rows or ``..._EVERY_SECONDS``
seconds, inside the appending transaction (the database copy) and, once that commits, as a
JSON line appended to ``AUDIT_CHECKPOINT_DIR/checkpoints.jsonl`` (the copy ``verify_audit``
trusts first). In production that directory should be append-only for the app (``chattr +a``)
or shipped on to syslog / an S3 bucket with object lock (docs/OPERATIONS.md).
"""

from __future__ import annotations

import hashlib
import hmac as hmac_lib
import json
import logging
import os
import secrets
import tempfile
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from dashboard.audit.chain import utc_text
from dashboard.audit.models import AuditChainHead, AuditCheckpoint

logger = logging.getLogger(__name__)

FILE_NAME = "checkpoints.jsonl"
GENERATED_KEY_FILE = "audit-signing.key"


def signing_key() -> bytes:
    """``AUDIT_SIGNING_KEY``; in debug or demo without one, a key generated once under
    ``DASHBOARD_VAR_DIR`` (production without one is system check error dashboard.E010)."""
    if settings.AUDIT_SIGNING_KEY:
        return settings.AUDIT_SIGNING_KEY.encode("utf-8")
    if not (settings.DEBUG or settings.DEMO_MODE):
        raise ImproperlyConfigured("AUDIT_SIGNING_KEY must be set when DJANGO_DEBUG is off")
    path = Path(settings.VAR_DIR) / GENERATED_KEY_FILE
    # Read once per process and folder: every seal asks (a file read per audit row and per
    # row the chainer checks, in the demo the benchmarks run).
    key = _GENERATED_KEYS.get(path)
    if key is None:
        key = _GENERATED_KEYS[path] = _generated_key(path)
    return key


_GENERATED_KEYS: dict[Path, bytes] = {}


def _generated_key(path: Path) -> bytes:
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32).encode()
        # Written whole under a temporary name, then linked into place: the key file never
        # exists half-written, so a process that loses the race (FileExistsError) reads the
        # whole key, never an empty one it would then keep for its lifetime (and seal with).
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(key)
            os.link(temporary, path)
        except FileExistsError:  # another process made it first
            return path.read_bytes().strip()
        finally:
            os.unlink(temporary)
        return key


def key_id(key: bytes | None = None) -> str:
    """Names the key without revealing it, so a reader knows which key a signature needs."""
    return hashlib.sha256(b"audit-key-id:" + (key or signing_key())).hexdigest()[:16]


def sign(message: str, key: bytes | None = None) -> str:
    # hmac.digest: the one-shot C path, the same HMAC as hmac.new(...).hexdigest().
    return hmac_lib.digest(key or signing_key(), message.encode("utf-8"), "sha256").hex()


def signature_ok(message: str, signature: str, key: bytes | None = None) -> bool:
    return hmac_lib.compare_digest(sign(message, key), signature or "")


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    at: str  # utc_text
    key_id: str
    hmac: str

    @property
    def message(self) -> str:
        return checkpoint_message(self.seq, self.hash, self.at)

    def verifies(self, key: bytes) -> bool:
        return self.key_id == key_id(key) and signature_ok(self.message, self.hmac, key)


def checkpoint_message(seq: int, head_hash: str, at: str) -> str:
    return f"audit-checkpoint:1:{seq}:{head_hash}:{at}"


def checkpoint_file() -> Path:
    return Path(settings.AUDIT_CHECKPOINT_DIR) / FILE_NAME


def checkpoint_due(head: AuditChainHead, now: datetime) -> bool:
    if head.seq - head.checkpoint_seq >= settings.AUDIT_CHECKPOINT_EVERY_ROWS:
        return True
    if head.seq == head.checkpoint_seq:
        return False
    if head.checkpoint_at is None:
        return True
    return (now - head.checkpoint_at).total_seconds() >= settings.AUDIT_CHECKPOINT_EVERY_SECONDS


def checkpoint_write(head: AuditChainHead, now: datetime) -> Checkpoint:
    """Sign the head (locked by the caller), store it, and append it to the file on commit.

    The file line waits for the commit: a checkpoint of rows that were rolled back would
    accuse an intact chain. A file that cannot be written is logged, not raised: the move the
    row records has happened, and the database copy and the next checkpoint still stand.
    """
    key = signing_key()
    at = utc_text(now)
    point = Checkpoint(head.seq, head.hash, at, key_id(key), "")
    point = Checkpoint(**{**asdict(point), "hmac": sign(point.message, key)})
    AuditCheckpoint.objects.create(
        seq=point.seq, hash=point.hash, at=now, key_id=point.key_id, hmac=point.hmac
    )
    AuditChainHead.objects.filter(pk=head.pk).update(checkpoint_seq=head.seq, checkpoint_at=now)
    transaction.on_commit(lambda: _append(point))
    return point


def _append(point: Checkpoint) -> None:
    path = checkpoint_file()
    line = json.dumps(asdict(point), sort_keys=True) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        logger.exception("audit checkpoint at seq %s not written to %s", point.seq, path)


def checkpoint_now() -> Checkpoint | None:
    """Checkpoint the head if it moved since the last one (the beat task, ``verify_audit
    --checkpoint``)."""
    from django.utils import timezone

    with transaction.atomic():
        head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
        if head is None or head.seq == 0 or head.seq == head.checkpoint_seq:
            return None
        return checkpoint_write(head, timezone.now())


@dataclass
class Newest:
    checkpoint: Checkpoint | None
    source: str = ""  # "file" or "database"
    problem: str = ""  # a line or row whose signature does not verify: tampering
    note: str = ""


def newest_checkpoint() -> Newest:
    """The newest checkpoint that verifies, from the file and the database copy.

    Either copy can only add evidence (both are signed), so the newer wins; a checkpoint with a
    bad signature is itself a finding. A torn last file line (a crash mid-write) is skipped.
    """
    key = signing_key()
    best, problem, note = None, "", ""
    path = checkpoint_file()
    try:
        lines = path.read_bytes().splitlines(keepends=True)
    except FileNotFoundError:
        lines, note = [], f"no checkpoint file at {path}"
    except OSError as exc:
        lines, note = [], f"checkpoint file {path} unreadable ({exc})"
    for number, raw in enumerate(lines, start=1):
        try:
            point = Checkpoint(**json.loads(raw))
        except (ValueError, TypeError):
            if number == len(lines) and not raw.endswith(b"\n"):
                continue
            return Newest(None, problem=f"checkpoint file line {number} is not a checkpoint")
        if not point.verifies(key):
            return Newest(None, problem=f"checkpoint file line {number} has a bad signature")
        if best is None or point.seq >= best.seq:
            best = point
    source = "file" if best else ""
    for row in AuditCheckpoint.objects.order_by("-seq", "-id").values(
        "seq", "hash", "at", "key_id", "hmac"
    )[:1]:
        point = Checkpoint(**{**row, "at": utc_text(row["at"])})
        if not point.verifies(key):
            return Newest(None, problem=f"the database checkpoint at seq {point.seq} is forged")
        if best is None or point.seq > best.seq:
            best, source = point, "database"
    if source == "database" and lines:
        note = "the newest checkpoint is only in the database copy"
    return Newest(best, source, problem, note)
