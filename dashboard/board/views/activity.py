"""Other supervisors' activity on the board: the board's reports and its one-second read.

Its own endpoint, not the board's revision poll: a heartbeat changes every two seconds, and
folding it into the revision would re-render every column of a 5,000-agent board for a line of
text. The read is one small indexed query (two when someone is active) and a few hundred bytes.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from dashboard.accounts import roles
from dashboard.activity.report import EXPIRES_SECONDS, HEARTBEAT_SECONDS, parse_report, record
from dashboard.activity.selectors import activity_by_column
from dashboard.activity.visits import note_visit
from dashboard.core.params import BadParameter, bad_parameter_response


@never_cache
@require_http_methods(["GET", "POST"])
def activity_view(request: HttpRequest) -> HttpResponse:
    """GET: what others are doing, per column (and this board is open: the user's visit).
    POST: this user's activity (``dashboard.activity.report.parse_report``), 204."""
    if request.method == "POST":
        roles.require_mover(request.user)  # only a mover opens confirmations or drags
        try:
            report = parse_report(request.POST)
        except BadParameter as exc:
            return bad_parameter_response(exc)
        record(request.user, report)
        return HttpResponse(status=204)
    roles.require_board(request.user)
    note_visit(request.user)
    return JsonResponse(
        {
            "columns": activity_by_column(exclude_user=request.user),
            "heartbeat_seconds": HEARTBEAT_SECONDS,
            "expires_seconds": EXPIRES_SECONDS,
        }
    )
