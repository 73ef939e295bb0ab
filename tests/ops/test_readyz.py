import pytest
from django.test import override_settings

from dashboard.icws import reset_client


@pytest.fixture(autouse=True)
def _fresh_icws_client():
    reset_client()
    yield
    reset_client()


@pytest.mark.django_db
def test_it_is_ready_when_database_broker_and_icws_answer(client, sim, metrics_auth):
    with override_settings(ICWS_BASE_URL=sim.base_url):
        response = client.get("/readyz", headers=metrics_auth)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "broker", "icws"}
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["icws"]["url"] == sim.base_url
    assert body["checks"]["icws"]["dialer"] >= 7


@pytest.mark.django_db
def test_it_names_icws_when_the_server_is_down(client, settings, closed_port, metrics_auth):
    with override_settings(ICWS_BASE_URL=f"http://127.0.0.1:{closed_port}", READYZ_TIMEOUT=1.0):
        response = client.get("/readyz", headers=metrics_auth)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["failed"] == ["icws"]
    assert body["checks"]["icws"]["ok"] is False
    assert "IcwsConnectionError" in body["checks"]["icws"]["error"]
    assert body["checks"]["database"]["ok"] is True
    assert settings.ICWS_PASSWORD not in response.content.decode()


@pytest.mark.django_db
def test_it_names_the_broker_without_its_password(client, sim, closed_port, metrics_auth):
    broker = f"redis://:broker-secret-pw@127.0.0.1:{closed_port}/0"
    with override_settings(
        ICWS_BASE_URL=sim.base_url, CELERY_BROKER_URL=broker, READYZ_TIMEOUT=1.0
    ):
        response = client.get("/readyz", headers=metrics_auth)
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["broker"]
    assert body["checks"]["broker"]["error"]
    assert "broker-secret-pw" not in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}])
def test_anonymous_callers_get_the_status_alone(client, settings, closed_port, headers):
    settings.METRICS_TOKEN = "the-real-token"
    with override_settings(
        ICWS_BASE_URL=f"http://127.0.0.1:{closed_port}",
        CELERY_BROKER_URL=f"redis://127.0.0.1:{closed_port}/0",
        READYZ_TIMEOUT=1.0,
    ):
        response = client.get("/readyz", headers=headers)
    assert response.status_code == 503
    assert response.json() == {"status": "fail"}
    text = response.content.decode()
    for leak in (str(closed_port), "sqlite", "redis", "Error", "127.0.0.1"):
        assert leak not in text


@pytest.mark.django_db
def test_without_a_token_set_the_detail_is_for_debug_only(client, settings, sim):
    settings.METRICS_TOKEN = ""
    with override_settings(ICWS_BASE_URL=sim.base_url):
        settings.DEBUG = False
        assert client.get("/readyz").json() == {"status": "ok"}
        settings.DEBUG = True
        assert client.get("/readyz").json()["checks"]["icws"]["url"] == sim.base_url


def test_it_rejects_post(client):
    assert client.post("/readyz").status_code == 405
