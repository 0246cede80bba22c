import {
  isServiceBusError,
  type ServiceBusReceivedMessage,
  type ServiceBusReceiver,
} from "@azure/service-bus";
import Long from "long";
import { startHarness, sleep, type Harness } from "./helpers";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

async function receiveAll(
  queue: string,
  count: number,
  mode: "peekLock" | "receiveAndDelete" = "peekLock",
) {
  const r = h.client.createReceiver(queue, { receiveMode: mode });
  const got: ServiceBusReceivedMessage[] = [];
  while (got.length < count) {
    const batch = await r.receiveMessages(count - got.length, { maxWaitTimeInMs: 1000 });
    if (batch.length === 0) break;
    got.push(...batch);
  }
  return { r, got };
}

describe("send and receive", () => {
  test("single and batch sends arrive with their properties; max_message_size is announced", async () => {
    const s = h.client.createSender("q-basic");
    await s.sendMessages({
      body: { n: 1 },
      messageId: "m-1",
      correlationId: "c-1",
      subject: "subj",
      contentType: "application/json",
      applicationProperties: { kind: "single", count: 3 },
    });
    const batch = await s.createMessageBatch();
    expect(batch.maxSizeInBytes).toBe(256 * 1024);
    expect(batch.tryAddMessage({ body: "two" })).toBe(true);
    expect(batch.tryAddMessage({ body: Buffer.from([1, 2, 3]) })).toBe(true);
    await s.sendMessages(batch);
    const { r, got } = await receiveAll("q-basic", 3);
    expect(got.map((m) => m.body)).toEqual([{ n: 1 }, "two", Buffer.from([1, 2, 3])]);
    expect(got[0]).toMatchObject({
      messageId: "m-1",
      correlationId: "c-1",
      subject: "subj",
      contentType: "application/json",
      applicationProperties: { kind: "single", count: 3 },
      deliveryCount: 1,
    });
    expect(got.map((m) => Number(m.sequenceNumber))).toEqual([1, 2, 3]);
    expect(got[1].messageId).toEqual(expect.any(String)); // assigned by the broker
    expect(got[0].lockedUntilUtc!.getTime()).toBeGreaterThan(Date.now());
    expect(got[0].enqueuedTimeUtc!.getTime()).toBeLessThanOrEqual(Date.now());
    for (const m of got) await r.completeMessage(m);
    expect(await r.receiveMessages(1, { maxWaitTimeInMs: 300 })).toHaveLength(0);
    await r.close();
  });

  test("a batch larger than max_message_size is refused by the SDK before sending", async () => {
    const s = h.client.createSender("q-basic");
    const batch = await s.createMessageBatch();
    expect(batch.tryAddMessage({ body: Buffer.alloc(300 * 1024) })).toBe(false);
  });

  test("FIFO order within a queue across many sends and receivers with credit", async () => {
    const s = h.client.createSender("q-order");
    for (let i = 0; i < 5; i++) {
      await s.sendMessages(Array.from({ length: 20 }, (_, j) => ({ body: i * 20 + j })));
    }
    const { r, got } = await receiveAll("q-order", 100);
    expect(got.map((m) => m.body)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    await Promise.all(got.map((m) => r.completeMessage(m)));
    await r.close();
  });

  test("receiveAndDelete removes messages on delivery", async () => {
    const s = h.client.createSender("q-rad");
    await s.sendMessages([{ body: "a" }, { body: "b" }]);
    const { r, got } = await receiveAll("q-rad", 2, "receiveAndDelete");
    expect(got.map((m) => m.body)).toEqual(["a", "b"]);
    await r.close();
    const again = await receiveAll("q-rad", 1);
    expect(again.got).toHaveLength(0);
    await again.r.close();
  });

  test("receiveMessages drains: an empty queue answers within maxWaitTime", async () => {
    const r = h.client.createReceiver("q-basic");
    const t0 = Date.now();
    expect(await r.receiveMessages(5, { maxWaitTimeInMs: 500 })).toHaveLength(0);
    expect(Date.now() - t0).toBeLessThan(3000);
    await r.close();
  });

  test("more than 2,048 messages flow through one receiver (broker settles deliveries fully)", async () => {
    const s = h.client.createSender("q-bulk");
    const total = 2600;
    for (let i = 0; i < total; i += 200) {
      await s.sendMessages(Array.from({ length: 200 }, (_, j) => ({ body: i + j })));
    }
    const r = h.client.createReceiver("q-bulk");
    let n = 0;
    while (n < total) {
      const batch = await r.receiveMessages(500, { maxWaitTimeInMs: 2000 });
      expect(batch.length).toBeGreaterThan(0);
      await Promise.all(batch.map((m) => r.completeMessage(m)));
      n += batch.length;
    }
    expect(n).toBe(total);
    await r.close();
  }, 30_000);
});

describe("settlement", () => {
  test("abandon increments the delivery count and keeps modified properties", async () => {
    await h.client
      .createSender("q-settle")
      .sendMessages({ body: "x", applicationProperties: { a: 1 } });
    const r = h.client.createReceiver("q-settle");
    const [m1] = await r.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    expect(m1.deliveryCount).toBe(1);
    await r.abandonMessage(m1, { reason: "retry-later", tries: 1 });
    const [m2] = await r.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    expect(m2.deliveryCount).toBe(2);
    expect(m2.applicationProperties).toEqual({ a: 1, reason: "retry-later", tries: 1 });
    await r.completeMessage(m2);
    await r.close();
  });

  test("defer, then receive deferred by sequence number and complete", async () => {
    await h.client.createSender("q-settle").sendMessages([{ body: "later" }, { body: "now" }]);
    const r = h.client.createReceiver("q-settle");
    const [first] = await r.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    expect(first.body).toBe("later");
    await r.deferMessage(first);
    const [second] = await r.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    expect(second.body).toBe("now");
    await r.completeMessage(second);
    const peeked = await r.peekMessages(10, { fromSequenceNumber: first.sequenceNumber });
    expect(peeked.map((m) => [m.body, m.state])).toEqual([["later", "deferred"]]);
    const [deferred] = await r.receiveDeferredMessages(first.sequenceNumber!);
    expect(deferred.body).toBe("later");
    expect(deferred.state).toBe("deferred");
    await r.completeMessage(deferred);
    await expect(r.receiveDeferredMessages(first.sequenceNumber!)).rejects.toMatchObject({
      code: "MessageNotFound",
    });
    expect(await r.peekMessages(10, { fromSequenceNumber: first.sequenceNumber })).toHaveLength(0);
    await r.close();
  });

  /** Receives exactly n messages (peek-lock) or fails. */
  async function receiveN(r: ServiceBusReceiver, n: number): Promise<ServiceBusReceivedMessage[]> {
    const got: ServiceBusReceivedMessage[] = [];
    for (let i = 0; i < 10 && got.length < n; i++) {
      got.push(...(await r.receiveMessages(n - got.length, { maxWaitTimeInMs: 1000 })));
    }
    expect(got).toHaveLength(n);
    return got;
  }

  test("dead-letter with reason and description lands in $DeadLetterQueue", async () => {
    await h.client.createSender("q-settle").sendMessages({ body: "poison", messageId: "p-1" });
    const r = h.client.createReceiver("q-settle");
    const [m] = await r.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    await r.deadLetterMessage(m, {
      deadLetterReason: "BadInput",
      deadLetterErrorDescription: "field x missing",
    });
    const dlq = h.client.createReceiver("q-settle", { subQueueType: "deadLetter" });
    const [d] = await dlq.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    expect(d).toMatchObject({
      body: "poison",
      messageId: "p-1",
      deadLetterReason: "BadInput",
      deadLetterErrorDescription: "field x missing",
      deadLetterSource: "q-settle",
    });
    await dlq.completeMessage(d);
    expect(await r.receiveMessages(1, { maxWaitTimeInMs: 300 })).toHaveLength(0);
    await Promise.all([r.close(), dlq.close()]);
  });

  test("the dead-letter queue: peek from a sequence number, abandon keeps a message past max delivery count, complete removes only the chosen one", async () => {
    // What the operator API relies on: settle one dead-lettered message by sequence number.
    const s = h.client.createSender("q-maxdelivery");
    await s.sendMessages(["a", "b", "c"].map((body) => ({ body, messageId: `dlq-${body}` })));
    const r = h.client.createReceiver("q-maxdelivery");
    for (const m of await receiveN(r, 3))
      await r.deadLetterMessage(m, {
        deadLetterReason: "Test",
        deadLetterErrorDescription: "test",
      });
    const dlq = h.client.createReceiver("q-maxdelivery", { subQueueType: "deadLetter" });
    const all = await dlq.peekMessages(10, { fromSequenceNumber: Long.ONE });
    expect(all.map((m) => m.body)).toEqual(["a", "b", "c"]);
    const fromB = await dlq.peekMessages(10, { fromSequenceNumber: all[1]!.sequenceNumber! });
    expect(fromB.map((m) => m.body)).toEqual(["b", "c"]);
    // Abandoned more often than MaxDeliveryCount (2): a dead-lettered message stays where it is.
    for (let round = 0; round < 3; round++) {
      for (const m of await receiveN(dlq, 3)) await dlq.abandonMessage(m);
    }
    const locked = await receiveN(dlq, 3);
    const chosen = locked.find((m) => m.sequenceNumber!.equals(all[1]!.sequenceNumber!))!;
    await dlq.completeMessage(chosen);
    for (const m of locked.filter((x) => x !== chosen)) await dlq.abandonMessage(m);
    const left = await dlq.peekMessages(10, { fromSequenceNumber: Long.ONE });
    expect(left.map((m) => [m.body, m.deadLetterReason])).toEqual([
      ["a", "Test"],
      ["c", "Test"],
    ]);
    for (const m of await receiveN(dlq, 2)) await dlq.completeMessage(m);
    await Promise.all([s.close(), r.close(), dlq.close()]);
  });

  test("max delivery count exceeded moves the message to the dead-letter queue", async () => {
    await h.client.createSender("q-maxdelivery").sendMessages({ body: "flaky" });
    const r = h.client.createReceiver("q-maxdelivery");
    for (let i = 1; i <= 2; i++) {
      const [m] = await r.receiveMessages(1, { maxWaitTimeInMs: 2000 });
      expect(m.deliveryCount).toBe(i);
      await r.abandonMessage(m);
    }
    expect(await r.receiveMessages(1, { maxWaitTimeInMs: 300 })).toHaveLength(0);
    const dlq = h.client.createReceiver("q-maxdelivery", { subQueueType: "deadLetter" });
    const [d] = await dlq.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    expect(d.body).toBe("flaky");
    expect(d.deadLetterReason).toBe("MaxDeliveryCountExceeded");
    expect(d.deliveryCount).toBeGreaterThanOrEqual(2);
    await dlq.completeMessage(d);
    await Promise.all([r.close(), dlq.close()]);
  });
});

describe("locks", () => {
  test("an expired lock redelivers the message; completing with the lost lock fails with MessageLockLost", async () => {
    await h.client.createSender("q-lock").sendMessages({ body: "slow" });
    // The SDK renews locks of received messages by default; turn that off to let the lock lapse.
    const r = h.client.createReceiver("q-lock", { maxAutoLockRenewalDurationInMs: 0 });
    const before = Date.now();
    const [m1] = await r.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    const after = Date.now();
    // The queue's 2 s lock starts when the broker delivers, somewhere between before and after
    // (bounds rather than a fixed slack, so a loaded machine cannot fail it).
    const lockedUntil = m1.lockedUntilUtc!.getTime();
    expect(lockedUntil).toBeGreaterThanOrEqual(before + 2000 - 5);
    expect(lockedUntil).toBeLessThanOrEqual(after + 2000 + 5);
    const [m2] = await r.receiveMessages(1, { maxWaitTimeInMs: 5000 });
    expect(m2.body).toBe("slow");
    expect(m2.deliveryCount).toBe(2);
    const err = await r.completeMessage(m1).catch((e: unknown) => e);
    expect(isServiceBusError(err) && err.code).toBe("MessageLockLost");
    await r.completeMessage(m2);
    await r.close();
  });

  test("renewMessageLock extends the lock past the lock duration", async () => {
    await h.client.createSender("q-lock").sendMessages({ body: "renew-me" });
    const r = h.client.createReceiver("q-lock", { maxAutoLockRenewalDurationInMs: 0 });
    const [m] = await r.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    const first = m.lockedUntilUtc!.getTime();
    await sleep(1200);
    const renewed = await r.renewMessageLock(m);
    expect(renewed.getTime()).toBeGreaterThan(first);
    await sleep(1200); // past the original lock, inside the renewed one
    await r.completeMessage(m);
    await r.close();
  });

  test("subscribe() renews locks automatically while a handler runs longer than the lock", async () => {
    await h.client.createSender("q-subscribe").sendMessages([{ body: 1 }, { body: 2 }]);
    const r = h.client.createReceiver("q-subscribe");
    const seen: number[] = [];
    const errors: unknown[] = [];
    await new Promise<void>((resolve) => {
      r.subscribe(
        {
          async processMessage(m) {
            if (m.body === 1) await sleep(3500); // lock is 2 s
            seen.push(m.body as number);
            if (seen.length === 2) resolve();
          },
          async processError(args) {
            errors.push(args.error);
          },
        },
        { autoCompleteMessages: true },
      );
    });
    await sleep(300); // let the auto-completion of the last message land
    await r.close();
    expect(errors).toEqual([]);
    expect(seen.sort()).toEqual([1, 2]);
    const check = h.client.createReceiver("q-subscribe");
    expect(await check.receiveMessages(2, { maxWaitTimeInMs: 2500 })).toHaveLength(0);
    await check.close();
  }, 20_000);
});

describe("$management", () => {
  test("peek does not lock and walks forward through the queue", async () => {
    await h.client
      .createSender("q-mgmt")
      .sendMessages([{ body: "p1" }, { body: "p2" }, { body: "p3" }]);
    const r = h.client.createReceiver("q-mgmt");
    const a = await r.peekMessages(2);
    const b = await r.peekMessages(2);
    expect([...a, ...b].map((m) => m.body)).toEqual(["p1", "p2", "p3"]);
    expect(a[0].lockToken).toBeUndefined();
    const got = await r.receiveMessages(3, { maxWaitTimeInMs: 1000 });
    expect(got).toHaveLength(3);
    await Promise.all(got.map((m) => r.completeMessage(m)));
    await r.close();
  });

  test("schedule a message, cancel another; only the first arrives, at its time", async () => {
    const s = h.client.createSender("q-mgmt");
    const at = new Date(Date.now() + 1500);
    const [keep] = await s.scheduleMessages({ body: "scheduled" }, at);
    const [cancel] = await s.scheduleMessages({ body: "cancelled" }, at);
    const r = h.client.createReceiver("q-mgmt");
    const peeked = await r.peekMessages(10, { fromSequenceNumber: keep });
    expect(peeked.map((m) => [m.body, m.state])).toEqual([
      ["scheduled", "scheduled"],
      ["cancelled", "scheduled"],
    ]);
    await s.cancelScheduledMessages(cancel);
    expect(await r.receiveMessages(1, { maxWaitTimeInMs: 500 })).toHaveLength(0);
    const [m] = await r.receiveMessages(1, { maxWaitTimeInMs: 5000 });
    expect(m.body).toBe("scheduled");
    expect(m.sequenceNumber!.toNumber()).toBe(keep.toNumber());
    expect(Date.now()).toBeGreaterThanOrEqual(at.getTime() - 50);
    await r.completeMessage(m);
    expect(await r.receiveMessages(1, { maxWaitTimeInMs: 300 })).toHaveLength(0);
    await r.close();
  });

  test("a message sent with scheduledEnqueueTimeUtc waits until then", async () => {
    const s = h.client.createSender("q-mgmt");
    await s.sendMessages({ body: "delayed", scheduledEnqueueTimeUtc: new Date(Date.now() + 1000) });
    const r = h.client.createReceiver("q-mgmt");
    expect(await r.receiveMessages(1, { maxWaitTimeInMs: 400 })).toHaveLength(0);
    const [m] = await r.receiveMessages(1, { maxWaitTimeInMs: 3000 });
    expect(m.body).toBe("delayed");
    await r.completeMessage(m);
    await r.close();
  });

  test("a message settled through the management link (receiver closed) completes", async () => {
    await h.client.createSender("q-mgmt").sendMessages({ body: "via-mgmt" });
    const r = h.client.createReceiver("q-mgmt");
    const [m] = await r.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    await r.close(); // the SDK now settles through $management update-disposition
    await h.client.createReceiver("q-mgmt").completeMessage(m);
    const check = h.client.createReceiver("q-mgmt");
    expect(await check.receiveMessages(1, { maxWaitTimeInMs: 2500 })).toHaveLength(0);
    await check.close();
  });
});

describe("errors", () => {
  test("unknown queues give MessagingEntityNotFound for senders and receivers", async () => {
    const s = h.client.createSender("no-such-queue");
    const e1 = await s.sendMessages({ body: 1 }).catch((e: unknown) => e);
    expect(isServiceBusError(e1) && e1.code).toBe("MessagingEntityNotFound");
    const r = h.client.createReceiver("no-such-queue");
    const e2 = await r.receiveMessages(1, { maxWaitTimeInMs: 500 }).catch((e: unknown) => e);
    expect(isServiceBusError(e2) && e2.code).toBe("MessagingEntityNotFound");
    await Promise.all([s.close(), r.close()]);
  });

  test("sending without a session id to a session queue is refused", async () => {
    const s = h.client.createSender("q-session");
    await expect(s.sendMessages({ body: 1 })).rejects.toThrow(/SessionId/);
    await s.close();
  });
});
