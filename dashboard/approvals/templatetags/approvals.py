"""``{% reason_code_select %}``: the move dialog's reason-code choice, shown when codes exist."""

from __future__ import annotations

from django import template

from dashboard.approvals.models import ReasonCode

register = template.Library()


@register.inclusion_tag("approvals/_reason_code_select.html")
def reason_code_select(selected: str = "") -> dict:
    return {"codes": list(ReasonCode.objects.filter(active=True)), "selected": selected}
