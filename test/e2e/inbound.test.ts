/* eslint-disable @typescript-eslint/no-explicit-any -- bodies are JSON from the running host */
// Orders from other systems over real AMQP: messages sent with @azure/service-bus to the host's
// `orders-inbound` queue go through the same intake as HTTP. A valid one completes (visible
// through the API); an invalid one is recorded in Cosmos `rejected-messages` (there is no API for
// it) with the card number masked, and is neither left on the queue nor dead-lettered.
import fs from "node:fs";
import { randomUUID } from "node:crypto";
import { ServiceBusClient, type ServiceBusMessage } from "@azure/service-bus";
import { PROJECT_ROOT, startHost, type StartedHost } from "../../local-host/test/support/host";
import { searchArtefacts } from "./support/artefacts";
import {
  Api,
  CARDS,
  cosmosContainer,
  ensureFreshBuild,
  eventually,
  orderRequest,
  pollToOutcome,
  uniqueCustomer,
} from "./support/e2e";

const QUEUE = "orders-inbound";
let host: StartedHost;
let api: Api;
let bus: ServiceBusClient;

beforeAll(async () => {
  ensureFreshBuild();
  host = await startHost({ appDir: PROJECT_ROOT });
  api = Api.forHost(host);
  bus = new ServiceBusClient(String(host.endpoints.serviceBusConnectionString));
}, 120000);

afterAll(async () => {
  await bus?.close();
  await host?.stop();
  if (host) fs.rmSync(host.dataDir, { recursive: true, force: true });
});

async function send(...messages: ServiceBusMessage[]): Promise<void> {
  const sender = bus.createSender(QUEUE);
  try {
    await sender.sendMessages(messages);
  } finally {
    await sender.close();
  }
}

/** Active and dead-lettered messages still on orders-inbound (peek: nothing is settled). */
async function leftOnQueue(): Promise<{ active: number; deadLettered: number }> {
  const active = bus.createReceiver(QUEUE);
  const dlq = bus.createReceiver(QUEUE, { subQueueType: "deadLetter" });
  try {
    return {
      active: (await active.peekMessages(100)).length,
      deadLettered: (await dlq.peekMessages(100)).length,
    };
  } finally {
    await active.close();
    await dlq.close();
  }
}

async function rejectedRecord(messageId: string): Promise<any | undefined> {
  const { resources } = await cosmosContainer(host.endpoints, "rejected-messages")
    .items.query({
      query: "SELECT * FROM c WHERE c.messageId = @id",
      parameters: [{ name: "@id", value: messageId }],
    })
    .fetchAll();
  return resources[0];
}

async function ordersOf(customerId: string): Promise<any[]> {
  const res = await api.get(`/orders?customerId=${encodeURIComponent(customerId)}`);
  expect(res.status).toBe(200);
  return res.body.items;
}

