async def test_nap_returns(load_kata, make_runtime):
    sleeper = load_kata("02-sleeper", "sleeper.py")
    # No emulator guard (hang_timeout): the runner's own timeout is what stops a stuck nap.
    rt = make_runtime(durable_objects={"SLEEPER": sleeper.Sleeper}, hang_timeout=None)
    assert await rt.env.SLEEPER.getByName("a").nap() == "rested", "nap() should return 'rested'"


async def test_the_object_answers_a_ping(load_kata, make_runtime):
    sleeper = load_kata("02-sleeper", "sleeper.py")
    rt = make_runtime(durable_objects={"SLEEPER": sleeper.Sleeper})
    assert await rt.env.SLEEPER.getByName("a").ping() == "awake", "ping() should return 'awake'"
