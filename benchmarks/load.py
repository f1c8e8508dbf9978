"""Load generator for the charge verification endpoint: each request is sent exactly once.

``python -m benchmarks.load URL BODIES.json --concurrency N`` posts every body of the file once,
over N keep-alive connections (one thread each), and prints JSON: the wall time, each
request's latency, the statuses, and the ``X-Queries`` header each answer carried.

Why not wrk: every request must carry its own pre-minted token and paid charge, and be sent
once. wrk sends for a fixed duration, with one Lua state per thread and no way to stop all
threads when a shared list runs out; a request sent twice is answered 409 ``already_claimed``
without any call to AcceptOn, which is faster and not what is measured. A thread per
connection with ``http.client`` keeps the connections alive and sends the fixed list once; it
runs in its own process, so its Python overhead is not counted in the server's time (it does
share the machine's two cores, as wrk would).
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import secrets
import string
import sys
import threading
import time
from urllib.parse import urlsplit


def run(url: str, bodies: list[dict[str, str]], concurrency: int) -> dict[str, object]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    # Django accepts its CSRF secret itself as the header token when cookie and header match.
    csrf = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
    headers = {
        "Content-Type": "application/json",
        "X-CSRFToken": csrf,
        "Cookie": f"csrftoken={csrf}",
    }
    next_index = itertools.count()
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    queries: list[int] = []
    errors: list[str] = []

    def worker() -> None:
        connection = http.client.HTTPConnection(host, port, timeout=60)
        while (index := next(next_index)) < len(bodies):
            payload = json.dumps(bodies[index])
            started = time.perf_counter()
            try:
                connection.request("POST", parts.path, payload, headers)
                answer = connection.getresponse()
                answer.read()
            except (OSError, http.client.HTTPException) as exc:
                connection.close()
                connection = http.client.HTTPConnection(host, port, timeout=60)
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}")
                continue
            elapsed = time.perf_counter() - started
            if answer.getheader("Connection", "").lower() == "close":
                connection.close()
                connection = http.client.HTTPConnection(host, port, timeout=60)
            with lock:
                latencies.append(elapsed)
                statuses[str(answer.status)] = statuses.get(str(answer.status), 0) + 1
                queries.append(int(answer.getheader("X-Queries", "-1")))
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {
        "seconds": time.perf_counter() - started,
        "latencies": latencies,
        "statuses": statuses,
        "queries": queries,
        "errors": errors,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load")
    parser.add_argument("url")
    parser.add_argument("bodies", help="a JSON file: a list of request bodies")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args(argv)
    with open(args.bodies) as handle:
        bodies = json.load(handle)
    json.dump(run(args.url, bodies, args.concurrency), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
