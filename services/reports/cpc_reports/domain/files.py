"""What an agency may upload: a PDF or a Word document, recognised by its content, not its name."""

from __future__ import annotations

import io
import zipfile

MAX_BYTES = 10 * 1024 * 1024

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DOC = "application/msword"


class RejectedFile(ValueError):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


def document_type(content: bytes, max_bytes: int = MAX_BYTES) -> str:
    """The content type of an acceptable report, or RejectedFile saying what is wrong with it."""
    if not content:
        raise RejectedFile(422, "the file is empty")
    if len(content) > max_bytes:
        raise RejectedFile(413, f"the file is larger than {max_bytes // (1024 * 1024)} MB")
    if content.startswith(b"%PDF-"):
        return PDF
    if content.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                if "word/document.xml" in archive.namelist():
                    return DOCX
        except zipfile.BadZipFile:
            pass
    if content.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return DOC
    raise RejectedFile(415, "only PDF or Word documents are accepted (the content is neither)")
