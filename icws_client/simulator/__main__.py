"""Command line: ``python -m icws_client.simulator --port 8018`` (script ``icws-simulator``)."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from .faults import FaultError
from .seed import default_seed, generate_seed, load_seed
from .simulator import Simulator

log = logging.getLogger("icws_client.simulator")


def _size_pair(text: str) -> tuple[int, int]:
    try:
        agents, campaigns = (int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError("expected AGENTS,CAMPAIGNS, e.g. 5000,200") from None
    if agents < 1 or campaigns < 1:
        raise argparse.ArgumentTypeError("AGENTS and CAMPAIGNS must be at least 1")
    return agents, campaigns


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="icws-simulator",
        description="A strict ICWS (PureConnect/CIC) simulator for tests, demos and benchmarks.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8018, help="port (default 8018; 0 = any free)")
    world = p.add_mutually_exclusive_group()
    world.add_argument("--seed", metavar="FILE.json", help="start from this seed file")
    world.add_argument(
        "--generate",
        metavar="AGENTS,CAMPAIGNS",
        type=_size_pair,
        help="start from a generated seed, e.g. 5000,200",
    )
    p.add_argument(
        "--write-seed", metavar="FILE", help="write the chosen seed to FILE (- = stdout) and exit"
    )
    p.add_argument("--apply-delay", type=float, default=0.2, help="seconds before a move applies")
    p.add_argument("--session-idle-timeout", type=float, default=900.0, help="seconds")
    p.add_argument("--dialer-version", type=int, default=7, help="dialer feature version")
    p.add_argument(
        "--messaging-version", type=int, default=2, help="messaging feature version (2: SSE)"
    )
    p.add_argument(
        "--alternate-hosts",
        default="cic-icws",
        help="comma list for the 201's alternateHostList (default cic-icws, as a live server "
        "lists one; '' for none)",
    )
    p.add_argument(
        "--rich-campaigns",
        action="store_true",
        help="campaign ACLs also carry workgroup, status and campaignType (not in the record)",
    )
    p.add_argument("--fault-status", type=int, help="inject this HTTP status (400-599)")
    rate = p.add_mutually_exclusive_group()
    rate.add_argument("--fault-count", type=int, help="... for the next K matching requests")
    rate.add_argument("--fault-rate", type=float, help="... for this share (0-1) of requests")
    p.add_argument("--fault-paths", help="substring of the paths to fault (default: session ones)")
    p.add_argument("--latency-ms", type=float, help="delay matching requests by N milliseconds")
    p.add_argument("--no-licence", action="store_true", help="dialer calls answer 403")
    p.add_argument(
        "--trickle-ms",
        type=int,
        help="send answer bodies one byte every N ms after the headers (default 1000 with "
        "--trickle-paths)",
    )
    p.add_argument(
        "--trickle-paths", help="substring of the paths to trickle (default: session ones)"
    )
    p.add_argument(
        "--log-level",
        type=str.upper,
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="INFO logs one line per request (default)",
    )
    return p


def _faults(args: argparse.Namespace, parser: argparse.ArgumentParser) -> dict[str, Any]:
    faults: dict[str, Any] = {}
    if (args.fault_count is not None or args.fault_rate is not None) and not args.fault_status:
        parser.error("--fault-count and --fault-rate need --fault-status")
    if args.fault_status is not None:
        faults["status"] = args.fault_status
    if args.fault_count is not None:
        faults["count"] = args.fault_count
    if args.fault_rate is not None:
        faults["rate"] = args.fault_rate
    if args.fault_paths:
        faults["paths"] = args.fault_paths
    if args.latency_ms is not None:
        faults["latency_ms"] = args.latency_ms
    if args.no_licence:
        faults["licence"] = False
    if args.trickle_ms is not None or args.trickle_paths:
        trickle: dict[str, Any] = {"interval_ms": args.trickle_ms or 1000}
        if args.trickle_paths:
            trickle["paths"] = args.trickle_paths
        faults["trickle"] = trickle
    return faults


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(message)s",
    )
    try:
        if args.seed:
            seed = load_seed(args.seed)
        elif args.generate:
            seed = generate_seed(agents=args.generate[0], campaigns=args.generate[1])
        else:
            seed = default_seed()
    except ValueError as exc:
        parser.exit(2, f"icws-simulator: {exc}\n")

    if args.write_seed:
        text = json.dumps(seed, ensure_ascii=False, indent=2) + "\n"
        if args.write_seed == "-":
            sys.stdout.write(text)
        else:
            Path(args.write_seed).write_text(text, encoding="utf-8")
        return 0

    try:
        sim = Simulator(
            seed=seed,
            host=args.host,
            port=args.port,
            apply_delay=args.apply_delay,
            session_idle_timeout=args.session_idle_timeout,
            dialer_version=args.dialer_version,
            messaging_version=args.messaging_version,
            rich_campaigns=args.rich_campaigns,
            alternate_hosts=[h.strip() for h in args.alternate_hosts.split(",") if h.strip()],
        )
        sim.set_faults(**_faults(args, parser))
    except (ValueError, FaultError) as exc:
        parser.exit(2, f"icws-simulator: {exc}\n")
    try:
        sim.start()
    except OSError as exc:
        parser.exit(1, f"icws-simulator: cannot listen on {args.host}:{args.port}: {exc}\n")

    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    state = sim.state()
    log.info(
        "ICWS simulator on %s (%d agents, %d campaigns, service user %s); /sim/ is unauthenticated",
        sim.base_url,
        len(state["agents"]),
        len(state["campaigns"]),
        sim.app.service_user,
    )
    if args.host not in ("127.0.0.1", "::1", "localhost"):
        log.warning("listening on %s: anyone who can reach it can use /sim/", args.host)
    while not stop.wait(0.5):
        pass
    log.info("stopping")
    sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
