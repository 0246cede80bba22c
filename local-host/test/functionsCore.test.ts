import { FunctionsCore, fromTypedData } from "../src/worker/functionsCore";

// Jest has its own module loader, so the core API is provided as a virtual module here; plain
// Node uses FunctionsCore.installAsModule() instead, as the real worker does.
const mockCore = new FunctionsCore();
jest.mock("@azure/functions-core", () => mockCore.api, { virtual: true });

import { app } from "@azure/functions";
import * as df from "durable-functions";

app.http("hello", {
  methods: ["GET"],
  route: "hello/{name}",
  handler: async (req, ctx) => {
    ctx.log("greeting", req.params.name);
    return { status: 201, jsonBody: { name: req.params.name, x: req.query.get("x") } };
  },
});
df.app.activity("shout", { handler: (input: string) => input.toUpperCase() });

describe("FunctionsCore", () => {
  it("captures registrations with their hashed binding names", () => {
    expect([...mockCore.functions.keys()].sort()).toEqual(["hello", "shout"]);
    const trigger = mockCore.triggerOf("shout");
    expect(trigger.info.type).toBe("activityTrigger");
    expect(trigger.name).toMatch(/^activityTrigger/);
  });

  it("invokes an HTTP function through the programming model", async () => {
    const trigger = mockCore.triggerOf("hello");
    const res = await mockCore.invoke("hello", {
      inputData: [
        {
          name: trigger.name,
          data: {
            http: {
              method: "GET",
              url: "http://localhost:7071/api/hello/bob?x=1",
              headers: {},
              query: { x: "1" },
              params: { name: "bob" },
            },
          },
        },
      ],
    });
    const http = res.returnValue?.http;
    expect(http?.statusCode).toBe("201");
    expect(JSON.parse(Buffer.from(http!.body!.bytes!).toString())).toEqual({ name: "bob", x: "1" });
  });

  it("returns a non-HTTP result as returnValue typed data", async () => {
    const trigger = mockCore.triggerOf("shout");
    const res = await mockCore.invoke("shout", {
      inputData: [{ name: trigger.name, data: { json: JSON.stringify("tokyo") } }],
    });
    expect(fromTypedData(res.returnValue)).toBe("TOKYO");
  });

  it("refuses unknown functions and duplicate names", async () => {
    await expect(mockCore.invoke("nope", {})).rejects.toThrow("not registered");
    expect(() => app.http("hello", { handler: async () => ({}) })).toThrow(
      "already been registered",
    );
  });
});
