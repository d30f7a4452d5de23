"""File names from a user's computer, made safe to put in an S3 key and to show back.

A browser sends only a file's base name, so a name with folder parts
(`../../etc/passwd.csv`) or control characters did not come from a file picker:
it is refused with a message rather than silently rewritten into something the
user did not choose. Characters that are merely awkward in keys and URLs (spaces,
quotes, `#`, `%`, non-ASCII letters) are replaced by `_`, and the name stays
readable: `Orders März 2026.csv` becomes `Orders_Marz_2026.csv`.
"""

from __future__ import annotations

import re
import unicodedata

from dashapp.actions.uploads.problems import UploadRejected

MAX_NAME_CHARS = 255  # what most file systems allow; keys stay far below S3's 1,024 bytes
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _ascii(char: str) -> str:
    """A letter with an accent keeps its base letter (é → e); other non-ASCII becomes '_'."""
    if char.isascii():
        return char
    base = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode("ascii")
    return base or "_"


def sanitise_name(name: str) -> str:
    """The name as it will appear in the object key; UploadRejected when it cannot be one."""
    if not name or not name.strip():
        raise UploadRejected("The file has no name.")
    if len(name) > MAX_NAME_CHARS:
        raise UploadRejected(
            f"The file name is {len(name)} characters long; rename the file to at most "
            f"{MAX_NAME_CHARS} characters and upload it again."
        )
    control = _CONTROL.search(name)
    if control:
        raise UploadRejected(
            "The file name contains an invisible control character "
            f"(code {ord(control.group()):#04x} at position {control.start() + 1}); "
            "rename the file and upload it again."
        )
    if "/" in name or "\\" in name or name.strip() in (".", ".."):
        raise UploadRejected(
            f"The file name {name!r} contains folder parts ('/', '\\' or '..'); "
            "choose the file itself, named without a folder."
        )
    safe = _UNSAFE.sub("_", "".join(_ascii(c) for c in name.strip())).strip("_-")
    stem, dot, ext = safe.rpartition(".")
    if not dot:
        return safe or "file"
    # Nothing readable before the extension (`日本.csv`, `.csv`): the key still needs a name;
    # the original name is kept with the upload and shown to users.
    stem = stem.strip("._-") or "file"
    return f"{stem}.{ext}"
