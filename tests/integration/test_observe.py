"""What the stack's tools read from Kafka, at its edges: a broker that has only just started."""

from __future__ import annotations

from aiokafka.errors import CoordinatorLoadInProgressError, GroupLoadInProgressError
from cpc_stack.observe import _groups


class LoadingAdmin:
    """Answers "still loading" a few times, as a freshly started broker does, then lists its groups."""

    def __init__(self, refusals: list[Exception]) -> None:
        self.refusals = refusals
        self.asked = 0

    async def list_consumer_groups(self) -> list[tuple[str, str]]:
        self.asked += 1
        if self.refusals:
            raise self.refusals.pop(0)
        return [("cpc-scheduling.cpc.casemgmt", "consumer"), ("someone-else", "consumer")]


async def test_a_broker_still_loading_its_groups_is_waited_for_not_reported():
    admin = LoadingAdmin([GroupLoadInProgressError(), CoordinatorLoadInProgressError()])
    assert await _groups(admin, "cpc-") == ["cpc-scheduling.cpc.casemgmt"]  # type: ignore[arg-type]
    assert admin.asked == 3


async def test_a_broker_that_never_finishes_loading_is_reported_after_the_patience():
    admin = LoadingAdmin([GroupLoadInProgressError()] * 100)
    try:
        await _groups(admin, "cpc-", patience=0.6)  # type: ignore[arg-type]
    except GroupLoadInProgressError:
        pass
    else:
        raise AssertionError("kept waiting past its patience")
    assert 2 <= admin.asked < 100
