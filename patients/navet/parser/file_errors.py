"""The errors that refuse a whole file, worded without quoting the file (LEAK-1).

lxml's own message can quote a piece of the file, so it is never passed on: only its error
type, the line, and the element names of the format it mentions are.
"""

from __future__ import annotations

import re
from typing import BinaryIO

from lxml import etree

from patients.navet.parser.posts import local_name
from patients.navet.parser.records import POST_TAG, POSTS_TAG, ROOT_TAG, NavetFileError

_ERROR_NAMES: dict[int, str] = {
    value: name for name, value in vars(etree.ErrorTypes).items() if isinstance(value, int)
}
_ERROR_TEXTS = {
    "ERR_TAG_NAME_MISMATCH": "opening and ending tag mismatch",
    "ERR_DOCUMENT_END": "extra content after the end of the document",
    "ERR_INVALID_CHAR": "invalid character",
    "ERR_INVALID_ENCODING": "invalid bytes for the character encoding",
    "ERR_UNKNOWN_ENCODING": "unknown character encoding",
    "ERR_UNSUPPORTED_ENCODING": "unsupported character encoding",
    "ERR_UNDECLARED_ENTITY": "undeclared entity",
    "ERR_GT_REQUIRED": "'>' expected",
    "ERR_LT_IN_ATTRIBUTE": "'<' in an attribute value",
    "ERR_NAME_REQUIRED": "element name expected",
    "ERR_ATTRIBUTE_WITHOUT_VALUE": "attribute without a value",
    "ERR_ATTRIBUTE_REDEFINED": "attribute given twice",
    "ERR_DOCUMENT_EMPTY": "the file is empty",
}
# Errors that cutting a file short cannot cause.
_NOT_FROM_CUTTING = frozenset(
    {"ERR_DOCUMENT_END", "ERR_TAG_NAME_MISMATCH", "ERR_ATTRIBUTE_REDEFINED"}
)
_NAME_IN_MESSAGE = re.compile(r"[A-Za-z_][\w.-]*")
# Element names of the format, the only words of lxml's message that may be quoted back.
_KNOWN_ELEMENTS = frozenset(
    {
        ROOT_TAG, POSTS_TAG, POST_TAG, "Aviseringsinformation", "Filinformation", "Utfil",
        "Sekretessmarkering", "SkyddadFolkbokforing", "Arendeuppgift", "PostId", "Personpost",
        "PersonId", "PersonNr", "TilldelatPersonNrSamordningsNr", "HanvisningsPersonNr",
        "Avregistrering", "AvregistreringsorsakKod", "Avregistreringsdatum", "Namn", "Fornamn",
        "Mellannamn", "Efternamn", "Tilltalsnamnsmarkering", "Folkbokforing", "LanKod",
        "KommunKod", "Folkbokforingsdatum", "Adresser", "Folkbokforingsadress",
        "SarskildPostadress", "Utlandsadress", "CareOf", "Utdelningsadress1",
        "Utdelningsadress2", "Utdelningsadress3", "PostNr", "Postort", "Land", "Relationer",
        "Relation", "RelationId", "Relationstyp", "Civilstand", "Medborgarskap", "Historik",
    }
)  # fmt: skip


def syntax_error(error: etree.XMLSyntaxError, stream: BinaryIO) -> NavetFileError:
    """A NavetFileError describing ``error`` without quoting the file's content (LEAK-1).

    lxml's message is not passed on (it can quote text of the file); only its error type, the
    line, and element names of the format that it mentions are.
    """
    name = _ERROR_NAMES.get(error.code, "")
    raw = (error.msg or "").split(", line ")[0]
    line = error.lineno or None
    if name == "ERR_DOCUMENT_EMPTY" or raw.startswith(("Document is empty", "no element found")):
        return NavetFileError("not well-formed XML: the file is empty or has no root element")
    if name == "ERR_TAG_NOT_FINISHED" or raw.startswith("Premature end of data"):
        open_tags = [w for w in _NAME_IN_MESSAGE.findall(raw) if w in _KNOWN_ELEMENTS]
        inside = f" inside {open_tags[0]}" if open_tags else ""
        problem = f"the file ends in the middle of the document{inside} (truncated?)"
    else:
        problem = _ERROR_TEXTS.get(name) or (
            name.removeprefix("ERR_").replace("_", " ").lower() if name else "syntax error"
        )
        if name == "ERR_TAG_NAME_MISMATCH":
            quoted = [w for w in _NAME_IN_MESSAGE.findall(raw) if w in _KNOWN_ELEMENTS]
            if quoted:
                problem += f" ({', '.join(dict.fromkeys(quoted))})"
        if name not in _NOT_FROM_CUTTING and line is not None and _on_last_line(stream, line):
            problem += "; the file ends there (truncated?)"
    where = f" at line {line}" if line else ""
    return NavetFileError(f"not well-formed XML{where}: {problem}")


def _on_last_line(stream: BinaryIO, line: int) -> bool:
    """Whether ``line`` is the last line of the file (ignoring a final newline).

    Only called on the error path; reads the file once more to count its lines.
    """
    try:
        stream.seek(0)
        newlines = 0
        last = b""
        while chunk := stream.read(1 << 20):
            newlines += chunk.count(b"\n")
            last = chunk
    except (OSError, ValueError):
        return False
    total = newlines + (0 if last.endswith(b"\n") else 1)
    return line >= total


def _wrong_root(tag: object) -> NavetFileError:
    local = local_name(tag)
    shown = local if _NAME_IN_MESSAGE.fullmatch(local) and len(local) <= 40 else "unknown"
    return NavetFileError(f"not a Navetavisering file: the root element is {shown}")


def file_error(error: OSError) -> NavetFileError:
    return NavetFileError(f"cannot read the file: {error.strerror or type(error).__name__}")


def check_document(root: etree._Element) -> None:
    """The file-level checks that can be made as soon as the root element exists."""
    if root.getroottree().docinfo.doctype:
        # Navet files have none; refusing it rules out entity tricks of every kind.
        raise NavetFileError("not a Navetavisering file: a DOCTYPE declaration is not allowed")
    if local_name(root.tag) != ROOT_TAG:
        raise _wrong_root(root.tag)


def misplaced(post: etree._Element) -> NavetFileError:
    line = f" at line {post.sourceline}" if post.sourceline else ""
    return NavetFileError(
        f"not a Navetavisering file: the {POST_TAG}{line} is not in {ROOT_TAG}/{POSTS_TAG}"
    )


def no_posts() -> NavetFileError:
    return NavetFileError(f"not a Navetavisering file: no {POSTS_TAG} element")
