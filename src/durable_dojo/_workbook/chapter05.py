"""Checks of chapter 5 (alarms): a digest that reschedules itself and is not pushed back by
callers; an outbox delivered exactly once through failures and retries."""

from __future__ import annotations

from .framework import NotYet, attempt, checks, excerpt, require_class, world

MINUTE = 60


@checks("05-every-minute")
async def every_minute(Digest) -> str:
    from workers import DurableObject

    require_class(Digest, "Digest", "start", "alarm", "sent", base=DurableObject)
    with world({"DIGEST": Digest}) as rt:
        team = rt.env.DIGEST.getByName("team")
        await attempt("start()", team.start(), Digest, rt)
        await rt.advance(MINUTE + 1)
        first = await attempt("sent()", team.sent(), Digest, rt)
        if first != 1:
            raise NotYet(f"start() was called once; 61 s later sent() is {first!r}, expected 1: the first digest "
                         "goes out a minute after start().\nTrace:\n" + excerpt(rt, "alarm:", "rpc:start"))
        await rt.advance(2 * MINUTE - 2)
        early = await attempt("sent()", team.sent(), Digest, rt)
        if isinstance(early, int) and early > 2:
            raise NotYet(f"179 s after start() sent() is {early!r}, expected 2 (at 60 and 120 s; the third is due "
                         "at 180 s): one digest a minute, 60 s apart, not sooner.\nTrace:\n" + excerpt(rt, "alarm:"))
        await rt.advance(2)
        later = await attempt("sent()", team.sent(), Digest, rt)
        if later != 3:
            raise NotYet(f"After 3 minutes sent() is {later!r}, expected 3 (one digest a minute). An alarm "
                         "fires once: alarm() must set the next one itself.\nTrace:\n" + excerpt(rt, "alarm:"))

        busy = rt.env.DIGEST.getByName("busy-team")  # start() on every page load, every 30 s
        for _ in range(10):
            await attempt("start()", busy.start(), Digest, rt)
            await rt.advance(MINUTE / 2)
        await rt.advance(1)
        sent = await attempt("sent()", busy.sent(), Digest, rt)
        if sent != 5:
            raise NotYet(
                f"A busy team calls start() every 30 s, ten times; after 301 s sent() is {sent!r}, expected 5 (at "
                "60, 120, 180, 240 and 300 s). Each start() must leave an alarm that is already set alone: "
                "setAlarm() replaces it, so a start() every 30 s pushes the next digest back for ever. Ask "
                "getAlarm() first (a field is no help: the object hibernates between page loads).\nTrace:\n"
                + excerpt(rt, "alarm:", "rpc:start", "hibernate", last=10))
    return ("One alarm a minute, set again by alarm() itself, and start() leaves a pending alarm alone, "
            "so callers cannot push the digest back, even across hibernation.")


# ----- 05-deliver-once -----

INBOX = "https://partner.example.com/inbox"


class _Partner:
    """The partner's API: refuses the first attempt of some messages with a 503, records the rest."""

    def __init__(self, refuse_once):
        self.refuse_once = set(refuse_once)
        self.delivered: list[str] = []
        self.refused: list[str] = []

    async def __call__(self, request):
        from workers import Response

        if request.url != INBOX or request.method != "POST":
            return Response("not found", status=404)
        body = await request.text()
        if body in self.refuse_once:
            self.refuse_once.discard(body)
            self.refused.append(body)
            return Response("busy, try later", status=503)
        self.delivered.append(body)
        return Response("ok")


@checks("05-deliver-once")
async def deliver_once(Outbox) -> str:
    from workers import DurableObject

    require_class(Outbox, "Outbox", "send", "alarm", base=DurableObject)
    partner = _Partner(refuse_once={"m3"})
    with world({"OUTBOX": Outbox}, outbound=partner) as rt:
        outbox = rt.env.OUTBOX.getByName("acme")
        for n in range(1, 6):
            await attempt(f"send('m{n}')", outbox.send(f"m{n}"), Outbox, rt)
        await rt.advance(1.015)  # the alarm is delivering: a message sent now must not be lost
        late = outbox.send("m6")
        await rt.advance(600)
        await attempt("send('m6')", late, Outbox, rt)
        await rt.advance(600)
        expected = [f"m{n}" for n in range(1, 7)]
        got = partner.delivered
        trace = "\nTrace:\n" + excerpt(rt, "alarm:", "fetch:", last=14)
        duplicates = sorted({m for m in got if got.count(m) > 1})
        missing = [m for m in expected if m not in got]
        story = (f"m1 to m5 were sent, then m6 while the alarm was delivering; the partner refused m3's first "
                 f"attempt with a 503. The partner received {got}.")
        if duplicates:
            raise NotYet(f"{story} {', '.join(duplicates)} arrived more than once. When the alarm runs again after "
                         "a failure, it must not send what was already delivered: remove each message from "
                         "storage as soon as the partner took it." + trace)
        if missing:
            if partner.refused and "m3" in missing:
                why = ("m3 was refused once and never sent again. A failed delivery must stay in storage, and the "
                       "alarm must fail (raise) or set itself again, so that it runs once more.")
            elif "m6" in missing:
                why = ("m6, sent while the alarm was busy delivering, was lost: the alarm wrote back a queue it had "
                       "read before m6 arrived. Remove only what was delivered, or keep one key per message.")
            else:
                why = "A message must never be removed from storage before the partner took it."
            raise NotYet(f"{story} Missing: {', '.join(missing)}. {why}" + trace)
        if got[:5] != expected[:5]:
            why = ""
            if got.index("m3") > got.index("m4"):
                why = (" m3 was refused, skipped, and only went out after m4 and m5, when an alarm set for another "
                       "message happened to run. Stop at a refused message and make the alarm fail (raise), so that "
                       "the platform runs it again and the messages leave in order.")
            raise NotYet(f"{story} Expected m1 to m5 in the order they were sent.{why}" + trace)
        if not partner.refused:
            raise NotYet(f"{story} The 503 was never seen: did the alarm deliver anything?" + trace)
        await attempt("send('m7')", outbox.send("m7"), Outbox, rt)  # later, into an empty outbox
        await rt.advance(600)
        if partner.delivered.count("m7") != 1:
            raise NotYet(f"m1 to m6 were delivered; 20 minutes later the outbox was empty and m7 was sent. Ten minutes "
                         f"after that the partner has received m7 {partner.delivered.count('m7')} times, expected "
                         "once: every send() into an empty outbox needs an alarm to deliver it (getAlarm() says "
                         "whether one is set; a flag you keep yourself can be wrong).\nTrace:\n"
                         + excerpt(rt, "alarm:", "fetch:", "rpc:start", last=8))
    return ("Every message reached the partner exactly once and in order: a refused one stayed in storage "
            "and the alarm's retry sent only what was left, and a message sent meanwhile was not lost.")
