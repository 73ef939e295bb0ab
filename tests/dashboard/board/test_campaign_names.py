"""Pages that store campaign ids show the campaigns' names (ids as tooltips), escaped."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dashboard.allocations.models import AllocationJob
from dashboard.audit.models import AuditEvent
from dashboard.audit.services import audit_record
from dashboard.directory.models import Campaign

pytestmark = pytest.mark.django_db


@pytest.fixture
def moved(mover, dir_small):
    Campaign.objects.filter(id="{C2}").update(name="<b>Winback</b>")
    job = AllocationJob.objects.create(
        requested_by=mover, agent_ids=["a1"], campaign_ids_in=["{C2}"], campaign_ids_out=["{C9}"]
    )
    audit_record(kind=AuditEvent.Kind.REQUESTED, job=job)
    return job


@pytest.mark.parametrize(
    "url",
    [
        lambda job: reverse("job-list"),
        lambda job: reverse("job-detail", args=[job.pk]),
        lambda job: reverse("audit-list"),
        lambda job: reverse("agent-detail", args=["a1"]),
    ],
    ids=["jobs", "job", "audit", "agent"],
)
def test_names_not_ids(client, mover, moved, url):
    client.force_login(mover)
    html = client.get(url(moved)).content.decode()
    assert 'title="{C2}">&lt;b&gt;Winback&lt;/b&gt;<' in html
    assert "<b>Winback</b>" not in html
    assert 'title="{C9}">{C9}<' in html  # a campaign no longer in the directory: its id
