import { isServiceBusError, ServiceBusClient } from "@azure/service-bus";
import { startHarness, sleep, type Harness } from "./helpers";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

test("acceptSession receives only its session, in order; state and lock renewal work", async () => {
  const s = h.client.createSender("q-session");
  await s.sendMessages([
    { body: "a1", sessionId: "A" },
    { body: "b1", sessionId: "B" },
    { body: "a2", sessionId: "A" },
    { body: "a3", sessionId: "A" },
  ]);
  const r = await h.client.acceptSession("q-session", "A", { maxAutoLockRenewalDurationInMs: 0 });
  expect(r.sessionId).toBe("A");
  expect(r.sessionLockedUntilUtc.getTime()).toBeGreaterThan(Date.now());
  const got = await r.receiveMessages(10, { maxWaitTimeInMs: 1000 });
  expect(got.map((m) => m.body)).toEqual(["a1", "a2", "a3"]);
  expect(got.every((m) => m.sessionId === "A")).toBe(true);
  for (const m of got) await r.completeMessage(m);

  expect(await r.getSessionState()).toBeUndefined();
  await r.setSessionState({ step: 3 });
  expect(await r.getSessionState()).toEqual({ step: 3 });

  const before = r.sessionLockedUntilUtc.getTime();
  await sleep(500);
  await r.renewSessionLock();
  expect(r.sessionLockedUntilUtc.getTime()).toBeGreaterThan(before);
  const peeked = await r.peekMessages(10, { fromSequenceNumber: got[0].sequenceNumber });
  expect(peeked).toHaveLength(0);
  await r.close();

  const b = await h.client.acceptSession("q-session", "B");
  const [mb] = await b.receiveMessages(1, { maxWaitTimeInMs: 1000 });
  expect(mb.body).toBe("b1");
  await b.completeMessage(mb);
  await b.close();

  // The state outlives the receiver that set it.
  const again = await h.client.acceptSession("q-session", "A");
  expect(await again.getSessionState()).toEqual({ step: 3 });
  await again.close();
});

test("a locked session cannot be accepted twice; closing the receiver frees it", async () => {
  const first = await h.client.acceptSession("q-session", "C");
  const err = await h.client.acceptSession("q-session", "C").catch((e: unknown) => e);
  expect(isServiceBusError(err) && err.code).toBe("SessionCannotBeLocked");
  await first.close();
  const second = await h.client.acceptSession("q-session", "C");
  expect(second.sessionId).toBe("C");
  await second.close();
});

test("acceptNextSession waits for a session with messages and locks it", async () => {
  const pending = h.client.acceptNextSession("q-session-next");
  await sleep(400);
  await h.client.createSender("q-session-next").sendMessages({ body: "hello", sessionId: "late" });
  const r = await pending;
  expect(r.sessionId).toBe("late");
  const [m] = await r.receiveMessages(1, { maxWaitTimeInMs: 1000 });
  expect(m.body).toBe("hello");
  await r.completeMessage(m);
  await r.close();
});

test("acceptNextSession skips sessions locked by others and times out when none is free", async () => {
  const s = h.client.createSender("q-session-next");
  await s.sendMessages([
    { body: 1, sessionId: "x" },
    { body: 2, sessionId: "y" },
  ]);
  const r1 = await h.client.acceptNextSession("q-session-next");
  const r2 = await h.client.acceptNextSession("q-session-next");
  expect([r1.sessionId, r2.sessionId].sort()).toEqual(["x", "y"]);
  const quick = new ServiceBusClient(h.emulator.connectionString, {
    retryOptions: { maxRetries: 0, timeoutInMs: 1000 },
  });
  const err = await quick.acceptNextSession("q-session-next").catch((e: unknown) => e);
  expect(isServiceBusError(err) && err.code).toBe("ServiceTimeout");
  await quick.close();
  for (const r of [r1, r2]) {
    const [m] = await r.receiveMessages(1, { maxWaitTimeInMs: 1000 });
    await r.completeMessage(m);
    await r.close();
  }
});

test("session lock expiry: the receiver loses the session and its messages return", async () => {
  await h.client.createSender("q-session-lock").sendMessages({ body: "s", sessionId: "S" });
  const r = await h.client.acceptSession("q-session-lock", "S", {
    maxAutoLockRenewalDurationInMs: 0,
  });
  const [m] = await r.receiveMessages(1, { maxWaitTimeInMs: 1000 });
  expect(m.deliveryCount).toBe(1);
  await sleep(2600); // session lock is 2 s
  const err = await r.completeMessage(m).catch((e: unknown) => e);
  expect(isServiceBusError(err) && err.code).toBe("SessionLockLost");
  await r.close().catch(() => undefined);
  const again = await h.client.acceptSession("q-session-lock", "S");
  const [m2] = await again.receiveMessages(1, { maxWaitTimeInMs: 1000 });
  expect(m2.body).toBe("s");
  expect(m2.deliveryCount).toBe(2);
  await again.completeMessage(m2);
  await again.close();
});

test("subscribe() on a session receiver delivers in order with automatic session lock renewal", async () => {
  const s = h.client.createSender("q-session-lock");
  await s.sendMessages([1, 2, 3].map((n) => ({ body: n, sessionId: "ordered" })));
  const r = await h.client.acceptSession("q-session-lock", "ordered");
  const seen: number[] = [];
  const errors: unknown[] = [];
  await new Promise<void>((resolve) => {
    r.subscribe({
      async processMessage(m) {
        if (m.body === 1) await sleep(2500); // longer than the 2 s session lock
        seen.push(m.body as number);
        if (seen.length === 3) resolve();
      },
      async processError(args) {
        errors.push(args.error);
      },
    });
  });
  await sleep(200);
  await r.close();
  expect(seen).toEqual([1, 2, 3]);
  expect(errors).toEqual([]);
}, 15_000);
