"""The alerting loops of one server process: the outbox relay and the delivery sender."""

from __future__ import annotations

from litestar.datastructures import State

from app.core.loop import Loop
from app.domain.alerts import outbox, runtime, sender


class _Sender(sender.DeliverySender):
    """The sender owns the shared :class:`runtime.Alerting` (stopped last, it closes it)."""

    async def stop(self) -> None:
        await super().stop()
        await self.alerting.aclose()


def build(
    state: State,
    relay_config: outbox.RelayConfig | None = None,
    sender_config: sender.SenderConfig | None = None,
    policy: runtime.DeliveryPolicy | None = None,
) -> list[Loop]:
    """``[relay, sender]`` sharing one :class:`runtime.Alerting`; the relay wakes the sender
    when it created deliveries (the idle sender sleeps until the first pending delivery is due,
    at most ``SenderConfig.idle_interval``, so this wake-up is what sends a new one at once)."""
    alerting = runtime.Alerting(state.settings, state.plugins, policy)
    send = _Sender(state.db, alerting, sender_config)
    relay = outbox.OutboxRelay(state.db, alerting, relay_config, on_deliveries=send.wake)
    return [relay, send]
