"""The secret key, held so that nothing prints it by accident.

A key kept in a plain ``str`` shows up wherever a value is shown: a frame variable on Django's
DEBUG error page, the locals an error tracker captures, a ``repr`` in a log line. A
:class:`Secret` has a masked ``repr``/``str``/``format`` (``skey_…abcd``), is not picklable,
and gives its value only through :meth:`reveal`, which the transport calls once per request
while it writes the ``Authorization`` header into the prepared request. No frame between the
settings and the socket holds the key as a string, and an invalid key is refused without its
value ever being a local variable of the frame that raises.
"""

from __future__ import annotations

from typing import Any, NoReturn


def mask_key(secret_key: str) -> str:
    """``skey_…abcd``: enough to tell keys apart, never enough to use one."""
    prefix = secret_key[:5] if secret_key[:5] in {"skey_", "pkey_"} else ""
    # Too short to show any of it safely.
    if len(secret_key) - len(prefix) < 16:
        return f"{prefix}…"
    return f"{prefix}…{secret_key[-4:]}"


def _problem(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return "secret_key is empty: set the skey_… secret key of the account"
    # Surrounding whitespace comes from .env files; anything else inside would make requests
    # raise an InvalidHeader error whose text quotes the whole header, key included.
    stripped = value.strip()
    if not (stripped.isascii() and stripped.isprintable()) or " " in stripped:
        return "secret_key contains spaces, control or non-ASCII characters"
    return None


class Secret:
    """A secret key; see the module docstring."""

    __slots__ = ("_masked", "_value")

    def __init__(self, value: object) -> None:
        problem = _problem(value)
        if problem is None:
            assert isinstance(value, str)
            self._value = value.strip()
            self._masked = mask_key(self._value)
        # Dropped before anything is raised: the raising frame must not show the key.
        value = None
        if problem is not None:
            raise ValueError(problem)

    @classmethod
    def of(cls, value: Secret | str) -> Secret:
        return value if isinstance(value, Secret) else cls(value)

    def reveal(self) -> str:
        """The key itself: for the ``Authorization`` header, and nothing else."""
        return self._value

    @property
    def masked(self) -> str:
        return self._masked

    def startswith(self, prefix: str) -> bool:
        return self._value.startswith(prefix)

    def __repr__(self) -> str:
        return f"Secret({self._masked!r})"

    def __str__(self) -> str:
        return self._masked

    def __format__(self, spec: str) -> str:
        return format(self._masked, spec)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Secret):
            return self._value == other._value
        if isinstance(other, str):
            return self._value == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> NoReturn:
        raise TypeError("A Secret is not pickled: pass the settings, not the key.")

    def __getstate__(self) -> NoReturn:
        raise TypeError("A Secret is not pickled: pass the settings, not the key.")

    def __deepcopy__(self, memo: dict[int, Any]) -> Secret:
        return self
