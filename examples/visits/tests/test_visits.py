"""The project's own tests: pytest with durable-dojo installed, nothing else.

    pytest examples/visits
"""

from pathlib import Path

from durable_dojo.testing import run_test_entry

PROJECT = Path(__file__).resolve().parent.parent


async def test_each_page_counts_its_own_visits(make_project):
    rt = make_project(PROJECT)
    first = await rt.fetch("https://example.com/pricing")
    second = await rt.fetch("https://example.com/pricing")
    other = await rt.fetch("https://example.com/docs")
    assert await first.text() == "Hello: /pricing has 1 visits"
    assert await second.text() == "Hello: /pricing has 2 visits"
    assert await other.text() == "Hello: /docs has 1 visits"


async def test_the_count_survives_eviction(make_project):
    rt = make_project(PROJECT)
    await rt.fetch("https://example.com/")
    await rt.evict_all()
    response = await rt.fetch("https://example.com/")
    assert await response.text() == "Hello: / has 2 visits"


async def test_the_workers_own_test_entry_passes(make_project):
    await run_test_entry(make_project(PROJECT))
