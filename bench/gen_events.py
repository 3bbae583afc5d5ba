#!/usr/bin/env python3
"""Writes a large Events API stream (JSON Lines, oldest first) for the events jobs.

Each line is one event laid out as the sandbox's default org has them
(src/sandbox/fixtures.rs `events()`): {"id","type","timestamp","initiator":{"id","type"},
"content":{...}}. About 200 agents (--agents) work one shift of about 8.5 hours each, in
three overlapping shifts that together cover --hours from --start:

  AGENT_STATUS/LOGGED_IN, LOGGED_OUT        content {agentId}
  AGENT_AVAILABILITY/UPDATED                content {agentId, availableFor: [MAIL, MESSAGING,
                                            VOICE] or a subset or [], occurredAt}; a break
                                            ([] then back) mid-shift and [] before logout
  CONTACT/STARTED                           content {channel PHONE_CALL|EMAIL|CHAT, contactId,
                                            conversationId, customerId, context.assignee
                                            {inboxId, agentId}, direction INBOUND|OUTBOUND};
                                            initiator CUSTOMER (inbound) or AGENT (outbound)
  CONTACT/OFFERED, CONTACT/OFFER_ACCEPTED   inbound contacts only, initiator AGENT
  CONTACT/HOLD_STARTED, CONTACT/HOLD_ENDED  about a third of calls, initiator AGENT,
                                            content {..., reason: MANUAL}
  CONTACT/ENDED                             initiator AGENT, content {..., status, reason}

Exactly --count events, in time order (ties keep a stable order). The contacts are paced
so the shifts hold about --count events: the stream ends near the end of the span (the
last shift may be cut short; should the shifts hold fewer, the next day's shifts begin).
Same --seed and options, same bytes. Stdlib only.

    bench/gen_events.py --count 1000000 --start 2026-11-20T00:00:00Z -o /tmp/events.jsonl
"""

import argparse
import base64
import heapq
import math
import random
import sys
import time
from datetime import datetime, timezone

HOUR = 3_600_000
MINUTE = 60_000
CHANNELS = {"VOICE": "PHONE_CALL", "MAIL": "EMAIL", "MESSAGING": "CHAT"}
AVAILABILITY = [
    (0.6, ["MAIL", "MESSAGING", "VOICE"]),
    (0.2, ["VOICE"]),
    (0.1, ["MAIL", "MESSAGING"]),
    (0.1, ["MESSAGING", "VOICE"]),
]
OUTBOUND_SHARE = {"PHONE_CALL": 0.3, "EMAIL": 0.1, "CHAT": 0.0}
HOLD_SHARE = 0.35
SHIFTS = 3
SHIFT_MS = int(8.5 * HOUR)
BREAK_MS = (30 * MINUTE, 60 * MINUTE)


class Ids:
    """22-character URL-safe base64 ids, made in bulk (33 random bytes → two ids)."""

    def __init__(self, rng):
        self.rng = rng
        self.buf = []

    def take(self):
        if not self.buf:
            text = base64.urlsafe_b64encode(self.rng.randbytes(33 * 16384)).decode("ascii")
            self.buf = [text[i:i + 22] for i in range(0, len(text), 22)]
        return self.buf.pop()


class Stamps:
    """Formats Unix milliseconds as 2026-11-20T10:00:00.000Z, caching the minute prefix."""

    def __init__(self):
        self.cache = {}

    def __call__(self, ms):
        minute, rest = divmod(ms, MINUTE)
        prefix = self.cache.get(minute)
        if prefix is None:
            if len(self.cache) > 8192:
                self.cache.clear()
            prefix = datetime.fromtimestamp(minute * 60, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:")
            self.cache[minute] = prefix
        seconds, millis = divmod(rest, 1000)
        return f"{prefix}{seconds:02d}.{millis:03d}Z"


def events_per_contact():
    """Expected events of one contact for an agent available on every channel."""
    share = 1 / len(CHANNELS)
    inbound = sum(share * (1 - OUTBOUND_SHARE[c]) for c in CHANNELS.values())
    return 2 + 2 * inbound + 2 * share * HOLD_SHARE


class Agent:
    """One agent's events, in time order, shift after shift (never runs out)."""

    def __init__(self, index, gen):
        rng = gen.rng
        self.index = index
        self.gen = gen
        self.id = gen.ids.take()
        self.who = f'{{"id":"{self.id}","type":"AGENT"}}'
        self.inboxes = rng.sample(gen.inboxes, rng.randint(1, 3))
        roll, acc = rng.random(), 0.0
        for share, channels in AVAILABILITY:
            acc += share
            if roll < acc:
                self.available = channels
                break
        else:
            self.available = AVAILABILITY[0][1]
        # Shifts start over the span so the last one ends by its end (they overlap when
        # the span is short); each agent works one shift a day.
        stagger = max(0, gen.span_ms - gen.shift_ms - 45 * MINUTE) // (SHIFTS - 1)
        self.first_shift = gen.start_ms + (index % SHIFTS) * stagger + rng.randrange(30 * MINUTE)

    def line(self, ms, kind, initiator, content):
        gen = self.gen
        return (f'{{"id":"{gen.ids.take()}","type":"{kind}","timestamp":"{gen.stamp(ms)}",'
                f'"initiator":{initiator},"content":{content}}}\n')

    def availability(self, ms, channels):
        listed = ",".join(f'"{c}"' for c in channels)
        return self.line(ms, "AGENT_AVAILABILITY/UPDATED", self.who,
                         f'{{"agentId":"{self.id}","availableFor":[{listed}],'
                         f'"occurredAt":"{self.gen.stamp(ms)}"}}')

    def events(self):
        """Yields (ms, agent index, sequence, line) forever, a few events at a time."""
        seq = 0
        for ms, line in self.shifts():
            seq += 1
            yield ms, self.index, seq, line

    def shifts(self):
        """(ms, line) in time order, shift after shift; lines are made as they are pulled."""
        gen, rng = self.gen, self.gen.rng
        shift_start = self.first_shift
        out = []
        while True:
            t = shift_start
            end = shift_start + gen.shift_ms + rng.randint(-15 * MINUTE, 15 * MINUTE)
            out.append((t, self.line(t, "AGENT_STATUS/LOGGED_IN", self.who,
                                     f'{{"agentId":"{self.id}"}}')))
            t += rng.randint(20_000, 120_000)
            channels = self.available
            out.append((t, self.availability(t, channels)))
            break_at = shift_start + (end - shift_start) // 2 + rng.randint(-HOUR, HOUR)
            on_break = False
            changed = False
            while True:
                t += rng.randint(1_000, gen.gap_ms)
                if not on_break and t >= break_at:
                    out.append((t, self.availability(t, [])))
                    t += rng.randint(*BREAK_MS)
                    out.append((t, self.availability(t, channels)))
                    on_break = True
                    continue
                if not changed and len(channels) > 1 and rng.random() < 0.002:
                    dropped = rng.choice(channels)
                    channels = [c for c in channels if c != dropped]
                    out.append((t, self.availability(t, channels)))
                    changed = True
                length = int(gen.contact_ms * (0.5 + rng.random()))
                if t + length >= end:
                    break
                t = self.contact(out, t, length, rng.choice(channels))
                yield from out
                out.clear()
            t = max(t, end)
            out.append((t, self.availability(t, [])))
            t += rng.randint(5_000, 60_000)
            out.append((t, self.line(t, "AGENT_STATUS/LOGGED_OUT", self.who,
                                     f'{{"agentId":"{self.id}"}}')))
            yield from out
            out.clear()
            shift_start += 24 * HOUR

    def contact(self, out, t, length, available):
        """Appends one contact's events from `t` lasting about `length`; returns its end."""
        gen, rng, take = self.gen, self.gen.rng, self.gen.ids.take
        channel = CHANNELS[available]
        customer = take()
        base = (f'"channel":"{channel}","contactId":"{take()}","conversationId":"{take()}",'
                f'"customerId":"{customer}","context":{{"assignee":{{"inboxId":'
                f'"{rng.choice(self.inboxes)}","agentId":"{self.id}"}}}}')
        outbound = rng.random() < OUTBOUND_SHARE[channel]
        end = t + length
        if outbound:
            out.append((t, self.line(t, "CONTACT/STARTED", self.who,
                                     f'{{{base},"direction":"OUTBOUND"}}')))
        else:
            out.append((t, self.line(t, "CONTACT/STARTED",
                                     f'{{"id":"{customer}","type":"CUSTOMER"}}',
                                     f'{{{base},"direction":"INBOUND"}}')))
            t += rng.randint(500, min(20_000, max(501, length // 4)))
            out.append((t, self.line(t, "CONTACT/OFFERED", self.who, f"{{{base}}}")))
            t += rng.randint(500, min(10_000, max(501, length // 4)))
            out.append((t, self.line(t, "CONTACT/OFFER_ACCEPTED", self.who, f"{{{base}}}")))
        if channel == "PHONE_CALL" and rng.random() < HOLD_SHARE and end - t > 4_000:
            hold = t + rng.randint(1_000, (end - t) // 2)
            out.append((hold, self.line(hold, "CONTACT/HOLD_STARTED", self.who,
                                        f'{{{base},"reason":"MANUAL"}}')))
            resume = hold + rng.randint(1_000, max(1_001, min(300_000, (end - hold) - 1_000)))
            out.append((resume, self.line(resume, "CONTACT/HOLD_ENDED", self.who,
                                          f'{{{base},"reason":"MANUAL"}}')))
            t = resume
        end = max(end, t + 1)
        reason = "HANG_UP" if channel == "PHONE_CALL" else "CLOSED"
        out.append((end, self.line(end, "CONTACT/ENDED", self.who,
                                   f'{{{base},"status":"ANSWERED","reason":"{reason}"}}')))
        return end


class Generator:
    def __init__(self, args):
        self.rng = random.Random(args.seed)
        self.ids = Ids(random.Random(args.seed * 1_000_003 + 29))
        self.stamp = Stamps()
        self.start_ms = parse_start(args.start)
        self.span_ms = int(args.hours * HOUR)
        self.inboxes = [self.ids.take() for _ in range(8)]
        self.shift_ms = min(SHIFT_MS, self.span_ms)
        # Pace the contacts so the agents' shifts hold about --count events, with a small
        # margin so the stream reaches the count near the span's end rather than after it.
        per_agent = args.count / args.agents * (1.01 + 3 / math.sqrt(args.count))
        contacts = max(1.0, (per_agent - 6) / events_per_contact())
        cycle = max(3_000, int((self.shift_ms - sum(BREAK_MS) / 2) / contacts))
        self.gap_ms = max(1_001, int(cycle * 0.3))
        self.contact_ms = max(1_000, int(cycle - (1_000 + self.gap_ms) / 2))
        self.agents = [Agent(i, self) for i in range(args.agents)]


def parse_start(text):
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, required=True, help="number of events to write")
    parser.add_argument("--start", default="2026-11-20T00:00:00Z",
                        help="start of the span (default 2026-11-20T00:00:00Z)")
    parser.add_argument("-o", "--output", required=True, help="file to write, or - for stdout")
    parser.add_argument("--seed", type=int, default=1, help="same seed, same bytes (default 1)")
    parser.add_argument("--agents", type=int, default=200, help="agents (default 200)")
    parser.add_argument("--hours", type=float, default=24.0, help="span in hours (default 24)")
    args = parser.parse_args()
    if args.count < 1 or args.agents < 1 or args.hours <= 0:
        parser.error("--count, --agents and --hours must be positive")

    gen = Generator(args)
    began = time.monotonic()
    out = sys.stdout.buffer if args.output == "-" else open(args.output, "wb")
    written = 0
    last = ""
    try:
        merged = heapq.merge(*(agent.events() for agent in gen.agents))
        chunk = []
        for _, _, _, line in merged:
            chunk.append(line)
            written += 1
            if written == args.count:
                break
            if len(chunk) == 50_000:
                out.write("".join(chunk).encode())
                chunk = []
        out.write("".join(chunk).encode())
        if chunk:
            last = chunk[-1][chunk[-1].index('"timestamp":"') + 13:][:24]
    finally:
        if out is not sys.stdout.buffer:
            out.close()
    print(f"gen_events: {written} events up to {last} in {time.monotonic() - began:.1f}s",
          file=sys.stderr)


if __name__ == "__main__":
    main()
