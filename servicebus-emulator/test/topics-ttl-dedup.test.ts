import { startHarness, sleep, type Harness } from "./helpers";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

async function drain(topic: string, sub: string): Promise<unknown[]> {
  const r = h.client.createReceiver(topic, sub);
  const out: unknown[] = [];
  for (;;) {
    const batch = await r.receiveMessages(10, { maxWaitTimeInMs: 600 });
    if (batch.length === 0) break;
    for (const m of batch) {
      out.push(m.body);
      await r.completeMessage(m);
    }
  }
  await r.close();
  return out;
}

test("topics fan out to subscriptions by correlation filters, 1=1 and a basic SQL filter", async () => {
  const s = h.client.createSender("t-orders");
  await s.sendMessages([
    { body: "eu-small", applicationProperties: { region: "eu", amount: 5 } },
    {
      body: "us-json",
      contentType: "application/json",
      subject: "order",
      applicationProperties: { region: "us", amount: 500 },
    },
    { body: "eu-big", subject: "order", applicationProperties: { region: "eu", amount: 101 } },
    { body: "json-other-label", contentType: "application/json", subject: "note" },
  ]);
  expect(await drain("t-orders", "all")).toEqual([
    "eu-small",
    "us-json",
    "eu-big",
    "json-other-label",
  ]);
  expect(await drain("t-orders", "eu")).toEqual(["eu-small", "eu-big"]);
  expect(await drain("t-orders", "json")).toEqual(["us-json"]);
  expect(await drain("t-orders", "big")).toEqual(["us-json", "eu-big"]);
});

test("subscription dead-letter queue and unknown subscriptions", async () => {
  await h.client
    .createSender("t-orders")
    .sendMessages({ body: "dl", applicationProperties: { region: "eu" } });
  const r = h.client.createReceiver("t-orders", "eu");
  const [m] = await r.receiveMessages(1, { maxWaitTimeInMs: 1000 });
  await r.deadLetterMessage(m, { deadLetterReason: "nope", deadLetterErrorDescription: "test" });
  const dlq = h.client.createReceiver("t-orders", "eu", { subQueueType: "deadLetter" });
  const [d] = await dlq.receiveMessages(1, { maxWaitTimeInMs: 1000 });
  expect(d.body).toBe("dl");
  expect(d.deadLetterReason).toBe("nope");
  expect(d.deadLetterSource).toBe("t-orders/Subscriptions/eu");
  await dlq.completeMessage(d);
  await drain("t-orders", "all");
  const missing = h.client.createReceiver("t-orders", "nope");
  await expect(missing.receiveMessages(1, { maxWaitTimeInMs: 300 })).rejects.toMatchObject({
    code: "MessagingEntityNotFound",
  });
  await Promise.all([r.close(), dlq.close(), missing.close()]);
});

test("scheduled messages to a topic can be cancelled by their sequence number", async () => {
  const s = h.client.createSender("t-orders");
  const [seq] = await s.scheduleMessages({ body: "never" }, new Date(Date.now() + 800));
  await s.cancelScheduledMessages(seq);
  await sleep(1200);
  expect(await drain("t-orders", "all")).toEqual([]);
});

test("expired messages are dead-lettered when the queue says so", async () => {
  await h.client.createSender("q-ttl").sendMessages({ body: "short-lived", timeToLive: 500 });
  await sleep(1500);
  const r = h.client.createReceiver("q-ttl");
  expect(await r.receiveMessages(1, { maxWaitTimeInMs: 300 })).toHaveLength(0);
  const dlq = h.client.createReceiver("q-ttl", { subQueueType: "deadLetter" });
  const [d] = await dlq.receiveMessages(1, { maxWaitTimeInMs: 1000 });
  expect(d.body).toBe("short-lived");
  expect(d.deadLetterReason).toBe("TTLExpiredException");
  expect(d.timeToLive).toBe(500);
  await dlq.completeMessage(d);
  await Promise.all([r.close(), dlq.close()]);
});

test("expired messages are dropped when dead-lettering on expiry is off (queue default TTL applies)", async () => {
  await h.client.createSender("q-ttl-drop").sendMessages({ body: "gone" }); // queue TTL is 1 s
  await sleep(1600);
  const r = h.client.createReceiver("q-ttl-drop");
  expect(await r.receiveMessages(1, { maxWaitTimeInMs: 300 })).toHaveLength(0);
  const dlq = h.client.createReceiver("q-ttl-drop", { subQueueType: "deadLetter" });
  expect(await dlq.receiveMessages(1, { maxWaitTimeInMs: 300 })).toHaveLength(0);
  await Promise.all([r.close(), dlq.close()]);
});

test("duplicate detection drops a resend of the same message id inside the window", async () => {
  const s = h.client.createSender("q-dedup");
  await s.sendMessages({ body: "first", messageId: "order-42" });
  await s.sendMessages({ body: "again", messageId: "order-42" });
  await s.sendMessages({ body: "other", messageId: "order-43" });
  const r = h.client.createReceiver("q-dedup");
  const got = await r.receiveMessages(5, { maxWaitTimeInMs: 800 });
  expect(got.map((m) => m.body)).toEqual(["first", "other"]);
  for (const m of got) await r.completeMessage(m);
  await r.close();
});
