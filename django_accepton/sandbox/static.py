"""The browser side of the sandbox: the loader script and the hosted form, read from ``static/``.

Files are read on every request so that edits show up without restarting the server.
"""

from __future__ import annotations

import re
from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent / "static"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".json": "application/json",
}

# One flat directory: a name can never climb out of it.
_FILE_NAME = re.compile(r"/([A-Za-z0-9_-][A-Za-z0-9_.-]*)")
# Where the production loader lives on js.accepton.com.
_ALIASES = {"/scripts/accepton.js": ("accepton.js", "scripts/accepton.js")}


def find_static(path: str, directory: Path = STATIC_DIR) -> tuple[bytes, str] | None:
    """The file's bytes and content type, or ``None`` when the sandbox has no such file."""
    candidates: tuple[str, ...]
    if path in _ALIASES:
        candidates = _ALIASES[path]
    else:
        match = _FILE_NAME.fullmatch(path)
        if match is None:
            return None
        candidates = (match.group(1),)
    for name in candidates:
        file = directory / name
        content_type = CONTENT_TYPES.get(file.suffix.lower())
        if content_type is not None and file.is_file():
            return file.read_bytes(), content_type
    return None
