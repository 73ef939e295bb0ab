"""Changing plans: create, edit, pause, resume, delete. Each change is audited (``PLAN_*``).

Who may is ``access.plan_access``; what is valid is ``validate.plan_fields``. An edit applies from
the next run: ``runs_from`` moves to now, and runs already claimed keep the times they were
claimed with (a run under way still reverts at the end it was started with). Deleting keeps the
plan's row (its runs and audit rows point at it) and stops it from running; a revert still due
for a run that already moved agents happens, so nobody is left where a deleted plan put them.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from dashboard.audit.models import AuditEvent
from dashboard.audit.services import audit_record
from dashboard.plans import approval
from dashboard.plans.access import plan_access, plan_refusal
from dashboard.plans.errors import InvalidPlan, PlanConflict, PlanNotFound
from dashboard.plans.models import Plan
from dashboard.plans.run import agents_of
from dashboard.plans.validate import describe_repeat, plan_fields

Kind = AuditEvent.Kind
MAX_IDEMPOTENCY_KEY = 200


def plan_create(
    *, actor, data: dict, idempotency_key: str | None = None, request_id: str = ""
) -> tuple[Plan, bool]:
    """Validate and save a plan. Returns ``(plan, created)``; the same key from the same user
    returns the plan it made (``created`` False)."""
    _refuse_unless(plan_refusal(actor, agent_ids=[], workgroup_id=None), actor, request_id, None)
    if idempotency_key is not None:
        idempotency_key = idempotency_key.strip()
        if not idempotency_key or len(idempotency_key) > MAX_IDEMPOTENCY_KEY:
            raise InvalidPlan(
                "Idempotency-Key must be 1 to 200 characters",
                {"idempotency_key": "must be 1 to 200 characters"},
            )
        if existing := _by_key(actor, idempotency_key):
            return existing, False
    fields = plan_fields(data)
    needs, agents_now = _gate(actor, fields, request_id)
    try:
        with transaction.atomic():
            plan = Plan.objects.create(
                created_by=actor,
                runs_from=timezone.now(),
                idempotency_key=idempotency_key,
                **fields,
            )
            _audit(Kind.PLAN_CREATED, plan, actor, f"Created plan {_summary(plan)}", request_id)
            if needs:
                approval.ask(plan, actor, needs, agents_now, _summary(plan), request_id)
    except IntegrityError:
        if idempotency_key and (existing := _by_key(actor, idempotency_key)):
            return existing, False
        raise
    return plan, True


def plan_update(*, actor, plan_id: int, data: dict, request_id: str = "") -> Plan:
    """Replace the plan's fields; applies from its next run."""
    plan = plan_by_id(plan_id)
    _refuse_unless(plan_access(actor, plan), actor, request_id, None, plan)
    _not_deleted(plan)
    fields = plan_fields(data)
    needs, agents_now = _gate(actor, fields, request_id, plan)
    with transaction.atomic():
        plan = Plan.objects.select_for_update().get(pk=plan_id)
        _not_deleted(plan)
        before = _snapshot(plan)
        for name, value in fields.items():
            setattr(plan, name, value)
        plan.revision += 1
        plan.runs_from = timezone.now()
        plan.save()
        after = _snapshot(plan)
        changed = {k: {"from": before[k], "to": after[k]} for k in after if before[k] != after[k]}
        _audit(
            Kind.PLAN_CHANGED,
            plan,
            actor,
            f"Changed plan {_summary(plan)} (from its next run): "
            + (", ".join(sorted(changed)) or "nothing"),
            request_id,
            {"changed": changed},
        )
        if needs:
            approval.ask(plan, actor, needs, agents_now, _summary(plan), request_id)
        elif plan.status in (Plan.Status.AWAITING, Plan.Status.REJECTED):
            plan.status, plan.approval = Plan.Status.ACTIVE, None
            plan.save(update_fields=["status", "approval", "updated_at"])
    return plan


def _gate(actor, fields: dict, request_id: str, plan=None) -> tuple[list, list[str]]:
    """Whether the plan needs four-eyes approval (``approval``), after the role and scope check:
    a plan out of the actor's scope is refused, unless the site sends such plans for approval."""
    agents, workgroup = fields["agent_ids"], fields["workgroup_id"]
    agents_now = agents_of(agents, workgroup)
    needs = approval.plan_needs(actor, agents_now)
    refusal = plan_refusal(actor, agent_ids=agents, workgroup_id=workgroup)
    if refusal is not None and not approval.waives_scope(needs):
        _refuse_unless(refusal, actor, request_id, fields, plan)
    return needs, agents_now


def plan_pause(*, actor, plan_id: int, request_id: str = "") -> Plan:
    return _set_status(actor, plan_id, Plan.Status.PAUSED, request_id)


def plan_resume(*, actor, plan_id: int, request_id: str = "") -> Plan:
    return _set_status(actor, plan_id, Plan.Status.ACTIVE, request_id)


