"""`./dev chaos` in short: each service killed (SIGKILL) once under a steady load of requests, Kafka restarted
once and the store once; every request handled exactly once, nothing double-booked, told twice,
dead-lettered or lost."""

from __future__ import annotations

import pytest
from cpc_stack import infra, services
from cpc_stack.chaos import Plan, run_chaos

pytestmark = pytest.mark.e2e


@pytest.fixture
def chaos_then_test_services(stack, service_env):
    """The run stops the session's services and starts its own (own databases); afterwards the session's
    services come back as the session started them, with Kafka and the store running."""
    try:
        yield
    finally:
        infra.up()
        services.stop()
        services.start(stack, extra_env=service_env)


def test_kills_and_restarts_under_load_lose_and_double_nothing(stack, chaos_then_test_services, capsys):
    plan = Plan(minutes=1.5, rate=0.4, seed=15, kills=5)
    lines: list[str] = []
    result = run_chaos(plan, lines.append)
    with capsys.disabled():
        print("\n" + "\n".join(lines))

    kinds = sorted(f.target for f in result.faults)
    assert kinds == sorted([*services.SERVICES, "kafka", "ferretdb"]), "each service killed once, Kafka and the store once"
    assert all(f.answering is not None and f.caught_up is not None for f in result.faults), "every fault recovered from"
    assert result.requests >= int(plan.minutes * 60 * plan.rate) - 1  # on until every fault is recovered from
    assert result.settled
    assert result.scheduled + sum(result.unscheduled.values()) == result.requests, "every request handled"
    assert result.scheduled >= result.requests * 0.8, "most requests scheduled (a few may be left late, with a reason)"
    assert not result.dead_letters
    assert result.notifications > result.scheduled * 5  # the invitations and the report requests went out
    assert result.failures == []