describe("orders-inbound", () => {
  it("a valid order message with an orderId completes under that id", async () => {
    const orderId = randomUUID();
    const request = orderRequest({ cardNumber: CARDS.amex });
    await send({
      body: { ...request, orderId },
      messageId: `msg-${orderId}`,
      contentType: "application/json",
    });
    const status = await eventually(async () => {
      const res = await api.get(`/orders/${orderId}/status`);
      return res.status === 404 ? undefined : res;
    }, "the order to exist");
    const polled =
      status.status === 200
        ? { body: status.body }
        : await pollToOutcome(api, `${host.baseUrl}/api/orders/${orderId}/status`);
    expect(polled.body).toMatchObject({ orderId, status: "Completed" });
    const order = await api.get(`/orders/${orderId}`);
    expect(order.body).toMatchObject({
      orderId,
      customerId: request.customerId,
      source: "servicebus",
      payment: { brand: "amex", last4: "0005" },
    });
    const payments = await api.get(`/orders/${orderId}/payments`);
    expect(payments.body.items.filter((p: any) => p.kind === "charge")).toHaveLength(1);
  });

  it("without an orderId (JSON bytes), the order is found by customer and completes", async () => {
    const customerId = uniqueCustomer("inbound");
    await send({
      body: Buffer.from(JSON.stringify(orderRequest({ customerId, cardNumber: CARDS.mastercard }))),
      messageId: `msg-${randomUUID()}`,
      contentType: "application/json",
    });
    const [order] = await eventually(async () => {
      const items = await ordersOf(customerId);
      return items.length ? items : undefined;
    }, "the order to be listed");
    const polled = await pollToOutcome(api, `${host.baseUrl}/api/orders/${order.orderId}/status`);
    expect(polled.body.status).toBe("Completed");
    expect(await ordersOf(customerId)).toHaveLength(1);
  });

  it("the same order re-sent under another messageId lands on the same order, charged once", async () => {
    const orderId = randomUUID();
    const request = orderRequest({ cardNumber: CARDS.approve });
    const body = { ...request, orderId };
    await send({ body, messageId: `first-${orderId}`, contentType: "application/json" });
    await send({ body, messageId: `second-${orderId}`, contentType: "application/json" });
    const polled = await eventually(async () => {
      const res = await api.get(`/orders/${orderId}/status`);
      return res.status === 200 ? res : undefined;
    }, "the order to finish");
    expect(polled.body.status).toBe("Completed");
    // Both messages handled (nothing left), one order, one charge.
    await eventually(async () => {
      const left = await leftOnQueue();
      return left.active === 0 ? left : undefined;
    }, "the queue to drain");
    expect(await ordersOf(request.customerId)).toHaveLength(1);
    const payments = await api.get(`/orders/${orderId}/payments`);
    expect(payments.body.items.filter((p: any) => p.kind === "charge")).toHaveLength(1);
  });

  it("an invalid order is recorded in rejected-messages, masked, and completed (not on the queue or DLQ)", async () => {
    const customerId = uniqueCustomer("invalid");
    const messageId = `bad-${randomUUID()}`;
    const invalid = orderRequest({ customerId, cardNumber: CARDS.transient });
    invalid.items[0].quantity = -3;
    delete invalid.currency;
    await send({ body: invalid, messageId, contentType: "application/json" });

    const record = await eventually(
      () => rejectedRecord(messageId),
      "the rejected-messages record",
    );
    expect(record).toMatchObject({
      source: QUEUE,
      messageId,
      deliveryCount: expect.any(Number),
      enqueuedTime: expect.any(String),
      rejectedAt: expect.any(String),
    });
    expect(record.reasons.map((r: any) => r.pointer).sort()).toEqual([
      "/currency",
      "/items/0/quantity",
    ]);
    expect(record.body.customerId).toBe(customerId);
    expect(JSON.stringify(record)).not.toContain(CARDS.transient);
    expect(JSON.stringify(record.body.payment)).toContain("0119");

    expect(await ordersOf(customerId)).toEqual([]);
    // Completed, not abandoned: give a redelivery the chance to show, then look.
    await new Promise((r) => setTimeout(r, 500));
    expect(await leftOnQueue()).toEqual({ active: 0, deadLettered: 0 });
  });

  it("a message reusing an existing orderId with a different order is rejected, the order untouched", async () => {
    const orderId = randomUUID();
    const original = orderRequest({ cardNumber: CARDS.approve });
    await send({
      body: { ...original, orderId },
      messageId: `orig-${orderId}`,
      contentType: "application/json",
    });
    await eventually(async () => {
      const res = await api.get(`/orders/${orderId}/status`);
      return res.status === 200 ? res : undefined;
    }, "the original order to finish");
    const messageId = `clash-${orderId}`;
    const changed = { ...original, items: [{ ...original.items[0], quantity: 9 }], orderId };
    await send({ body: changed, messageId, contentType: "application/json" });
    const record = await eventually(
      () => rejectedRecord(messageId),
      "the rejected-messages record",
    );
    expect(record.reasons).toEqual([{ pointer: "/orderId", detail: expect.any(String) }]);
    const order = await api.get(`/orders/${orderId}`);
    expect(order.body).toMatchObject({ status: "Completed", totals: { total: 2 * 1999 } });
    const payments = await api.get(`/orders/${orderId}/payments`);
    expect(payments.body.items.filter((p: any) => p.kind === "charge")).toHaveLength(1);
  });

  it("a message that is not JSON is rejected with pointer '' and completed", async () => {
    const messageId = `text-${randomUUID()}`;
    await send({ body: Buffer.from("{ not json"), messageId, contentType: "application/json" });
    const record = await eventually(
      () => rejectedRecord(messageId),
      "the rejected-messages record",
    );
    expect(record.reasons).toEqual([{ pointer: "", detail: expect.any(String) }]);
    await new Promise((r) => setTimeout(r, 500));
    expect(await leftOnQueue()).toEqual({ active: 0, deadLettered: 0 });
  });
});

describe("artefacts", () => {
  it("no full card number in DATA_DIR (but the inbound messages themselves), the logs or any response", () => {
    const report = searchArtefacts(host, api);
    expect(report.corpus).toContain('"last4":"0005"');
    expect(report.hits).toEqual([]);
    expect(report.leaks).toEqual([]);
    // The broker's journal still holds the settled orders-inbound messages as this test sent them
    // (card numbers included) until it compacts: only those, and nothing the app wrote.
    expect([...new Set(report.inboundMessages.map((m) => m.card))].sort()).toEqual(
      [CARDS.amex, CARDS.approve, CARDS.mastercard, CARDS.transient].sort(),
    );
  });

  it("after a restart the journal is compacted: no card number left at all, orders kept", async () => {
    const orderIds = (await api.get(`/orders?limit=100`)).body.items.map((o: any) => o.orderId);
    expect(orderIds.length).toBeGreaterThanOrEqual(3);
    await bus.close();
    await host.stop();
    const earlierLogs = host.logs();
    host = await startHost({ appDir: PROJECT_ROOT, dataDir: host.dataDir });
    api = Api.forHost(host, api.responses);
    bus = new ServiceBusClient(String(host.endpoints.serviceBusConnectionString));
    for (const id of orderIds) {
      const res = await api.get(`/orders/${id}/status`);
      expect({ id, status: res.status, outcome: res.body.status }).toEqual({
        id,
        status: 200,
        outcome: "Completed",
      });
    }
    expect(await leftOnQueue()).toEqual({ active: 0, deadLettered: 0 });
    const report = searchArtefacts(host, api, [], [earlierLogs]);
    expect(report.hits).toEqual([]);
    expect(report.inboundMessages).toEqual([]);
  }, 60000);
});
