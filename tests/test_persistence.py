"""Persistence: `Runtime(persist_to=DIR)` keeps storage and alarms on disk (issue: emulator depth).

One SQLite file per object, laid out as workerd's local disk storage is. A new world on the same
folder (a restarted kernel, another process) sees the same data, and killing a process in the
middle of its writes never leaves a file that fails to open or holds half of a batch.
"""

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

from durable_dojo import Runtime
from durable_dojo.testing import list_durable_object_ids
from workers import DurableObject


class Ledger(DurableObject):
    async def record(self, n):
        self.ctx.storage.put({"a": n, "b": n})  # one batch: both or neither
        return n

    async def read(self):
        return await self.ctx.storage.get(["a", "b"])

    async def schedule(self, seconds):
        await self.ctx.storage.setAlarm(_now(self) + seconds * 1000)

    async def alarm(self, info):
        await self.ctx.storage.put("alarm_ran_at", _now(self))

    async def alarm_ran_at(self):
        return await self.ctx.storage.get("alarm_ran_at")


def _now(obj):
    from js import Date

    return Date.now()


def test_a_new_world_on_the_same_folder_sees_the_stored_data(tmp_path):
    first = Runtime(durable_objects={"LEDGER": Ledger}, persist_to=tmp_path)
    first.run(first.env.LEDGER.getByName("acct").record(41))
    first.close()
    files = os.listdir(tmp_path / "Ledger")
    assert files == [first.env.LEDGER.idFromName("acct").toString() + ".sqlite"]

    second = Runtime(durable_objects={"LEDGER": Ledger}, persist_to=tmp_path)
    assert second.run(second.env.LEDGER.getByName("acct").read()) == {"a": 41, "b": 41}
    assert [i.toString() for i in list_durable_object_ids(second.env.LEDGER)] == [files[0].removesuffix(".sqlite")]
    second.close()


def test_a_stored_alarm_fires_in_the_next_world(tmp_path):
    first = Runtime(durable_objects={"LEDGER": Ledger}, persist_to=tmp_path)
    first.run(first.env.LEDGER.getByName("acct").schedule(3600))
    due = first.now() + 3_600_000
    first.close()

    second = Runtime(durable_objects={"LEDGER": Ledger}, persist_to=tmp_path)
    second.run(second.advance(3601))
    assert second.run(second.env.LEDGER.getByName("acct").alarm_ran_at()) == due
    second.close()


def test_another_process_sees_what_this_one_committed(tmp_path):
    world = Runtime(durable_objects={"LEDGER": Ledger}, persist_to=tmp_path)
    world.run(world.env.LEDGER.getByName("acct").record(7))
    script = textwrap.dedent(f"""
        import sys; sys.path.insert(0, {os.path.dirname(__file__)!r})
        from test_persistence import Ledger
        from durable_dojo import Runtime
        rt = Runtime(durable_objects={{"LEDGER": Ledger}}, persist_to={str(tmp_path)!r})
        print(rt.run(rt.env.LEDGER.getByName("acct").read()))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "{'a': 7, 'b': 7}", out.stderr
    world.close()


WRITER = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[2])
    from test_persistence import Ledger
    from durable_dojo import Runtime

    rt = Runtime(durable_objects={"LEDGER": Ledger}, persist_to=sys.argv[1], hang_timeout=None)
    stub = rt.env.LEDGER.getByName("acct")
    start = (rt.run(stub.read()) or {}).get("a", 0)
    print("ready", flush=True)
    for n in range(start + 1, start + 200_000):  # bounded; the parent kills it long before
        rt.run(stub.record(n))
""")


def test_killing_a_writer_with_sigkill_never_leaves_half_a_batch(tmp_path):
    rng = random.Random(1)
    seen = []
    for _ in range(5):
        child = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), os.path.dirname(__file__)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.1, 0.4))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        world = Runtime(durable_objects={"LEDGER": Ledger}, persist_to=tmp_path)
        values = world.run(world.env.LEDGER.getByName("acct").read())
        world.close()
        assert values["a"] == values["b"]  # never one key of a batch without the other
        seen.append(values["a"])
    assert seen == sorted(seen) and seen[-1] > seen[0] > 0  # every run made (and kept) progress
