async def test_first_increment_returns_one(load_kata, make_runtime):
    counter = load_kata("01-counter", "counter.py")
    rt = make_runtime(durable_objects={"COUNTER": counter.Counter})
    n = await rt.env.COUNTER.getByName("a").increment()
    assert n == 1, f"the first increment should return 1, got {n!r}"


async def test_count_survives_eviction(load_kata, make_runtime):
    counter = load_kata("01-counter", "counter.py")
    rt = make_runtime(durable_objects={"COUNTER": counter.Counter})
    stub = rt.env.COUNTER.getByName("a")
    await stub.increment()
    await rt.evict(stub)
    n = await stub.increment()
    assert n == 2, f"the count was lost when the object was evicted: got {n!r}, expected 2"
