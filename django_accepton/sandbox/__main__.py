"""``python -m django_accepton.sandbox``: run the sandbox until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from .cards import TEST_CARDS
from .dialects import DEFAULT, PRESETS
from .errors import SandboxError
from .server import SandboxServer
from .state import SEEDABLE, SandboxState


def _seed_spec(text: str) -> tuple[str, int]:
    resource, _, count = text.partition("=")
    if resource not in SEEDABLE or not count.isdigit() or int(count) < 1:
        raise argparse.ArgumentTypeError(
            f"expected RESOURCE=N with RESOURCE one of {', '.join(SEEDABLE)}, got {text!r}"
        )
    return resource, int(count)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m django_accepton.sandbox",
        description="Run a local emulator of the AcceptOn API. Its keys are throwaway.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port to bind; 0 picks one (8765)")
    parser.add_argument("--public-key", help="public key to accept (default: a new pkey_...)")
    parser.add_argument("--secret-key", help="secret key to accept (default: a new skey_...)")
    parser.add_argument(
        "--dialect",
        default=DEFAULT,
        choices=sorted(PRESETS),
        help=f"how to read what AcceptOn's documents leave open (default {DEFAULT}; "
        "see docs/api-calls.md)",
    )
    parser.add_argument(
        "--seed",
        action="append",
        default=[],
        type=_seed_spec,
        metavar="RESOURCE=N",
        help=f"create N objects at start-up; RESOURCE is one of {', '.join(SEEDABLE)}",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        state = SandboxState(
            public_key=args.public_key, secret_key=args.secret_key, dialect=args.dialect
        )
        for resource, count in args.seed:
            state.seed(resource, count)
    except (ValueError, SandboxError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        server = SandboxServer(state, host=args.host, port=args.port).start()
    except OSError as error:
        print(f"error: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    lines = [
        f"AcceptOn sandbox listening on {server.url}",
        f"  dialect: {args.dialect}",
        f"  public key: {server.public_key}",
        # Printed this once so it can be pasted into settings; it is nowhere else in the output.
        f"  secret key: {server.secret_key}",
        f"  form script: {server.url}/scripts/accepton.js",
        "  test cards (any future expiry, any 3-digit security code):",
        *(f"    {number}  {name}" for name, number in TEST_CARDS.items()),
        "    any other number  invalid_card",
    ]
    lines += [f"  seeded {count} {resource}" for resource, count in args.seed]
    lines.append("Press Ctrl-C to stop.")
    print("\n".join(lines), flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
