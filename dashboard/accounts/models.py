"""Roles, supervisor scopes and API tokens.

Roles are Django groups named ``supervisor``, ``auditor`` and ``admin`` (``accounts.roles``).
"""

import hashlib

from django.conf import settings
from django.db import models


class SupervisorScope(models.Model):
    """Limits a supervisor to agents of some workgroups; no scope row means every workgroup."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="supervisor_scope"
    )
    workgroups = models.ManyToManyField("directory.Workgroup", blank=True)

    def __str__(self) -> str:
        return f"Scope of {self.user}"


class ApiToken(models.Model):
    """A bearer token for the JSON API. Only a SHA-256 of the token is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8, help_text="First characters, to tell tokens apart.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @staticmethod
    def hash(key: str) -> str:
        return hashlib.sha256(key.encode("utf-8")).hexdigest()