def plan_delete(*, actor, plan_id: int, request_id: str = "") -> Plan:
    return _set_status(actor, plan_id, Plan.Status.DELETED, request_id)


_STATUS_CHANGE = {
    Plan.Status.PAUSED: (Kind.PLAN_PAUSED, "Paused", {Plan.Status.ACTIVE}),
    Plan.Status.ACTIVE: (Kind.PLAN_RESUMED, "Resumed", {Plan.Status.PAUSED}),
    Plan.Status.DELETED: (
        Kind.PLAN_DELETED,
        "Deleted",
        {Plan.Status.ACTIVE, Plan.Status.PAUSED},
    ),
}


def _set_status(actor, plan_id: int, status: str, request_id: str) -> Plan:
    kind, verb, allowed_from = _STATUS_CHANGE[status]
    plan = plan_by_id(plan_id)
    _refuse_unless(plan_access(actor, plan), actor, request_id, None, plan)
    with transaction.atomic():
        plan = Plan.objects.select_for_update().get(pk=plan_id)
        if plan.status == status:
            return plan  # a repeated click or request: already so, nothing to audit
        if plan.status not in allowed_from:
            raise PlanConflict(f"Plan {plan.name!r} is {plan.get_status_display().lower()}")
        plan.status = status
        if status == Plan.Status.ACTIVE:
            # A resumed plan does not catch up on the runs it skipped while paused.
            plan.runs_from = timezone.now()
        plan.save()
        _audit(kind, plan, actor, f"{verb} plan {_summary(plan)}", request_id)
    return plan


def plan_by_id(plan_id: int) -> Plan:
    # Beyond the id column's range PostgreSQL raises instead of finding nothing.
    if not isinstance(plan_id, int) or not 0 < plan_id < 2**31:
        raise PlanNotFound(f"There is no plan {plan_id}")
    try:
        return Plan.objects.select_related("workgroup", "created_by").get(pk=plan_id)
    except (Plan.DoesNotExist, ValueError, TypeError):
        raise PlanNotFound(f"There is no plan {plan_id}") from None


def _by_key(actor, key: str) -> Plan | None:
    return Plan.objects.filter(created_by=actor, idempotency_key=key).first()


def _not_deleted(plan: Plan) -> None:
    if plan.is_deleted:
        raise PlanConflict(f"Plan {plan.name!r} is deleted")


def _refuse_unless(refusal, actor, request_id: str, fields: dict | None, plan=None) -> None:
    """Raise ``refusal`` (when there is one) after auditing it, as a refused move is."""
    if refusal is None:
        return
    source = fields or (
        {
            "agent_ids": plan.agent_ids,
            "campaign_ids_in": plan.campaign_ids_in,
            "campaign_ids_out": plan.campaign_ids_out,
        }
        if plan is not None
        else {}
    )
    audit_record(
        kind=Kind.REFUSED,
        actor=actor,
        agent_ids=list(source.get("agent_ids", []))[:50],
        campaign_ids_in=list(source.get("campaign_ids_in", [])),
        campaign_ids_out=list(source.get("campaign_ids_out", [])),
        message=f"Plan refused: {refusal.message}",
        request_id=request_id,
        details={"plan_id": plan.pk, "plan_name": plan.name} if plan is not None else None,
    )
    raise refusal


def _snapshot(plan: Plan) -> dict:
    return {
        "name": plan.name,
        "agent_ids": list(plan.agent_ids),
        "workgroup_id": plan.workgroup_id,
        "campaign_ids_in": list(plan.campaign_ids_in),
        "campaign_ids_out": list(plan.campaign_ids_out),
        "reason": plan.reason,
        "time_zone": plan.time_zone,
        "start": f"{plan.start_date.isoformat()}T{plan.start_time.strftime('%H:%M')}",
        "end": (
            f"{plan.end_time.strftime('%H:%M')}" + (" next day" if plan.end_day_offset else "")
            if plan.end_time
            else None
        ),
        "repeat": describe_repeat(plan),
    }


def _summary(plan: Plan) -> str:
    who = (
        f"workgroup {plan.workgroup_id}" if plan.workgroup_id else f"{len(plan.agent_ids)} agent(s)"
    )
    when = f"{describe_repeat(plan)} at {plan.start_time:%H:%M} {plan.time_zone}"
    return f"{plan.name!r} ({who}; {when})"


def _audit(kind, plan: Plan, actor, message: str, request_id: str, extra=None) -> None:
    audit_record(
        kind=kind,
        actor=actor,
        agent_ids=list(plan.agent_ids),
        campaign_ids_in=list(plan.campaign_ids_in),
        campaign_ids_out=list(plan.campaign_ids_out),
        reason=plan.reason,
        message=message,
        request_id=request_id,
        details={
            "plan_id": plan.pk,
            "plan_name": plan.name,
            "plan": _snapshot(plan),
            **(extra or {}),
        },
    )
