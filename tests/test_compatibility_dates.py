"""The compatibility-date matrix: each date-gated behaviour, on the day before and on the day.

* 2026-02-24 (`delete_all_deletes_alarm`): `deleteAll()` also deletes the alarm.
* 2026-04-07 (`web_socket_auto_reply_to_close`): the runtime answers a client's Close frame.
* 2026-10-01 (`durable_object_io_tasks_prevent_eviction`): pending I/O keeps an idle object alive.
"""

import asyncio

import pytest

from durable_dojo.testing import connect
from js import WebSocketPair
from workers import DurableObject, Response


class Everything(DurableObject):
    async def arm_then_delete_all(self):
        await self.ctx.storage.put("k", "v")
        await self.ctx.storage.setAlarm(self._now() + 60_000)
        await self.ctx.storage.deleteAll()
        return await self.ctx.storage.getAlarm()

    async def alarm(self, info=None):
        await self.ctx.storage.put("alarm ran", True)

    async def alarm_ran(self):
        return await self.ctx.storage.get("alarm ran")

    async def fetch(self, request):
        client, server = WebSocketPair.new()
        self.ctx.acceptWebSocket(server)
        return Response(None, status=101, web_socket=client)

    async def webSocketClose(self, ws, code, reason, was_clean):
        pass  # never closes back

    async def start_timer(self, seconds):
        async def later():
            await asyncio.sleep(seconds)
            await self.ctx.storage.put("timer done", True)

        asyncio.get_running_loop().create_task(later())

    async def timer_done(self):
        return await self.ctx.storage.get("timer done")

    def _now(self):
        from js import Date

        return Date.now()


def world(make_runtime, date):
    return make_runtime(durable_objects={"X": Everything}, compatibility_date=date)


@pytest.mark.parametrize("date, alarm_kept", [("2026-02-23", True), ("2026-02-24", False)])
async def test_delete_all_deletes_the_alarm_from_2026_02_24(make_runtime, date, alarm_kept):
    rt = world(make_runtime, date)
    stub = rt.env.X.getByName("x")
    assert (await stub.arm_then_delete_all() is not None) is alarm_kept
    await rt.advance(120)
    assert (await stub.alarm_ran() is True) is alarm_kept


@pytest.mark.parametrize("date, client_sees", [("2026-04-06", (1006, "", False)), ("2026-04-07", (1000, "bye", True))])
async def test_the_runtime_answers_a_close_from_2026_04_07(make_runtime, date, client_sees):
    rt = world(make_runtime, date)
    client = await connect(rt.env.X.getByName("x"), "http://do/")
    client.close(1000, "bye")
    assert await client.closed() == client_sees


@pytest.mark.parametrize("date, kept_alive", [("2026-09-30", False), ("2026-10-01", True)])
async def test_pending_io_keeps_an_idle_object_alive_from_2026_10_01(make_runtime, date, kept_alive):
    rt = world(make_runtime, date)
    stub = rt.env.X.getByName("x")
    await stub.start_timer(300)
    await rt.advance(301)
    assert (await stub.timer_done() is True) is kept_alive
    assert bool(rt.trace.select("evict", object="x")) is not kept_alive
