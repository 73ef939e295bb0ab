from celery import shared_task

from dashboard.directory import services
from dashboard.icws import get_client


@shared_task
def sync_directory_task() -> dict:
    run = services.directory_sync(client=get_client())
    return {"ok": run.ok, "agents": run.agents, "campaigns": run.campaigns, "error": run.error}
