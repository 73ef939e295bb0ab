"""dashboard/icws.py builds the shared client from settings: failover hosts and the call hook."""

from dashboard import icws
from dashboard.ops import icws_calls


def test_the_shared_client_fails_over_only_to_icws_alternate_hosts(settings):
    settings.ICWS_ALTERNATE_HOSTS = ["cic2.example.com"]
    icws.reset_client()
    try:
        client = icws.get_client()
        assert client.hosts.allows("CIC2.example.com")
        assert not client.hosts.allows("cic3.example.com")
    finally:
        icws.reset_client()


def test_without_metrics_no_calls_are_tallied(settings):
    settings.METRICS_ENABLED = False
    icws.reset_client()
    try:
        assert icws.get_client()._session.on_call is None
        settings.METRICS_ENABLED = True
        icws.reset_client()
        assert icws.get_client()._session.on_call is icws_calls.record_call
    finally:
        icws.reset_client()
