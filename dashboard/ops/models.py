"""Operational data: counters shared by every process (``/metrics``)."""

from django.db import models


class IcwsCallCount(models.Model):
    """ICWS calls by method, path and HTTP status, added to by every process (``ops.icws_calls``).

    A counter: rows only grow. ``status`` is the HTTP status, or ``timeout`` / ``no-connection``
    for calls that got no answer.
    """

    method = models.CharField(max_length=10)
    path = models.CharField(max_length=200)
    status = models.CharField(max_length=16)
    count = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["method", "path", "status"], name="icws_call_count_key")
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.status}: {self.count}"
