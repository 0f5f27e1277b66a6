"""Compatibility flags move a date-gated switch, as in workerd's compatibility-date.capnp.

Each behaviour that changes on a date has an enable flag (on before its date) and a disable flag
(off after it); a Wrangler config's `compatibility_flags` reach the world through
`load_project` and `dojo serve` (`project.configure_world`). The flag names are the ones
workerd 1.20261117.1 knows, and both flags of one switch together are refused with workerd's
message.
"""

from __future__ import annotations

import pytest

from durable_dojo._core.runtime import Compatibility
from durable_dojo._core.wrangler import ConfigError
from durable_dojo.testing import load_project

SWITCHES = [
    # (attribute, a date before it turns on, a date after, enable flag, disable flag)
    ("delete_all_deletes_alarm", "2026-02-23", "2026-02-24", "delete_all_deletes_alarm", "delete_all_preserves_alarm"),
    ("web_socket_auto_reply_to_close", "2026-04-06", "2026-04-07", "web_socket_auto_reply_to_close",
     "web_socket_manual_reply_to_close"),
    ("websocket_standard_binary_type", "2026-03-16", "2026-03-17", "websocket_standard_binary_type",
     "no_websocket_standard_binary_type"),
    ("pending_io_keeps_alive", "2026-09-30", "2026-10-01", "durable_object_io_tasks_prevent_eviction",
     "durable_object_io_tasks_do_not_prevent_eviction"),
]


@pytest.mark.parametrize(("attribute", "before", "after", "enable", "disable"), SWITCHES,
                         ids=[s[0] for s in SWITCHES])
def test_the_enable_flag_turns_a_switch_on_before_its_date_and_the_disable_flag_off_after(
        attribute, before, after, enable, disable):
    def switch(date, flags=()):
        return getattr(Compatibility(date, flags), attribute)

    assert (switch(before), switch(after)) == (False, True)  # the date alone
    assert switch(before, [enable]) is True
    assert switch(after, [disable]) is False
    assert switch(after, ["python_workers", enable]) is True  # other flags change nothing here


@pytest.mark.parametrize(("attribute", "before", "after", "enable", "disable"), SWITCHES,
                         ids=[s[0] for s in SWITCHES])
def test_both_flags_of_one_switch_are_refused_as_workerd_refuses_them(attribute, before, after, enable, disable):
    with pytest.raises(ValueError, match=f"^Compatibility flags are mutually contradictory: {enable} vs {disable}$"):
        Compatibility(after, [enable, disable])


WRANGLER = """\
name = "flags"
main = "entry.py"
compatibility_date = "2026-11-01"
compatibility_flags = ["python_workers", "delete_all_preserves_alarm"]

[[durable_objects.bindings]]
name = "A"
class_name = "Alarmed"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["Alarmed"]
"""

ENTRY = """\
from workers import DurableObject, Response, WorkerEntrypoint


class Alarmed(DurableObject):
    async def arm_then_delete_all(self):
        await self.ctx.storage.setAlarm(1767229200000)
        await self.ctx.storage.deleteAll()
        return await self.ctx.storage.getAlarm()


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return Response(str(await self.env.A.getByName("a").arm_then_delete_all()))
"""


def _project(tmp_path, flags: str):
    folder = tmp_path / f"flags_{tmp_path.name}".replace("-", "_")
    folder.mkdir(parents=True)
    (folder / "wrangler.toml").write_text(WRANGLER.replace('"delete_all_preserves_alarm"', flags))
    (folder / "entry.py").write_text(ENTRY)
    return folder


async def test_a_projects_compatibility_flags_reach_the_world(tmp_path):
    """The disable flag keeps the alarm through deleteAll() at a date after 2026-02-24."""
    rt = load_project(_project(tmp_path, '"delete_all_preserves_alarm"'))
    try:
        assert rt.compat.flags == ("python_workers", "delete_all_preserves_alarm")
        assert await (await rt.fetch("https://example.com/")).text() == "1767229200000"  # the alarm kept
    finally:
        rt.close()
    rt = load_project(_project(tmp_path / "default", '"nodejs_compat"'))  # the date alone: deleted
    try:
        assert await (await rt.fetch("https://example.com/")).text() == "None"
    finally:
        rt.close()


def test_a_project_with_both_flags_of_one_switch_is_refused_naming_its_config(tmp_path):
    folder = _project(tmp_path, '"delete_all_preserves_alarm", "delete_all_deletes_alarm"')
    with pytest.raises(ConfigError, match="wrangler.toml: Compatibility flags are mutually contradictory"):
        load_project(folder)


def test_dojo_serve_applies_the_configs_flags_too(tmp_path):
    from durable_dojo._core.project import load
    from durable_dojo._serve.server import build_runtime

    rt = build_runtime(load(_project(tmp_path, '"delete_all_preserves_alarm"')), seed=1)
    try:
        assert rt.compat.delete_all_deletes_alarm is False and rt.compat.date == "2026-11-01"
    finally:
        rt.close()
