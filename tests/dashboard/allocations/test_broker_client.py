"""A worker's Redis channel keeps one client per connection pool (``dashboard.celery``): kombu
made a new ``redis.Redis`` for each command outside its consuming client, two per message
(the unacked entry, the ack). Against the Redis at ``TEST_REDIS_URL``."""

from __future__ import annotations

import pytest
from kombu import Connection

from dashboard.allocations import tasks

APP = tasks.run_job_task.app


@pytest.fixture
def channel():
    url = APP.conf.broker_url or ""
    if not url.startswith("redis"):
        pytest.skip("needs the Redis broker (TEST_REDIS_URL)")
    with Connection(url) as connection:
        yield connection.default_channel


class _Message:
    delivery_info = {"exchange": "", "routing_key": "bench"}
    _raw = "{}"


def test_one_client_per_pool_serves_every_command(channel):
    with channel.conn_or_acquire() as first, channel.conn_or_acquire() as second:
        assert first is second, "kombu's own made a client per command"
        assert first.connection_pool is channel.pool
    qos = channel.qos
    qos.append(_Message(), "tag-1")  # the unacked entry, as a delivery writes it
    assert first.hexists(qos.unacked_key, "tag-1")
    qos.ack("tag-1")
    assert not first.hexists(qos.unacked_key, "tag-1")


def test_a_replaced_pool_gets_a_client_of_its_own(channel):
    with channel.conn_or_acquire() as before:
        pass
    channel._disconnect_pools()  # what kombu does after a connection error or a fork
    with channel.conn_or_acquire() as after:
        assert after is not before and after.connection_pool is channel.pool
        assert after.ping()


def test_a_client_passed_in_is_used_as_it_is(channel):
    passed = object()
    with channel.conn_or_acquire() as kept, channel.conn_or_acquire(client=passed) as given:
        assert given is passed and given is not kept
