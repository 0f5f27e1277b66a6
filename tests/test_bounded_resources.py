"""Bounded resources: persisted objects do not each keep their SQLite file open, and closed
hibernatable WebSockets leave their object's list."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

MANY_OBJECTS = textwrap.dedent('''
    import resource, sys
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
    from durable_dojo import Runtime
    from workers import DurableObject

    class Counter(DurableObject):
        async def bump(self):
            n = (await self.ctx.storage.get("n") or 0) + 1
            await self.ctx.storage.put("n", n)
            self.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS log(at)")
            self.ctx.storage.sql.exec("INSERT INTO log VALUES (?)", n)
            return n

        async def total(self):
            return [await self.ctx.storage.get("n"), self.ctx.storage.sql.exec("SELECT count(*) AS c FROM log").one()["c"]]

    count = int(sys.argv[2])
    rt = Runtime(durable_objects={"C": Counter}, persist_to=sys.argv[1], hang_timeout=None)
    for i in range(count):
        assert rt.run(rt.env.C.getByName(f"c{i}").bump()) == 1
    for i in range(count):  # every object again, with its file opened anew
        assert rt.run(rt.env.C.getByName(f"c{i}").bump()) == 2
    rt.close()
    again = Runtime(durable_objects={"C": Counter}, persist_to=sys.argv[1], hang_timeout=None)
    assert [again.run(again.env.C.getByName(f"c{i}").total()) for i in range(count)] == [[2, 2]] * count
    print("ok", count)
''')


def test_hundreds_of_persisted_objects_work_under_a_small_descriptor_limit(tmp_path):
    # 400 objects x 3 descriptors per open SQLite file would need 1,200 descriptors; 256 are allowed.
    result = subprocess.run([sys.executable, "-c", MANY_OBJECTS, str(tmp_path / "data"), "400"],
                            capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "ok 400"


from durable_dojo import Runtime  # noqa: E402
from durable_dojo.testing import connect  # noqa: E402
from js import WebSocketPair  # noqa: E402
from workers import DurableObject, Response  # noqa: E402


class Room(DurableObject):
    async def fetch(self, request):
        client, server = WebSocketPair.new()
        self.ctx.acceptWebSocket(server, ["room"])
        return Response(None, status=101, web_socket=client)

    async def webSocketMessage(self, ws, message):
        if message == "bye":
            ws.close(1000, "bye")

    def count(self):
        return len(self.ctx.getWebSockets())


async def test_closed_hibernatable_sockets_leave_the_objects_list():
    rt = Runtime(durable_objects={"ROOM": Room})
    stub = rt.env.ROOM.getByName("r")
    keeper = await connect(stub)
    for i in range(300):  # closed by the client, by the object, or cut
        ws = await connect(stub)
        if i % 3 == 0:
            ws.close(1000, "done")
        elif i % 3 == 1:
            ws.send("bye")
        else:
            ws.drop()
        await rt.run_until_idle()
    host = stub._host
    assert len(host.sockets) == 1 and host.sockets[0].readyState == 1  # only the keeper's end
    assert await stub.count() == 1
    await rt.evict(stub)  # hibernation keeps the open one
    keeper.send("still here")
    await rt.run_until_idle()
    assert await stub.count() == 1
    rt.close()


class Note(DurableObject):
    async def write(self, value):
        await self.ctx.storage.put("v", value)

    async def read(self):
        return await self.ctx.storage.get("v")


async def test_evicted_objects_do_not_keep_a_record_each():
    from durable_dojo._core.runtime import KEPT_EVICTED_RECORDS

    rt = Runtime(durable_objects={"NOTE": Note})
    held = rt.env.NOTE.getByName("n0")  # a stub the test keeps across the eviction
    count = KEPT_EVICTED_RECORDS + 1500
    for i in range(count):
        await rt.env.NOTE.getByName(f"n{i}").write(i)
    await rt.evict_all()
    assert len(rt._hosts) <= KEPT_EVICTED_RECORDS  # used to be one record per object, forever
    # Storage kept everything, and a stub held across the eviction reaches the same object as a new one.
    assert [await rt.env.NOTE.getByName(f"n{i}").read() for i in (0, 1, count - 1)] == [0, 1, count - 1]
    await held.write("again")
    assert await rt.env.NOTE.getByName("n0").read() == "again"
    assert held._host is rt.env.NOTE.getByName("n0")._host
    rt.close()
