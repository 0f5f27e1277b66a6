"""The compatibility-date matrix: each date-gated behaviour, on the day before and on the day.

* 2026-02-24 (`delete_all_deletes_alarm`): `deleteAll()` also deletes the alarm.
* 2026-03-17 (`websocket_standard_binary_type`): standard-API `message` events carry a Blob.
* 2026-04-07 (`web_socket_auto_reply_to_close`): the runtime answers a Close frame for a socket of
  the standard API (not for a hibernatable one, at any date).
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
        await self.ctx.storage.put("close seen", [code, ws.readyState])  # never closes back

    async def close_seen(self):
        return await self.ctx.storage.get("close seen")

    async def standard_close(self):
        """A standard-API pair inside the object: the client end closes, the server end's
        listener does not close back. What each end saw."""
        client, server = WebSocketPair.new()
        seen = {}
        server.accept()
        server.addEventListener("close", lambda e: seen.update(server=[e.code, server.readyState]))
        client.accept()
        client.addEventListener("close", lambda e: seen.update(client=[e.code, e.reason, e.wasClean]))
        client.close(4000, "bye")
        await asyncio.sleep(1)
        return [seen.get("server"), seen.get("client"), client.readyState]

    async def binary_message(self):
        """What a standard-API message listener receives for a binary message."""
        client, server = WebSocketPair.new()
        got = []
        client.accept()
        client.addEventListener("message", lambda e: got.append(e.data))
        server.accept()
        server.send(b"ab")
        await asyncio.sleep(0.01)
        data = got[0]
        return [client.binaryType, type(data).__name__, await data.bytes() if hasattr(data, "size") else data]

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


@pytest.mark.parametrize("date, server_sees, client_sees", [
    ("2026-04-06", [4000, 2], None),                          # CLOSING, no reply: the client waits
    ("2026-04-07", [4000, 3], [4000, "bye", True]),          # the runtime replied: CLOSED, clean
])
async def test_the_runtime_answers_a_standard_api_close_from_2026_04_07(make_runtime, date, server_sees,
                                                                      client_sees):
    rt = world(make_runtime, date)
    server, client, client_state = await rt.env.X.getByName("x").standard_close()
    assert server == server_sees
    assert client == client_sees
    assert client_state == (3 if client_sees else 2)


@pytest.mark.parametrize("date", ["2026-04-06", "2026-04-07", "2026-11-17"])
async def test_a_hibernatable_socket_is_never_answered_by_the_runtime(make_runtime, date):
    rt = world(make_runtime, date)
    stub = rt.env.X.getByName("x")
    client = await connect(stub, "http://do/")
    client.close(1000, "bye")
    assert await client.closed() == (1006, "", False)
    assert await stub.close_seen() == [1000, 2]  # CLOSING inside webSocketClose


@pytest.mark.parametrize("date, binary_type, received", [
    ("2026-03-16", "arraybuffer", ["arraybuffer", "bytes", b"ab"]),
    ("2026-03-17", "blob", ["blob", "Blob", b"ab"]),
])
async def test_binary_messages_arrive_as_a_blob_from_2026_03_17(make_runtime, date, binary_type, received):
    rt = world(make_runtime, date)
    assert await rt.env.X.getByName("x").binary_message() == received


@pytest.mark.parametrize("date, kept_alive", [("2026-09-30", False), ("2026-10-01", True)])
async def test_pending_io_keeps_an_idle_object_alive_from_2026_10_01(make_runtime, date, kept_alive):
    rt = world(make_runtime, date)
    stub = rt.env.X.getByName("x")
    await stub.start_timer(300)
    await rt.advance(301)
    assert (await stub.timer_done() is True) is kept_alive
    assert bool(rt.trace.select("evict", object="x")) is not kept_alive
