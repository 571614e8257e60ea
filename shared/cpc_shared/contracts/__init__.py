"""The event contracts: inbound from the case-management system (fixed) and our own outbound events."""

from cpc_shared.contracts.catalogue import CATALOGUE, Topics, model_for
from cpc_shared.contracts.inbound import (
    CaseDetailsChanged,
    ConferenceCancellationRequested,
    ConferenceOutcomeRecorded,
    ConferenceRequested,
)

__all__ = [
    "CATALOGUE",
    "CaseDetailsChanged",
    "ConferenceCancellationRequested",
    "ConferenceOutcomeRecorded",
    "ConferenceRequested",
    "Topics",
    "model_for",
]
