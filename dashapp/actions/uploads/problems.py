"""The one error an upload is refused with: a sentence for the user, plus where it is."""

from __future__ import annotations


class UploadRejected(ValueError):
    """Why a file cannot be uploaded, in words a non-technical user can act on.

    `line` and `column` name the place in the file when there is one; `status` is
    the HTTP status the web route answers with (400, or 413 for a file too large).
    """

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        column: str | None = None,
        status: int = 400,
    ) -> None:
        self.message = message
        self.line = line
        self.column = column
        self.status = status
        super().__init__(message)

    def as_json(self) -> dict[str, object]:
        """The body of the refusal the browser shows."""
        return {"error": self.message, "line": self.line, "column": self.column}
