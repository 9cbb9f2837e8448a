"""Validation against the official EN 16931 and Peppol BIS 3.0 rules (BILL-7).

Both rule sets are XSLT 2.0 stylesheets compiled from Schematron; Saxon-HE (``saxonche``, no
Java) runs them. Each produces SVRL, whose ``svrl:failed-assert`` elements are the findings.
The SVRL stays a Saxon tree and one XPath reads only the failed assertions out of it: the
report also holds a ``svrl:fired-rule`` element per rule and context (about 2 KiB per invoice
line and rule set), which serialising and parsing again would cost for nothing
(docs/performance.md, "Validation: where the time per line goes"). The stylesheets are read
from ``settings.PEPPOL_RULES_DIR`` and compiled once per process: compiling takes about a
second, validating an invoice a few milliseconds plus about half a millisecond per line.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from lxml import etree

from billing.peppol.document import Finding, PeppolRulesUnavailable, ValidationResult

# EN 16931 first: its BR-* findings are the ones a billing officer most often has to act on.
RULE_FILES = ("EN16931-UBL-validation.xslt", "PEPPOL-EN16931-UBL.xslt")

_SVRL = "http://purl.oclc.org/dsdl/svrl"
# Four strings per failed assertion, in this order; an absent attribute is "".
_FINDINGS_XPATH = (
    "//svrl:failed-assert ! (string(@id), string(@flag), string(@location), string(svrl:text))"
)

# A document that is not even XML never reaches the rules; it is reported as one fatal finding
# so callers handle every invalid invoice the same way.
NOT_WELL_FORMED = "XML-WELL-FORMED"


@dataclass(frozen=True)
class _Compiled:
    pid: int
    directory: Path
    processor: Any
    executables: tuple[Any, ...]
    xpath: Any


_lock = threading.Lock()
_compiled: _Compiled | None = None


def _rules_dir() -> Path:
    directory: Path | None = getattr(settings, "PEPPOL_RULES_DIR", None)
    if directory is None:
        raise PeppolRulesUnavailable(
            "The Peppol validation rules are not configured: set PEPPOL_RULES_DIR to the "
            "directory holding " + " and ".join(RULE_FILES) + ". No invoice to another region "
            "can be issued until then."
        )
    return Path(directory)


def _compile(directory: Path) -> _Compiled:
    # Imported here: the extension loads a native Saxon image, which only invoicing needs.
    from saxonche import PySaxonApiError, PySaxonProcessor

    if not directory.is_dir():
        raise PeppolRulesUnavailable(
            f"The Peppol validation rules directory {directory} does not exist (setting "
            "PEPPOL_RULES_DIR). Install the published rules there; no invoice to another "
            "region can be issued until then."
        )
    processor = PySaxonProcessor(license=False)
    xslt = processor.new_xslt30_processor()
    executables = []
    for name in RULE_FILES:
        path = directory / name
        if not path.is_file():
            raise PeppolRulesUnavailable(
                f"The Peppol validation rule file {path} is missing (setting PEPPOL_RULES_DIR). "
                "Install the published rules; no invoice to another region can be issued "
                "until then."
            )
        try:
            executable = xslt.compile_stylesheet(stylesheet_file=str(path))
        except PySaxonApiError as exc:
            raise PeppolRulesUnavailable(
                f"The Peppol validation rule file {path} does not compile: {exc}. Replace it "
                "with the published release; no invoice to another region can be issued "
                "until then."
            ) from exc
        if executable is None:
            raise PeppolRulesUnavailable(
                f"The Peppol validation rule file {path} does not compile. Replace it with the "
                "published release; no invoice to another region can be issued until then."
            )
        executables.append(executable)
    xpath = processor.new_xpath_processor()
    xpath.declare_namespace("svrl", _SVRL)
    return _Compiled(os.getpid(), directory, processor, tuple(executables), xpath)


def _rules() -> _Compiled:
    """The compiled rules of this process, compiled on first use.

    The pid check recompiles in a forked child (a prefork Celery worker): Saxon's native
    state is not carried across fork. A change of the setting (tests) also recompiles.
    """
    global _compiled
    directory = _rules_dir()
    with _lock:
        current = _compiled
        if current is None or current.pid != os.getpid() or current.directory != directory:
            current = _compile(directory)
            _compiled = current
        return current


def _findings(rules: _Compiled, report: Any) -> list[Finding]:
    """The failed assertions of one SVRL report (a Saxon document node)."""
    rules.xpath.set_context(xdm_item=report)
    values = rules.xpath.evaluate(_FINDINGS_XPATH)
    if values is None:
        return []
    strings = [values.item_at(index).string_value for index in range(values.size)]
    return [
        Finding(rule_id=rule_id, flag=flag or "fatal", text=" ".join(text.split()), location=where)
        for rule_id, flag, where, text in zip(*[iter(strings)] * 4, strict=True)
    ]


def peppol_validate(xml: bytes) -> ValidationResult:
    """Run both official rule sets on ``xml``; fatal findings make the invoice invalid.

    Raises ``PeppolRulesUnavailable`` when the rules cannot be loaded: the caller must then
    refuse to issue, never treat the invoice as valid.
    """
    rules = _rules()
    try:
        tree = etree.fromstring(
            xml, parser=etree.XMLParser(resolve_entities=False, no_network=True)
        )
    except etree.XMLSyntaxError as exc:
        return ValidationResult(
            fatal=[
                Finding(NOT_WELL_FORMED, "fatal", f"The file is not well-formed XML: {exc}", "/")
            ],
            warnings=[],
        )
    # Saxon takes text; re-serialising through lxml hands it Unicode whatever the declared encoding.
    text = etree.tostring(tree, encoding="unicode")
    findings: list[Finding] = []
    # One lock per process around Saxon: its processor is shared and not documented as safe
    # for concurrent use from Python threads; workers are processes, so this costs nothing there.
    with _lock:
        node = rules.processor.parse_xml(xml_text=text)
        for executable in rules.executables:
            findings.extend(_findings(rules, executable.transform_to_value(xdm_node=node).head))
    return ValidationResult(
        fatal=[f for f in findings if f.flag == "fatal"],
        warnings=[f for f in findings if f.flag != "fatal"],
    )
