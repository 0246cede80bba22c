// The app's registrations, as the Functions host would see them after loading package.json
// "main": every function, its trigger and the bindings the host must provide.
import { loadApp, registrations } from "./harness/app";
import pkg from "../package.json";

beforeAll(() => loadApp());

type Expected = {
  trigger: string;
  route?: string;
  methods?: string[];
  authLevel?: string;
  queueName?: string;
  connection?: string;
  durableClient: boolean;
};

// Every API route is authLevel anonymous: a bearer token (src/auth) is the identity, not a
// function key; health is public.
const http = (
  method: string,
  route: string,
  durableClient: boolean,
  authLevel = "anonymous",
): Expected => ({
  trigger: "httpTrigger",
  route,
  methods: [method],
  authLevel,
  durableClient,
});
const queue = (queueName: string, durableClient: boolean): Expected => ({
  trigger: "serviceBusTrigger",
  queueName,
  connection: "ServiceBusConnection",
  durableClient,
});
const activity: Expected = { trigger: "activityTrigger", durableClient: false };

const EXPECTED: Record<string, Expected> = {
  createOrder: http("POST", "orders", true),
  getOrderStatus: http("GET", "orders/{orderId}/status", true),
  getOrder: http("GET", "orders/{orderId}", true),
  listOrders: http("GET", "orders", false),
  approveOrder: http("POST", "orders/{orderId}/approval", true),
  cancelOrder: http("POST", "orders/{orderId}/cancel", true),
  listOrderPayments: http("GET", "orders/{orderId}/payments", false),
  listOrderNotifications: http("GET", "orders/{orderId}/notifications", false),
  health: http("GET", "health", false, "anonymous"),
  listRejectedMessages: http("GET", "operator/rejected-messages", false),
  resubmitRejectedMessage: http("POST", "operator/rejected-messages/{id}/resubmit", true),
  discardRejectedMessage: http("POST", "operator/rejected-messages/{id}/discard", false),
  listDeadLetters: http("GET", "operator/dead-letters/{queue}", false),
  resubmitDeadLetter: http("POST", "operator/dead-letters/{queue}/{sequenceNumber}/resubmit", true),
  discardDeadLetter: http("POST", "operator/dead-letters/{queue}/{sequenceNumber}/discard", false),
  listStuckOrders: http("GET", "operator/stuck-orders", true),
  actOnOrder: http("POST", "operator/orders/{orderId}/actions/{action}", true),
  listAudit: http("GET", "operator/audit", false),
  getOrderHistory: http("GET", "operator/orders/{orderId}/history", true),
  getOrderTrace: http("GET", "operator/orders/{orderId}/trace", false),
  getOrderStats: http("GET", "operator/order-stats", false),
  serveConsole: http("GET", "console/{*path}", false, "anonymous"),
  getConsoleConfig: http("GET", "console/config.json", false, "anonymous"),
  ordersInbound: queue("orders-inbound", true),
  deliverNotification: queue("notifications", false),
  processOrder: { trigger: "orchestrationTrigger", durableClient: false },
  setOrderStatus: activity,
  chargePayment: activity,
  capturePayment: activity,
  refundPayment: activity,
  sendNotification: activity,
  sendNotifications: activity,
};

describe("registrations of package.json main", () => {
  it("main is the compiled src/index.ts", () => {
    expect(pkg.main).toBe("dist/src/index.js");
  });

  it("registers exactly the expected functions", () => {
    expect(
      registrations()
        .map((r) => r.name)
        .sort(),
    ).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(Object.entries(EXPECTED))(
    "%s has the expected trigger and bindings",
    (name, expected) => {
      const r = registrations().find((x) => x.name === name)!;
      const actual: Expected = {
        trigger: String(r.trigger.type),
        durableClient: r.inputs.some((b) => b.type === "durableClient"),
      };
      if (r.trigger.type === "httpTrigger") {
        actual.route = r.trigger.route as string;
        actual.methods = (r.trigger.methods as string[]).map((m) => m.toUpperCase());
        actual.authLevel = r.trigger.authLevel as string;
        // The HTTP response goes out through the return binding.
        expect(Object.values(r.metadata.bindings)).toContainEqual(
          expect.objectContaining({ type: "http", direction: "out" }),
        );
      }
      if (r.trigger.type === "serviceBusTrigger") {
        actual.queueName = r.trigger.queueName as string;
        actual.connection = r.trigger.connection as string;
      }
      expect(actual).toEqual(expected);
      // No other input bindings: data access goes through the adapters, not bindings.
      expect(r.inputs.filter((b) => b.type !== "durableClient")).toEqual([]);
    },
  );
});
