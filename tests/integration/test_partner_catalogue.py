"""The partner catalogue is a valid AsyncAPI 3.0 document by AsyncAPI's own parser, and renders as HTML with its
generator (Node packages, installed on demand)."""

import json

from cpc_stack.docs import PARTNERS_PATH
from cpc_stack.node import parse_asyncapi


def test_the_official_asyncapi_parser_accepts_the_partner_catalogue():
    verdict = parse_asyncapi(PARTNERS_PATH)
    problems = [d for d in verdict["diagnostics"] if d["severity"] in ("error", "warning")]
    assert verdict["valid"] and not problems, problems
    assert verdict["summary"]["version"] == "3.0.0"
    assert set(verdict["summary"]["channels"]) == {"partner.cpis.plans", "partner.agency.{agency}"}
    assert len(verdict["summary"]["messages"]) == 8


def test_the_parser_would_catch_a_broken_catalogue(tmp_path):
    document = json.loads(PARTNERS_PATH.read_text())
    document["operations"]["receivePlans"]["channel"] = {"$ref": "#/channels/noSuchChannel"}
    del document["components"]["messages"]["ChildProtectionPlanStarted"]["payload"]
    document["components"]["messages"]["ChildProtectionPlanEnded"]["payload"] = {"type": "no-such-type"}
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(document))
    verdict = parse_asyncapi(broken)
    assert not verdict["valid"] or any(d["severity"] == "error" for d in verdict["diagnostics"])


def test_the_partner_catalogue_renders_as_a_page_partners_can_read(tmp_path):
    from cpc_stack.node import render_html

    page = render_html(PARTNERS_PATH, tmp_path).read_text()
    for words in ("partner.cpis.plans", "partner.agency.{agency}", "cpc.partner.ChildProtectionPlanStarted.v1",
                  "cpc.partner.AgencyInvited.v1", "scramSha512", "subject_id"):
        assert words in page, words
