"""Streaming reader of Skatteverket's population register files (Navet, ``Navetavisering``).

A file becomes a stream of typed records (``NavetRecord``) or rejections (``Rejection``), in file
order. Nothing here touches the database: the caller applies the records and decides what to do
with duplicates (both are yielded, in order), protection changes and so on.

- Streaming: ``lxml.etree.iterparse`` reports only the end of each ``Folkbokforingspost``; the
  post is read by walking its children directly (no XPath), by local tag name so that a file
  with a default or prefixed namespace reads the same, then cleared and detached together with
  the posts before it, so memory stays flat however large the file (a full extract of a large
  region is 1.7 million records, well over a gigabyte).
- A file that is not well-formed (including one cut off in the middle), has a DOCTYPE (Navet
  files have none; refusing it rules out entity tricks) or is not a ``Navetavisering`` raises
  ``NavetFileError`` when the problem is reached; records before it may already have been
  yielded, so the caller applies a file in one transaction. An unreadable file raises
  ``NavetFileError`` too ("cannot read the file: ...").
- A record that cannot be applied is yielded as a ``Rejection`` and the stream goes on: a missing
  or invalid ``PersonId`` or ``HanvisningsPersonNr``, an unknown county code, a value over its
  schema length or of the wrong form (``PostNr``, dates, ``Tilltalsnamnsmarkering``), a flag
  other than J/N, an unknown ``AvregistreringsorsakKod``. The first problem found is the reason.
- Empty and ``xsi:nil`` elements are None (a nil element has no content); text is stripped. An
  absent or nil flag is N, the schema default.
- Relations keep their type and canonical number; a number that is not a valid ``PersonNr``
  (or a ``FodelsetidNr``) gives ``identity_number=None`` without rejecting the record, and a
  relation whose ``Relationstyp`` is not one of the schema's is left out.

LEAK-1: messages and reasons produced here name elements, limits, line numbers and codes only,
never a name, an identity number or an address; lxml's own message (which may quote a piece of
the file) is not passed on, and ``NavetFileError`` is raised without chaining it. The one field
with personal data outside ``NavetRecord`` is ``Rejection.raw_xml`` (the record as delivered, for
the encrypted quarantine), which is kept out of ``repr()``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from lxml import etree

from patients.navet.parser.file_errors import (
    check_document,
    file_error,
    misplaced,
    no_posts,
    syntax_error,
)
from patients.navet.parser.posts import element_text, leaves, local_name, parse_post
from patients.navet.parser.records import (
    POST_TAG,
    POSTS_TAG,
    FileInfo,
    ForeignAddress,
    NavetFileError,
    NavetRecord,
    Rejection,
    Relation,
    SwedishAddress,
)

__all__ = [
    "FileInfo",
    "ForeignAddress",
    "NavetFileError",
    "NavetRecord",
    "Rejection",
    "Relation",
    "SwedishAddress",
    "iter_records",
    "read_file_info",
]

# Parser options shared by both readers: no DTD, no entity expansion, no network.
_PARSER_OPTIONS: dict[str, Any] = {
    "remove_comments": True,
    "remove_pis": True,
    "remove_blank_text": True,
    "collect_ids": False,
    "resolve_entities": False,
    "load_dtd": False,
    "no_network": True,
}


def read_file_info(path: str | os.PathLike[str]) -> FileInfo | None:
    """The ``Filinformation`` of the file, or None when it has none.

    Reads only the head of the file, up to the start of ``Folkbokforingsposter``.
    """
    try:
        stream = open(path, "rb")  # noqa: SIM115 - closed in the finally below
    except OSError as error:
        raise file_error(error) from None
    info: FileInfo | None = None
    try:
        context = etree.iterparse(stream, events=("start", "end"), **_PARSER_OPTIONS)
        checked = False
        for event, element in context:
            if not checked:
                check_document(element)
                checked = True
            tag = local_name(element.tag)
            if event == "start":
                if tag == POSTS_TAG:
                    return info
            elif tag == "Filinformation":
                info = _file_info(element)
    except etree.XMLSyntaxError as error:
        raise syntax_error(error, stream) from None
    except OSError as error:
        raise file_error(error) from None
    finally:
        stream.close()
    raise no_posts()


def _file_info(element: etree._Element) -> FileInfo:
    values: dict[str, str | None] = {}
    for child in element:
        tag = local_name(child.tag)
        if tag == "Utfil":
            values.update(leaves(child))
        else:
            values[tag] = element_text(child)

    def number(name: str) -> int | None:
        raw = values.get(name)
        if raw is None:
            return None
        if not (raw.isascii() and raw.isdigit()):
            raise NavetFileError(f"{name} in Filinformation is not a number")
        return int(raw)

    return FileInfo(
        bestallnings_id=values.get("BestallningsId"),
        filnamn=values.get("Filnamn"),
        filnr=number("FilNr"),
        effective_date=values.get("Effektueringsdatum"),
        record_count=number("AntalPoster"),
    )


def iter_records(
    path: str | os.PathLike[str], *, known_county_codes: frozenset[str]
) -> Iterator[NavetRecord | Rejection]:
    """Yield every ``Folkbokforingspost`` of the file, in order, as a record or a rejection.

    Raises ``NavetFileError`` when the file turns out not to be a well-formed Navetavisering
    (or cannot be read); records before the problem have been yielded already.
    """
    try:
        stream = open(path, "rb")  # noqa: SIM115 - closed in the finally below
    except OSError as error:
        raise file_error(error) from None
    try:
        context = etree.iterparse(stream, events=("end",), tag="{*}" + POST_TAG, **_PARSER_OPTIONS)
        posts: etree._Element | None = None  # the Folkbokforingsposter element
        for position, (_event, post) in enumerate(context, start=1):
            parent = post.getparent()
            if parent is not posts or parent is None:
                # The first record (the parent's proxy is kept alive in ``posts``, so later
                # records find the very same object) or one in the wrong place.
                root = post.getroottree().getroot()
                check_document(root)
                if (
                    position > 1
                    or parent is None
                    or parent.getparent() is not root
                    or local_name(parent.tag) != POSTS_TAG
                ):
                    raise misplaced(post)
                posts = parent
            item = parse_post(post, position, known_county_codes)
            # Free what has been read: the post's content and the posts before it.
            post.clear(keep_tail=False)
            while post.getprevious() is not None:
                del parent[0]
            yield item
        root = context.root
        if root is None:
            raise no_posts()
        check_document(root)
        if posts is None and not any(local_name(child.tag) == POSTS_TAG for child in root):
            raise no_posts()
    except etree.XMLSyntaxError as error:
        raise syntax_error(error, stream) from None
    except OSError as error:
        raise file_error(error) from None
    finally:
        stream.close()
