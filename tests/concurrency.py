"""Running one piece of work in many threads at the same instant, each on its own connection."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from django.db import connection

T = TypeVar("T")


def in_threads(count: int, work: Callable[[int], T]) -> tuple[list[T], list[BaseException]]:
    """``work(0)`` … ``work(count - 1)``, released together; their results and their errors.

    Every exception is collected, not raised in its thread, so a test can assert on all of them;
    each thread closes its database connection so the test database can be dropped afterwards.
    """
    barrier = threading.Barrier(count)
    lock = threading.Lock()
    results: list[T] = []
    errors: list[BaseException] = []

    def run(number: int) -> None:
        try:
            barrier.wait()
            result = work(number)
        except BaseException as exc:  # noqa: BLE001 - every failure must reach the assertion
            with lock:
                errors.append(exc)
        else:
            with lock:
                results.append(result)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(number,)) for number in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors
