#!/usr/bin/env python3
"""Writes a large conversation_items.jsonl in the shape of a Gladly export file.

Each line is one conversation item as `GET /api/v1/conversation-items/{id}` (and the
sandbox's export files) give it: id, customerId, conversationId, timestamp, initiator,
responder (calls only) and content. Conversations are chat (CHAT_MESSAGE turns sharing a
sessionId), email (EMAIL with from/to/cc/bcc/subject/content) or phone (PHONE_CALL with
from/to/startedAt/answeredAt/completedAt/recordingStatus/recordingUrl/recordingDuration/
recordingSummary), each followed by CONVERSATION_NOTE and TOPIC_CHANGE items
(addedTopicIds/removedTopicIds). Ids are 22 URL-safe base64 characters; timestamps look
like 2026-11-20T10:00:00.000Z. Lines are grouped by conversation, conversations in start
order spread over --hours from --start.

Same --seed and options, same bytes. Stdlib only; writes about 1 GB in well under a minute
(templates precomputed, ids made in bulk, output written in big chunks).

    bench/gen_items.py --size-mb 1100 -o /tmp/conversation_items.jsonl
    bench/gen_items.py --size-mb 5 --seed 7 -o - | head
"""

import argparse
import base64
import json
import random
import sys
import time
from datetime import datetime, timezone

MB = 1_000_000
CHUNK_LINES = 20_000

FIRST = ["Ada", "Grace", "Alan", "Katherine", "Margaret", "Linus", "Barbara", "Dennis", "Frances",
         "Ken", "Radia", "John", "Hedy", "Tim", "Shafi", "Donald", "Edsger", "Sophie", "José",
         "Zoë", "Mei", "Arjun", "Fatima", "Lars", "Ngozi", "Kenji", "Ana", "Olu", "Priya", "Sven"]
LAST = ["Lovelace", "Hopper", "Turing", "Johnson", "Hamilton", "Torvalds", "Liskov", "Ritchie",
        "Allen", "Thompson", "Perlman", "McCarthy", "Lamarr", "Berners-Lee", "Goldwasser", "Knuth",
        "Dijkstra", "Wilson", "Núñez", "Chen", "Patel", "Haddad", "Larsen", "Okafor", "Tanaka",
        "Silva", "Adeyemi", "Iyer", "Berg", "Kowalski"]
DOMAINS = ["example.com", "mail.example", "work.example", "inbox.example", "post.example"]
ORG_ADDRESSES = ["support@acme.example", "billing@acme.example", "returns@acme.example",
                 "vip@acme.example"]
ORG_NUMBERS = ["+18005550000", "+18005550001", "+18005550002"]

CUSTOMER_CHAT = [
    "Hi, where is my order #{n}?", "My package says delivered but I can't find it.",
    "Can I change the size on order #{n}?", "I was charged twice for order #{n}.",
    "Do you ship to Canada?", "The zipper broke after two days.", "Any news on my refund?",
    "Can I return an item I bought on sale?", "I need to update my shipping address.",
    "The tracking number for #{n} doesn't work.", "Is the blue jacket back in stock?",
    "How long does a return take to process?", "I never received the confirmation email.",
    "Thanks, that fixed it!", "Can you apply my loyalty discount to #{n}?",
    "The item arrived damaged, what should I do?", "Could I get an invoice for order #{n}?",
    "Ok, I'll wait for the label.", "That works for me.", "I'd like to cancel order #{n}.",
]
AGENT_CHAT = [
    "Thanks for reaching out! Let me look into order #{n} for you.",
    "I can see the package was left at the front door this morning.",
    "I've updated the size on order #{n}; you'll get a new confirmation shortly.",
    "I'm sorry about the double charge. I've refunded the duplicate payment.",
    "Yes, we ship to Canada; duties are included at checkout.",
    "I'm sorry to hear that. I've started a replacement for you.",
    "Your refund was issued and should appear in 3-5 business days.",
    "Sale items can be returned within 30 days for store credit.",
    "Done! The new address is saved on your profile.",
    "It can take 24 hours for tracking to update. I'll keep an eye on #{n}.",
    "The blue jacket is back in stock in sizes S to XL.",
    "Returns are processed within 5 business days of arrival.",
    "I've resent the confirmation email to the address on file.",
    "Happy to help! Is there anything else I can do?",
    "I've applied your loyalty discount to order #{n}.",
    "Could you send a photo of the damage? I'll arrange a replacement right away.",
    "The invoice for order #{n} is on its way to your inbox.",
    "A prepaid return label is on its way.", "Great, I'll close this out then.",
    "Order #{n} is cancelled and you won't be charged.",
]
SUBJECTS = ["Order #{n}", "Question about order #{n}", "Refund for order #{n}", "Return request",
            "Damaged item in order #{n}", "Invoice needed", "Shipping address change",
            "Loyalty points", "Wrong size received", "Where is my package?",
            "Cancel order #{n}", "Gift card balance", "Warranty claim for order #{n}"]
CUSTOMER_SENTENCES = [
    "I placed order #{n} last week and it still hasn't shipped.",
    "The confirmation email said it would arrive by Friday.",
    "Could you please let me know what is going on?",
    "I have attached a photo of the packaging as it arrived.",
    "This is the second time this has happened with my orders.",
    "I would prefer a replacement rather than a refund if possible.",
    "My account is under this email address, in case you need it.",
    "Thank you for your help with this.",
    "The size I received is not the one I ordered.",
    "Could you send the invoice to my work address as well?",
]
AGENT_SENTENCES = [
    "We have looked into order #{n} and found the cause of the delay.",
    "A replacement has been shipped with express delivery at no cost to you.",
    "You will receive a tracking number as soon as the carrier scans the parcel.",
    "We have issued a refund to the original payment method.",
    "Please allow 3-5 business days for the refund to appear on your statement.",
    "If you have any other questions, simply reply to this email.",
    "Our returns team will inspect the item within 2 business days of arrival.",
    "We're sorry for the trouble and appreciate your patience.",
    "As a thank-you, we've added 500 loyalty points to your account.",
    "The carrier reports a weather delay in your area.",
    "Your new shipping address has been saved for future orders.",
    "I've attached the invoice you asked for.",
]
NOTES = ["Customer verified by email and order number.", "Refund approved by team lead.",
         "Carrier confirmed a two-day delay.", "Sent a prepaid return label.",
         "Escalated to the warehouse for a damaged-item claim.", "Loyalty discount applied manually.",
         "Customer prefers email follow-up.", "Duplicate charge confirmed with payments team.",
         "Replacement shipped express, tracking to follow.", "Address updated on the profile."]
SUMMARIES = ["Customer asked where order #{n} is; agent confirmed it ships tomorrow.",
             "Customer reported a double charge on order #{n}; agent issued a refund.",
             "Customer wanted to exchange a jacket for a larger size; agent sent a label.",
             "Customer called about a damaged item; agent arranged a replacement.",
             "Agent called back to confirm the refund for order #{n} was issued.",
             "Customer asked about loyalty points; agent explained the program."]


class Ids:
    """22-character URL-safe base64 ids, made in bulk (33 random bytes → two ids)."""

    def __init__(self, rng):
        self.rng = rng
        self.buf = []

    def take(self):
        if not self.buf:
            text = base64.urlsafe_b64encode(self.rng.randbytes(33 * 32768)).decode("ascii")
            self.buf = [text[i:i + 22] for i in range(0, len(text), 22)]
        return self.buf.pop()


class Stamps:
    """Formats Unix milliseconds as 2026-11-20T10:00:00.000Z, caching the minute prefix."""

    def __init__(self):
        self.cache = {}

    def __call__(self, ms):
        minute, rest = divmod(ms, 60_000)
        prefix = self.cache.get(minute)
        if prefix is None:
            if len(self.cache) > 4096:
                self.cache.clear()
            prefix = datetime.fromtimestamp(minute * 60, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:")
            self.cache[minute] = prefix
        seconds, millis = divmod(rest, 1000)
        return f"{prefix}{seconds:02d}.{millis:03d}Z"


def js(text):
    """A JSON string literal (UTF-8 kept as is)."""
    return json.dumps(text, ensure_ascii=False)


def variants(rng, templates, count):
    """`count` JSON-encoded texts from templates with order numbers filled in."""
    return [js(rng.choice(templates).replace("{n}", str(rng.randint(10_000, 999_999))))
            for _ in range(count)]


def bodies(rng, count, sentences, greetings, closings):
    """`count` JSON-encoded email bodies: a greeting, 2-6 distinct sentences, a closing."""
    out = []
    for _ in range(count):
        n = str(rng.randint(10_000, 999_999))
        picked = [s.replace("{n}", n) for s in rng.sample(sentences, rng.randint(2, 6))]
        out.append(js(f"{rng.choice(greetings)}\n\n{' '.join(picked)}\n\n{rng.choice(closings)}"))
    return out


class Generator:
    """Builds conversations as lists of JSON lines; all randomness from one seeded RNG."""

    def __init__(self, seed, start_ms):
        self.rng = random.Random(seed)
        rng = self.rng
        self.ids = Ids(random.Random(seed * 1_000_003 + 17))
        self.stamp = Stamps()
        self.start_ms = start_ms
        self.agents = [self.ids.take() for _ in range(200)]
        self.topics = [self.ids.take() for _ in range(60)]
        self.customers = []
        for n in range(50_000):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            handle = f"{first}.{last}{n}".lower().replace(" ", "")
            email = f"{handle}@{rng.choice(DOMAINS)}"
            work = f"{handle}@work.example"
            phone = f"+1{rng.randint(201, 989)}555{rng.randint(0, 9999):04d}"
            self.customers.append((self.ids.take(), js(email), js(work), phone))
        self.customer_chat = variants(rng, CUSTOMER_CHAT, 4000)
        self.agent_chat = variants(rng, AGENT_CHAT, 4000)
        self.subjects = variants(rng, SUBJECTS, 3000)
        self.reply_subjects = ['"Re: ' + s[1:] for s in self.subjects]
        self.customer_bodies = bodies(rng, 3000, CUSTOMER_SENTENCES,
                                      ["Hello,", "Hi there,", "Dear Acme team,", "Hi,"],
                                      ["Thanks", "Thank you,", "Best,", "Regards,"])
        self.agent_bodies = bodies(rng, 3000, AGENT_SENTENCES,
                                   ["Hello,", "Hi there,", "Hi,"],
                                   ["Best regards,\nThe Acme Outfitters team",
                                    "Kind regards,\nAcme Outfitters support"])
        self.notes = variants(rng, NOTES, 500)
        self.summaries = variants(rng, SUMMARIES, 2000)

    def head(self, item, customer, conversation, ms, who, kind):
        return (f'{{"id":"{item}","customerId":"{customer}","conversationId":"{conversation}",'
                f'"timestamp":"{self.stamp(ms)}","initiator":{{"id":"{who}","type":"{kind}"}},')

    def conversation(self, ms):
        """One conversation starting at `ms`: its lines, in time order."""
        rng = self.rng
        r = rng.random
        take = self.ids.take
        customer, email, work, phone = rng.choice(self.customers)
        agent = rng.choice(self.agents)
        conversation = take()
        lines = []
        roll = r()
        if roll < 0.5:
            session = take()
            for turn in range(rng.randint(3, 14)):
                if turn % 2 == 0:
                    who, kind, text = customer, "CUSTOMER", rng.choice(self.customer_chat)
                else:
                    who, kind, text = agent, "AGENT", rng.choice(self.agent_chat)
                lines.append(self.head(take(), customer, conversation, ms, who, kind)
                             + f'"content":{{"type":"CHAT_MESSAGE","messageType":"TEXT",'
                               f'"sessionId":"{session}","content":{text}}}}}\n')
                ms += rng.randint(8_000, 120_000)
        elif roll < 0.75:
            org = js(rng.choice(ORG_ADDRESSES))
            subject = rng.randrange(len(self.subjects))
            for turn in range(rng.randint(1, 4)):
                cc = f',"cc":[{work}]' if r() < 0.3 else ""
                if turn % 2 == 0:
                    who, kind, body = customer, "CUSTOMER", rng.choice(self.customer_bodies)
                    fields = f'"from":{email},"to":[{org}]{cc},"subject":{self.subjects[subject]}'
                else:
                    body = rng.choice(self.agent_bodies)
                    who, kind = agent, "AGENT"
                    bcc = ',"bcc":["records@acme.example"]' if r() < 0.1 else ""
                    fields = (f'"from":{org},"to":[{email}]{cc}{bcc},'
                              f'"subject":{self.reply_subjects[subject]}')
                lines.append(self.head(take(), customer, conversation, ms, who, kind)
                             + f'"content":{{"type":"EMAIL",{fields},'
                               f'"content":{body}}}}}\n')
                ms += rng.randint(600_000, 14_400_000)
        else:
            org = rng.choice(ORG_NUMBERS)
            for _ in range(1 if r() < 0.85 else 2):
                item = take()
                inbound = r() < 0.7
                if inbound:
                    who, kind, rid, rkind, frm, to = customer, "CUSTOMER", agent, "AGENT", phone, org
                else:
                    who, kind, rid, rkind, frm, to = agent, "AGENT", customer, "CUSTOMER", org, phone
                answered = ms + rng.randint(3_000, 45_000)
                duration = rng.randint(45, 1_500)
                completed = answered + duration * 1000 + rng.randint(0, 999)
                if r() < 0.8:
                    summary = (f'{{"status":"READY","summary":{rng.choice(self.summaries)},'
                               f'"language":"en-us"}}')
                else:
                    summary = '{"status":"PENDING"}'
                head = self.head(item, customer, conversation, ms, who, kind)
                lines.append(head[:-1]
                             + f',"responder":{{"id":"{rid}","type":"{rkind}"}},'
                               f'"content":{{"type":"PHONE_CALL","from":"{frm}","to":"{to}",'
                               f'"startedAt":"{self.stamp(ms)}","answeredAt":"{self.stamp(answered)}",'
                               f'"completedAt":"{self.stamp(completed)}","recordingStatus":"AVAILABLE",'
                               f'"recordingUrl":"/api/v1/conversation-items/{item}/media/recording",'
                               f'"recordingDuration":{duration},"recordingSummary":{summary}}}}}\n')
                ms = completed + rng.randint(60_000, 3_600_000)
        if r() < 0.4:
            ms += rng.randint(5_000, 300_000)
            lines.append(self.head(take(), customer, conversation, ms, agent, "AGENT")
                         + f'"content":{{"type":"CONVERSATION_NOTE","body":{rng.choice(self.notes)}}}}}\n')
        applied = []
        for _ in range(rng.randint(1, 2)):
            ms += rng.randint(1_000, 60_000)
            added = rng.choice(self.topics)
            removed = f'"{applied.pop()}"' if applied and r() < 0.5 else ""
            applied.append(added)
            lines.append(self.head(take(), customer, conversation, ms, agent, "AGENT")
                         + f'"content":{{"type":"TOPIC_CHANGE","addedTopicIds":["{added}"],'
                           f'"removedTopicIds":[{removed}]}}}}\n')
        return lines


def parse_start(text):
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=float, required=True,
                        help="stop at the first line ending at or past this many MB (10^6 bytes)")
    parser.add_argument("-o", "--output", required=True, help="file to write, or - for stdout")
    parser.add_argument("--seed", type=int, default=1, help="same seed, same bytes (default 1)")
    parser.add_argument("--start", default="2026-11-20T00:00:00Z",
                        help="first conversation's start (default 2026-11-20T00:00:00Z)")
    parser.add_argument("--hours", type=float, default=24.0,
                        help="span the conversation starts are spread over (default 24)")
    args = parser.parse_args()
    target = int(args.size_mb * MB)
    start_ms = parse_start(args.start)

    # Spread the conversation starts over the span: estimate the average conversation
    # size from a sample drawn with its own RNG, so the real stream is not disturbed.
    sample = Generator(args.seed + 7_919, start_ms)
    sample_bytes = sum(len("".join(sample.conversation(start_ms)).encode()) for _ in range(400))
    conversations = max(1, target / (sample_bytes / 400))
    step_ms = max(1, int(args.hours * 3_600_000 / conversations))

    gen = Generator(args.seed, start_ms)
    began = time.monotonic()
    out = sys.stdout.buffer if args.output == "-" else open(args.output, "wb")
    written = lines = 0
    conversation = 0
    try:
        while written < target:
            chunk = []
            while len(chunk) < CHUNK_LINES:
                ms = start_ms + conversation * step_ms + gen.rng.randrange(step_ms)
                chunk.extend(gen.conversation(ms))
                conversation += 1
            data = "".join(chunk).encode()
            if written + len(data) >= target:
                # Cut at the first line that reaches the target.
                need = target - written
                size = 0
                for n, line in enumerate(chunk):
                    size += len(line.encode())
                    if size >= need:
                        chunk = chunk[:n + 1]
                        break
                data = "".join(chunk).encode()
            out.write(data)
            written += len(data)
            lines += len(chunk)
    finally:
        if out is not sys.stdout.buffer:
            out.close()
    seconds = time.monotonic() - began
    print(f"gen_items: {lines} items, {written / MB:.1f} MB, {conversation} conversations "
          f"in {seconds:.1f}s", file=sys.stderr)


if __name__ == "__main__":
    main()
