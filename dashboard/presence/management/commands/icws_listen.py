"""``manage.py icws_listen``: run the ICWS listener until SIGTERM/SIGINT (dashboard.presence)."""

from __future__ import annotations

import signal
import threading

from django.core.management.base import BaseCommand

from dashboard.icws import new_client
from dashboard.presence.listener import Listener


class Command(BaseCommand):
    help = "Keep one ICWS session reading its queue; write presence and live clients."

    def handle(self, *args, **options):
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        self.stdout.write("ICWS listener starting")
        Listener(lambda: new_client(" (listener)"), stop).run()
        self.stdout.write("ICWS listener stopped")
