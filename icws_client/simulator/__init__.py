"""A strict ICWS simulator: standard library only, for tests, demos and benchmarks.

This docstring is the simulator's specification. ``REF n`` points into
``shared/icws/REFERENCE.md``; everything marked *choice* is where the ICWS documents are silent and
the simulator had to decide.

Where things are
================
``simulator.py`` the ``Simulator`` handle (start, stop, faults); ``app.py`` the request pipeline
(given its routes); ``server.py`` the HTTP handler and server; ``icws_api.py`` the /icws endpoints
and ``sim_api.py`` the /sim ones; ``routing.py`` requests, responses, routes; ``errors.py`` the
error answers (``ErrorAnswer``); ``sessions.py``, ``state.py`` (the world), ``dialer.py``
(allocations), ``query.py`` (select/where/orderBy/Range), ``faults.py``, ``seed.py``;
``__main__.py`` the CLI; ``messaging.py`` the message queue (short polling, SSE),
``subscriptions.py`` the user-statuses and sessions-users subscriptions and ``/sim/client``,
``clients.py`` the agents' simulated CIC clients. Endpoint modules import ``app`` only for type
hints and ``app`` imports none of them: no import circle.

Use
===
``Simulator(seed=None, host="127.0.0.1", port=0, apply_delay=0.2, session_idle_timeout=900.0,
service_user=None, service_password=None, dialer_version=7, alternate_hosts=("cic-icws",),
messaging_version=2, rich_campaigns=False)``; ``start()``
serves from a daemon thread and returns ``base_url``; ``stop()``; ``reset()``; ``set_faults(**kw)``;
``state()``; ``moves()``; ``wait_idle(timeout=5)`` (raises ``TimeoutError`` if moves are still
pending); also a context manager. ``seed=None`` means ``default_seed()``; a dict is checked by
``load_seed``.
The service account is ``service_user``/``service_password``, else ``ICWS_USER`` and
``ICWS_PASSWORD`` (or ``ICWS_PASSWORD_FILE``), else ``svc_dashboard`` / ``svc-dashboard-demo``.
CLI: ``python -m icws_client.simulator --help``. It logs one line per request to stderr (method,
path with the session id masked, status, milliseconds); never bodies, passwords or tokens.

Transport
=========
* Responses with a body are JSON typed ``application/vnd.inin.icws+json; charset=utf-8``.
  Request bodies may be typed ``application/json`` or ``application/vnd.inin.icws+json`` (any
  case, with or without ``charset=utf-8``); a missing Content-Type is read as JSON; another type or
  charset -> 415 (*choice*). Bodies must be UTF-8 JSON (NaN/Infinity refused) -> else 400.
* HTTP/1.1 keep-alive. Bodies over 1 MiB -> 400 ``error.request.tooLarge``; the body is never
  read into memory (up to 16 MiB is drained and discarded so the client sees the answer), then the
  connection closes. Bad Content-Length -> 400 ``error.request.invalidContentLength``; chunked
  bodies -> 411 (*choice*); a body shorter than its Content-Length -> 400. Protocol errors found
  by ``http.server`` (bad request line, 414, 431, 501 unknown method) also get JSON error bodies.
* Error body: ``{"errorId"?, "message", "errorCode"?}``; no errorId on 401, 410 and the dialer 403
  (the record shows none there, REF 10; the other errorIds are *choices*, not on record);
  missing/invalid properties add
  ``"__type": "urn:inin.com:common:missingPropertyError"`` / ``invalidPropertyError`` and
  ``propertyName`` (errorIds ``error.request.missingProperty`` / ``error.request.invalidProperty``).
  Any unexpected exception -> 500 ``{"errorId": "error.server.internal", "errorCode":
  -2147467259, ...}``, logged with its traceback; the server keeps running.
* Unknown path -> 404 ``error.request.notFound``; known path, other method -> 405
  ``error.request.accessDenied.httpMethodNotAllowed`` with ``Allow`` (*choice*). Routing comes
  before authentication, so a 404/405 needs no session (*choice*). Not implemented (404):
  other dialer methods, PUT user-statuses, subscriptions other than user-statuses and
  sessions-users, ``messaging/heartbeat``.

Connection (REF 2)
==================
* ``POST /icws/connection[?include=features,version,server-time]``. ``include`` values
  ``default-workstation``, ``purecloud-integration``, ``effective-station`` are accepted and
  ignored; unknown ones -> 400 ``error.request.invalidParameter``. Checks, in order:
  ``Accept-Language`` present (else 400 ``error.request.missingHeader``); body a JSON object;
  ``__type`` present; ``authToken``/``singleSignOnToken`` types -> 400 ``error.request.unsupported``
  ("not supported by this simulator"); other ``__type`` -> invalidPropertyError; unknown properties
  -> invalidPropertyError (*choice*: strict); ``applicationName``, ``userID``, ``password`` present
  (missingPropertyError) and strings (invalidPropertyError), ``applicationName`` non-empty.
  Credentials (exact, case-sensitive user id): the service account, or a seed user with a
  ``password``; else 400 ``error.request.connection.authenticationFailure``, errorCode
  -2147221503 (the record's shape: errorId, message, errorCode). The default seed's passwords
  (demo values, for CIC sign-in): every agent ``agent-demo``; ``sup.morgan`` (role Supervisor,
  workgroup Supervisors) ``supervisor-demo``; ``qa.quinn`` (role Quality Auditor, no workgroup)
  ``auditor-demo``. ``generate_seed`` users have none (they cannot connect).
* 201 body: ``csrfToken, sessionId, alternateHostList, userID, userDisplayName, icServer,
  daysUntilPasswordExpiration`` (always 90, *choice*), plus ``features`` / ``version`` /
  ``serverTimeInfo`` only when included. ``alternateHostList`` is the ``connect_503`` fault's
  alternate hosts if it names any, else ``Simulator(alternate_hosts=...)`` / ``--alternate-hosts``
  (default ``["cic-icws"]``, *choice* of name: a live server's list is non-empty even alone,
  REF 10; ``()`` / ``--alternate-hosts ''`` for none). Headers:
  ``ININ-ICWS-Session-ID``, ``ININ-ICWS-CSRF-Token``, ``Set-Cookie:
  icws_<sessionId>=<random>|languageId=<Accept-Language tag, else en-us>;
  Path=/icws/<sessionId>; HttpOnly`` as recorded (REF 10) less ``Secure`` (this server speaks
  http only), ``Location: /icws/<sessionId>/connection``
  (*choice*). Session ids are ten random decimal digits; CSRF token and cookie value are
  ``secrets.token_urlsafe(24)``.
* Session-scoped ``/icws/{sessionId}/...`` checks, in order (all 401 carry
  ``WWW-Authenticate: ICWS realm="ICWS" location="/ICWS/connection"``):
  unknown, deleted or expired session -> ``{"message": "This request requires a session ID!",
  "errorCode": 1}``; ``ININ-ICWS-CSRF-Token`` missing or wrong, or cookie ``icws_<sessionId>``
  missing or wrong -> ``{"message": "An authentication token was expected in the request, but
  not found.", "errorCode": 2}`` (the recorded bodies, no errorId, REF 10; which check gives
  which code for the cookie is a *choice*). A 410 fault answers ``{"message": "This resource has
  been deprecated and removed from the API."}`` (REF 10: no session meaning).
  Only ``GET messaging/messages`` may omit the CSRF header (a wrong one is still refused).
  Every authenticated request restarts the idle timer; a session idle longer than
  ``session_idle_timeout`` is gone (401 errorCode 1).
* ``GET /icws/{sid}/connection`` -> 200 ``{"connectionState": 1, "reason": "Connected.",
  "shouldReconnect": false}``; ``DELETE`` -> 204 and the session (with its queue and
  subscriptions) is gone.
* ``GET /icws/{sid}/connection/switchover-status`` (connection 11, REF 2.6) -> 200
  ``{"isSwitchoverActive": false, "primaryHost": <icServer>, "backupHost": <first alternate
  host>}`` (``backupHost`` absent without alternates). *Choice*: never active, and none of the
  record's optional backup flags, state or version.
* ``GET /icws/connection/features`` -> ``{"featureInfoList": [...]}`` with connection 11,
  messaging 2, dialer ``dialer_version`` (7), configuration 20, status 4 (last two *choice*).
  ``GET /icws/connection/features/{id}`` -> one ``{featureId, version}``; unknown id -> 400
  ``error.request.unsupported`` (*choice*, as RIC reads it). ``GET /icws/connection/version`` and
  ``/server-time`` need no session.

Configuration lists (REF 4.1)
=============================
``GET /icws/{sid}/configuration/{users|workgroups|interaction-dialer-campaign-acls}`` ->
``{"items": [...]}``; ``.../{kind}/{id}`` -> the object at top level, unknown id -> 404.
* Properties. users: ``configurationId, extension, workgroups, roles, securityRights,
  licenseProperties`` (``licenseProperties``: *choice*, its shape is not on record, so
  selecting it is accepted and it is always omitted, as null properties are;
  ``securityRights`` is ``{"loginCampaign": {"effectiveValue": bool}}`` only, the one right
  the record reads, REF 3.1: ``GET configuration/users/{id}?select=*&rightsFilter=loggedInUser``;
  from the seed user's ``logonCampaignRight``, default false; *choice*: no ``actualValue`` or
  inherited values, and the list form serves it too); workgroups:
  ``configurationId, members, hasQueue, isActive``; campaign ACLs: ``configurationId`` only
  (displayName = campaign name), as on record (REF 10); campaign state, workgroup and
  membership are in ``/sim/state`` only. With ``Simulator(rich_campaigns=True)`` /
  ``--rich-campaigns`` (pytest marker ``rich_campaigns``; NOT in the record, for tests that
  need it) the ACLs also carry (*choice*, mirroring ``availableCampaign``): ``workgroup``
  (configurationId object), ``status`` (campaignStatusType list: 1 On, 2 Off, 4 ScheduleOnly,
  8 Auto, 16 Paused, 32 Completed), ``campaignType`` (1 Predictive, 2 Power, 3 Preview,
  8 Agentless). ``configurationId`` = ``{id, displayName, uri: "/configuration/<kind>/<id>"}``;
  workgroup and role ids equal their names.
* ``select``: comma list, ``*`` = all; absent -> only ``configurationId``; ``configurationId`` is
  always returned; unknown name -> 400 invalidPropertyError naming it.
* ``where``: comma-separated clauses, ANDed, each ``<path> <eq|sw|ct> <value>`` (value = rest of
  the clause, so it may hold spaces but not commas). Paths: a property, or
  ``<configurationId-property>.<id|displayName|uri>``; a list matches if any element does; an
  object alone compares its id. Comparison is case-insensitive (*choice*); booleans compare as
  ``true``/``false``. Malformed clause/operator -> 400 ``error.request.invalidParameter``;
  unknown property -> 400 invalidPropertyError.
* ``orderBy``: ``<path>`` or ``<path> desc`` (``asc`` accepted); default
  ``configurationId.displayName`` ascending; ties by id; list properties refused (400).
* ``rightsFilter``: ``view``, ``admin``, ``loggedInUser`` (any case) accepted and ignored (every
  session sees everything); other values 400. Other query parameters are ignored.
* ``Range: items=<first>-<last>`` (first <= last; else 400 ``error.request.invalidHeader``).
  With any ``select`` at most 200 items per response.
  ``Content-Range: items <first>-<last>/<total>`` is sent when a Range was given or the 200 cap
  cut the list (``items */<total>`` for an empty slice). Status (*choice*): 206 when the answer
  holds fewer items than ``total``, else 200. A Range starting at or past a non-zero total
  -> 416 with ``Content-Range: items */<total>``.

Status (REF 4.2)
================
``GET /icws/{sid}/status/status-messages`` -> ``{"statusMessageList": [...]}`` from the seed.
``GET /icws/{sid}/status/user-statuses/{userId}`` -> ``{userId, statusId, notes, onPhone,
onPhoneChanged, statusChanged, loggedIn, stations, icServers}`` (times ``YYYYMMDDTHHMMSSZ``;
``stations`` = ``["Station-<extension>"]`` and ``icServers`` = ``[icServer]`` when logged in);
unknown user -> 404. Presence only changes through ``POST /sim/user-status`` (*choice*: logging
in through ICWS does not change ``loggedIn``).

Messaging (REF 5; short polling and server-sent events)
=======================================================
* ``PUT /icws/{sid}/messaging/subscriptions/status/user-statuses`` ``{"userIds": [str, 1..],
  "userStatusProperties": [...]?}`` -> 204 and at once queues ``{"__type":
  "urn:inin.com:status:userStatusMessage", "isDelta": false, "userStatusList": [...]}``. PUT
  replaces the session's previous subscription. Unknown user ids -> 404, nothing subscribed;
  unknown body properties / userStatusProperties -> 400. With ``userStatusProperties`` each entry
  carries those plus ``userId`` and ``statusId``. ``DELETE`` the same path -> 204.
* A presence change (``/sim/user-status``) queues ``isDelta: true`` messages holding that one
  user to every session subscribed to them.
* ``PUT /icws/{sid}/messaging/subscriptions/session/sessions-users`` ``{"userIds": [str, 1..]}``
  (REF 4.3) -> 204 and at once queues ``{"__type": "urn:inin.com:session:sessionsMessage",
  "isDelta": false, "sessionsAdded": [every live client of those users], "sessionsRemoved": []}``;
  later ``/sim/client`` changes queue ``isDelta: true`` messages with one entry added or removed.
  Entries: ``{applicationName, machineName, stationId, userId, reason: 0}`` (ids as
  configurationId objects). Same refusals as user-statuses; PUT replaces; DELETE -> 204.
  *Choices*: ``isDelta`` on sessionsMessage (the record lists only the two lists); the live
  clients are the simulator's agents' CIC clients, one per agent at most, starting with every
  user whose seed status is logged in; ICWS sessions opened against the simulator (API
  sessions, no station) are not listed; a client logging in or out does not change ``loggedIn``.
* ``POST /sim/client {"userId", "connected": bool, "applicationName"?}`` (not ICWS) -> 200
  ``{userId, connected, changed}``; ``GET /sim/clients`` -> ``{userId: entry}``.
* When an allocation is applied, every live session of an affected agent gets an
  ``urn:inin.com:dialer:autoLogoutMessage`` ``{campaignIds, initiatorName}`` (if any Out
  campaigns) and one ``urn:inin.com:dialer:autoLoginMessage`` ``{campaignId, initiatorName}`` per
  In campaign; ``initiatorName`` = the requesting session's ``userDisplayName``; ``isDelta`` false.
* ``GET /icws/{sid}/messaging/messages`` -> 200 JSON array (oldest first, ``[]`` if none); the
  messages are then dequeued. Each queue keeps at most 1000 messages, dropping the oldest.
* Server-sent events: the same GET with ``Accept: text/event-stream`` when feature messaging is
  >= 2 (``Simulator(messaging_version=2)``, CLI ``--messaging-version``; the default) answers 200
  ``text/event-stream`` without Content-Length, sends ``:ping`` at once and after every 5 s
  without a message (*choice*: the record shows ``:ping`` lines, not their cadence), and one
  ``data: <message JSON>`` event per message. An open stream keeps its session from idling out
  (*choice*). It ends (connection closed) when the session ends, the simulator stops or the
  ``down`` fault is set. At messaging 1 the header is ignored: a JSON array (*choice*).
* ``expire_sessions`` ends every session with ``{"__type":
  "urn:inin.com:connection:connectionStateChangeMessage", "previousConnectionState": 1,
  "newConnectionState": 2, "reason", "shouldReconnect": true}`` queued (*choice*: 1 up, 2 down;
  the record does not give the enumeration). An open event stream sends it and closes; a short
  poller gets it with its next ``GET messaging/messages`` (once, then 401); any other request
  gets 401 at once (*choice*). ``subscriptionStateMessage`` is never sent (*choice*).

Dialer (REF 3.2)
================
* ``POST /icws/{sid}/dialer/allocate-agents``: if ``dialer_version`` < 7 -> 400
  ``error.request.unsupported`` (*choice*); licence off -> 403 with the recorded text and no errorId
  ("Neither the agent nor the station ... Dialer Add-on License available."). Then strict body
  validation, each 400 naming the property: body not a JSON object; ``__type``, if present, must be
  ``urn:inin.com:dialer:allocateAgentsParameters``; properties other than ``agentIds``,
  ``campaignIdsIn``, ``campaignIdsOut`` refused (*choice*); ``null`` counts as absent;
  ``agentIds`` required, a non-empty list of distinct non-empty strings, each an existing user id
  (*choice*: membership in the campaign's workgroup is not checked); one of ``campaignIdsIn`` /
  ``campaignIdsOut`` required; lists of distinct non-empty strings of known campaign ids; not both
  empty (*choice*: one present-but-empty list alone is refused too); no campaign in both. Campaign
  state is not checked (*choice*). 202 with no body; the move is applied ``apply_delay`` seconds
  later by one worker thread in acceptance order: per agent, Out campaigns removed, then In
  campaigns added. Each applied move is logged (``GET /sim/moves``). ``reset()`` drops moves not
  yet applied.
* ``POST /icws/{sid}/dialer/ready-for-calls``: licence off -> 403; body optional (none or
  ``{}``); ``campaignIds``, if present, a non-empty list of known campaign ids (needs dialer 4);
  unknown properties refused -> 200 with no body, when the session's user is logged in to Dialer;
  else 400 ``{"message": "The agent is not logged in to Dialer."}`` (no errorId: *choice*, REF 10
  only says a real server likely refuses it). Nobody is logged in to Dialer at start or after a
  reset (*choice*: the dashboard never calls ``dialer/log-in``; the agent's own client does):
  ``POST /sim/dialer-login {"userId", "loggedIn"?: true}`` logs a user in or out (any session of
  that user then counts as logged in; *choice*), ``GET /sim/dialer-login`` -> ``{"loggedIn":
  [ids]}``. Every call past authentication is recorded: ``GET /sim/ready-for-calls`` -> ``[{userId,
  applicationName, campaignIds (null when absent), status (200, 400, 403), at}]`` (last 1000),
  ``DELETE`` clears them.

Faults (``/sim/faults``)
========================
``POST /sim/faults`` merges fields into the current faults (``null`` clears one); unknown fields or
bad values -> 400 ``error.sim.invalidFault`` naming the field; answers the current faults.
``GET`` shows them, ``DELETE`` clears them. ``Simulator.set_faults(**kw)`` is the same call.
* ``status`` (400-599), ``latency_ms`` (0-120000), ``count``, ``rate``, ``paths``, ``error_id``,
  ``message``: requests matching ``paths`` (one substring or a list; default: every
  session-scoped /icws request, i.e. not connect, features, version or /sim) are delayed by
  ``latency_ms`` and then answered with ``status`` (body from ``error_id``/``message`` or a default;
  401 adds errorCode 1 and ``WWW-Authenticate``) before authentication and before any effect.
  ``rate`` (0-1) picks matching requests at random; ``count`` bounds how many requests are faulted
  (``null`` = no bound). When ``count`` runs out the status/latency fault is cleared.
* ``connect_503``: ``{"count": n or null (always; the default), "hosts": [...] (Host header names
  that get the 503; default all), "alternate_hosts": [...]}``: ``POST /icws/connection`` answers
  503 ``{"errorId": "error.server.notAcceptingConnections", "message", "alternateHostList"}``.
* ``trickle``: ``{"interval_ms": 1000 (1-60000), "paths": substring(s) (default: every
  session-scoped /icws request), "count": n or null (always)}``: matching answers send their
  status line and headers at once, then the body one byte every ``interval_ms`` (a slow proxy, a
  stalled server). An answer that has no body (a 202, say) gets ``{"trickle": "...."}`` (51 bytes)
  to trickle (*choice*: the record says nothing of slow servers); 204 stays bodiless. Combines
  with the other faults. CLI: ``--trickle-ms N`` and ``--trickle-paths``.
* ``licence: false``: dialer calls -> 403. ``expire_sessions: true``: every session ends now (an
  action, not a stored fault). ``down: true``: every /icws request gets its connection closed
  without an answer (*choice*); /sim stays up.

Other /sim endpoints (not ICWS; no authentication; bind to loopback)
====================================================================
``GET /sim/state`` -> ``{"campaigns": [{id, name, state}], "agents": [{id, name, workgroups}],
"membership": {agentId: [campaignId, ...]}}``; ``state`` is the first of completed, paused, off,
schedule-only, auto, on present in the campaign's status (else ``unknown``); agents are users in
a campaign's workgroup (plus any user holding a membership), each listed in ``membership``.
``POST /sim/user-status {"userId", "statusId", "onPhone"?, "loggedIn"?}`` -> 200 new userStatus
(unknown user 404, unknown status 400). ``GET /sim/moves`` -> ``[{seq, acceptedAt, appliedAt,
userId, userDisplayName, agentIds, campaignIdsIn, campaignIdsOut}]``. ``POST /sim/reset`` -> 204.
``GET /sim/calls`` -> ``[{method, path (route template, e.g.
"/icws/{sessionId}/dialer/allocate-agents", or "(no route)"), status (0 = dropped), count}]``
for /icws requests only, including faulted ones; ``DELETE /sim/calls`` clears them.

Seed format
===========
A JSON object: ``icServer`` (str, default "cic1"); ``workgroups``: ``[{id, displayName?,
hasQueue?, isActive?}]``; ``users``: ``[{id, displayName?, extension?, workgroups: [ids],
roles: [names], password?, logonCampaignRight?: bool, status?: {statusId, loggedIn,
onPhone}}]``; ``campaigns``:
``[{id, name, workgroup, status: [flags], campaignType?}]``; ``membership``: ``{userId:
[campaignIds]}``; ``statusMessages``: ``[{statusId, messageText, iconUri, isSelectableStatus,
isAcdStatus, groupTag}]`` (optional). ``load_seed`` checks references and raises ``ValueError``.
The service account is added to the users when the seed lacks it; its password is never taken
from the seed.
"""

from .seed import default_seed, generate_seed, load_seed
from .simulator import Simulator

__all__ = ["Simulator", "default_seed", "generate_seed", "load_seed"]
