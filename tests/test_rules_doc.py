from __future__ import annotations

from tests.tools.rules_doc import TARGET, render, rules


def test_docs_rules_md_is_current():
    """docs/rules.md maps every rule id to the tests naming it; regenerate when tests change."""
    assert TARGET.read_text(encoding="utf-8") == render(), (
        "docs/rules.md is stale: run `python -m tests.tools.rules_doc --write`"
    )


def test_every_shared_rule_is_listed():
    listed = [rule_id for rule_id, _ in rules()]
    assert len(listed) == len(set(listed)) > 50
    text = TARGET.read_text(encoding="utf-8")
    assert all(f"## {rule_id}\n" in text for rule_id in listed)
