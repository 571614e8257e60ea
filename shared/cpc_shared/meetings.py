"""Links for virtual and hybrid conferences, through a small provider interface the profile chooses."""

from __future__ import annotations

from typing import Protocol

from cpc_shared.profile import MeetingLinks


class MeetingLinkProvider(Protocol):
    def link_for(self, conference_id: str) -> str:
        """The address every remote participant uses to join this conference."""


class TemplateLinks:
    """The council's own meeting service, one address per conference from a template."""

    def __init__(self, address_template: str) -> None:
        self._template = address_template

    def link_for(self, conference_id: str) -> str:
        return self._template.format(conference_id=conference_id)


def meeting_links(config: MeetingLinks) -> MeetingLinkProvider:
    match config.provider:
        case "template":
            return TemplateLinks(config.address_template)
    raise ValueError(f"no meeting link provider {config.provider!r}")
