"""Kata 02, a cart that is never found again: a shopper's requests must reach one object.

`newUniqueId()` makes a brand-new, empty object every time it is called. An object that must be
found again is addressed by a name derived from what it belongs to (`getByName(f"user:{id}")`).
"""

import json

import pytest

from durable_dojo.testing import list_durable_object_ids

KATA = "02-cart-never-found"
SHOP = "https://shop.example.com"


@pytest.fixture
def cart(load_kata):
    return load_kata(KATA, "cart.py")


@pytest.fixture
def shop(cart, make_runtime):
    return make_runtime(durable_objects={"CARTS": cart.Cart}, worker=cart.Shop)


def excerpt(rt, *kinds, last=12):
    events = [e for e in rt.trace if any(e.kind == k or (k.endswith(":") and e.kind.startswith(k)) for k in kinds)]
    return rt.trace.format(events, last=last) or "(no such events)"


async def add(rt, user, sku, qty=1):
    response = await rt.fetch(f"{SHOP}/cart/{user}/items", method="POST", body=json.dumps({"sku": sku, "qty": qty}),
                             headers={"content-type": "application/json"})
    assert response.status == 201, f"POST /cart/{user}/items should answer 201, not {response.status}."
    return await response.json()


async def cart_of(rt, user):
    response = await rt.fetch(f"{SHOP}/cart/{user}")
    assert response.status == 200, f"GET /cart/{user} should answer 200, not {response.status}."
    return await response.json()


async def test_adding_an_item_answers_with_the_cart(shop):
    body = await add(shop, "alice", "teapot", 2)
    assert body == {"user": "alice", "items": {"teapot": 2}}, (
        f"Adding 2 teapots should answer the cart with them in it, not {body}.")


async def test_shoppers_do_not_share_a_cart(shop):
    await add(shop, "alice", "teapot")
    body = await add(shop, "bob", "kettle")
    assert body["items"] == {"kettle": 1}, (
        f"Bob added a kettle to his own cart, and his cart answered {body['items']}: "
        "Bob's cart must not contain Alice's teapot.")
    assert (await cart_of(shop, "carol"))["items"] == {}, "Carol never added anything: her cart must be empty."


async def test_the_cart_is_there_on_the_next_request(shop):
    await add(shop, "alice", "teapot", 2)
    await add(shop, "alice", "cups", 6)
    body = await cart_of(shop, "alice")
    assert body["items"] == {"teapot": 2, "cups": 6}, (
        f"Alice added 2 teapots, then 6 cups, then looked at her cart and saw {body['items']}.\n"
        "Each request reached a different object: every new ID is a new, empty Durable Object, "
        "and nothing remembers which ID was Alice's.\n"
        "Trace (each 'constructor' is a brand-new object; the second column names the object):\n"
        + excerpt(shop, "constructor", "rpc:start", "storage:"))


async def test_each_shopper_has_exactly_one_cart_object(shop):
    for sku in ("teapot", "cups", "tray"):
        await add(shop, "alice", sku)
    await cart_of(shop, "alice")
    await add(shop, "bob", "kettle")
    await cart_of(shop, "bob")
    ids = list_durable_object_ids(shop.env.CARTS)
    assert len(ids) == 2, (
        f"Two shoppers made 6 requests, and the CARTS namespace now holds {len(ids)} objects "
        "(expected 2: one cart per shopper). Every other object holds a piece of a cart that "
        "nobody can find again, and its stored data stays (and is billed) forever.\n"
        "Trace:\n" + excerpt(shop, "constructor", "rpc:start"))


async def test_the_cart_is_found_after_a_restart(shop):
    shoppers = {"alice": ["teapot", "cups"], "bob": ["kettle"], "dan": ["tray", "spoons", "sugar"]}
    for user, skus in shoppers.items():
        for sku in skus:
            await add(shop, user, sku)
    await shop.evict_all()  # a deploy: every object and every isolate of the Worker starts over
    carts = {user: sorted((await cart_of(shop, user))["items"]) for user in shoppers}
    expected = {user: sorted(skus) for user, skus in shoppers.items()}
    assert carts == expected, (
        f"Three shoppers filled their carts, then the Worker restarted (a deploy); now their carts hold "
        f"{carts}, expected {expected}.\n"
        "Whatever the Worker kept in memory (a dict of ids at module level included) is gone after a "
        "restart, and it was never shared with the Worker's other isolates anyway. A cart that must be "
        "found again needs an ID that can be computed again from the shopper: idFromName / getByName.\n"
        "Trace:\n" + excerpt(shop, "constructor", "evict", "rpc:start"))
