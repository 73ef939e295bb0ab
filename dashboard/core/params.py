"""A query parameter that cannot be read: its meaning is decided here, once.

Selectors raise ``BadParameter`` while parsing, before the database or a date library sees the
value; views answer it with a 400 that names the parameter (``bad_parameter_response``), the API
with its error body.
"""

from __future__ import annotations

from django.http import HttpResponse, HttpResponseBadRequest


class BadParameter(ValueError):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message

    @property
    def errors(self) -> dict[str, str]:
        return {self.name: self.message}


def bad_parameter_response(exc: BadParameter) -> HttpResponse:
    return HttpResponseBadRequest(f"Bad request: {exc}\n", content_type="text/plain")
