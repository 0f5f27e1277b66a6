"""The persist directory holds only what the world put there, and the world stays inside it."""

from __future__ import annotations

import logging
import os

import pytest

from durable_dojo import Runtime
from durable_dojo.testing import list_durable_object_ids
from workers import DurableObject


class Note(DurableObject):
    async def alarm(self, info=None):
        await self.ctx.storage.put("rang", True)

    async def write(self, value):
        await self.ctx.storage.put("v", value)
        await self.ctx.storage.setAlarm(1_767_225_660_000)

    async def read(self):
        return await self.ctx.storage.get("v")


def test_foreign_files_in_a_namespace_folder_are_skipped_with_a_warning(tmp_path, caplog):
    first = Runtime(durable_objects={"NOTES": Note}, persist_to=tmp_path)
    first.run(first.env.NOTES.getByName("a").write(1))
    first.close()
    folder = tmp_path / "Note"
    (folder / "notes.sqlite").write_text("my own notes")  # a stray file with the right suffix
    other = Runtime(durable_objects={"X": Note}, unique_keys={"X": "elsewhere"})
    (folder / (other.env.X.getByName("a").id.toString() + ".sqlite")).write_text("")  # another namespace's id

    with caplog.at_level(logging.WARNING, logger="durable_dojo"):
        second = Runtime(durable_objects={"NOTES": Note}, persist_to=tmp_path)
    assert second.run(second.env.NOTES.getByName("a").read()) == 1
    skipped = [r.getMessage() for r in caplog.records if "Skipping" in r.getMessage()]
    assert len(skipped) == 2 and any("notes.sqlite" in m for m in skipped)
    ids = [i.toString() for i in list_durable_object_ids(second.env.NOTES)]
    assert ids == [second.env.NOTES.idFromName("a").toString()]
    assert (folder / "notes.sqlite").read_text() == "my own notes"  # left alone
    second.close()


@pytest.mark.parametrize("key", ["../outside", "a/b", "..", ".", "", "x\0y"])
def test_namespace_keys_that_would_leave_the_persist_directory_are_refused(tmp_path, key):
    inside = tmp_path / "data"
    with pytest.raises(ValueError, match="cannot be used with persist_to"):
        Runtime(durable_objects={"NOTES": Note}, unique_keys={"NOTES": key}, persist_to=inside)
    assert sorted(os.listdir(tmp_path)) in ([], ["data"])
    Runtime(durable_objects={"NOTES": Note}, unique_keys={"NOTES": key} if key else {})  # fine in memory
