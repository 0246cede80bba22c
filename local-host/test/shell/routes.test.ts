import {
  compareRoutes,
  compileRoute,
  fullRoute,
  matchRoute,
  RouteTemplateError,
} from "../../src/http/routes";

const match = (template: string, path: string) => matchRoute(compileRoute(template), path);

describe("route templates", () => {
  it("matches literals case-insensitively and binds parameters", () => {
    expect(match("api/orders/{id}", "API/Orders/42")).toEqual({ id: "42" });
    expect(match("api/orders/{id}", "api/orders")).toBeUndefined();
    expect(match("api/orders/{id}", "api/orders/1/2")).toBeUndefined();
  });

  it("handles optional parameters and defaults", () => {
    expect(match("a/{x?}", "a")).toEqual({});
    expect(match("a/{x?}", "a/1")).toEqual({ x: "1" });
    expect(match("a/{x=7}", "a")).toEqual({ x: "7" });
  });

  it("binds catch-alls to the rest of the path (possibly empty)", () => {
    expect(match("files/{*path}", "files/a/b%20c/d")).toEqual({ path: "a/b c/d" });
    expect(match("files/{**path}", "files")).toEqual({});
  });

  it("applies inline constraints, chained", () => {
    expect(match("n/{id:int}", "n/12")).toEqual({ id: "12" });
    expect(match("n/{id:int}", "n/x")).toBeUndefined();
    expect(match("n/{id:int:min(10)}", "n/9")).toBeUndefined();
    expect(match("n/{id:range(1,5)}", "n/5")).toEqual({ id: "5" });
    expect(match("n/{b:bool}", "n/TRUE")).toEqual({ b: "TRUE" });
    expect(match("n/{s:length(2,3)}", "n/abcd")).toBeUndefined();
    expect(match("n/{s:regex(^[a-c]+$)}", "n/abc")).toEqual({ s: "abc" });
    expect(match("n/{s:regex(^[a-c]+$)}", "n/abd")).toBeUndefined();
  });

  it("matches complex segments", () => {
    expect(match("f/{name}.{ext}", "f/report.pdf")).toEqual({ name: "report", ext: "pdf" });
  });

  it("orders literals before constrained before plain parameters before catch-alls", () => {
    const routes = ["x/{*rest}", "x/{id}", "x/{id:int}", "x/special"].map(compileRoute);
    expect([...routes].sort(compareRoutes).map((r) => r.template)).toEqual([
      "x/special",
      "x/{id:int}",
      "x/{id}",
      "x/{*rest}",
    ]);
  });

  it("rejects malformed templates with a clear error", () => {
    expect(() => compileRoute("a/{id")).toThrow(RouteTemplateError);
    expect(() => compileRoute("a/{*rest}/b")).toThrow("catch-all must be the last segment");
    expect(() => compileRoute("a/{id}/{ID}")).toThrow("repeats");
    expect(() => compileRoute("a/{id:nope}")).toThrow("unknown constraint 'nope'");
  });

  it("joins the route prefix", () => {
    expect(fullRoute("api", "/orders")).toBe("api/orders");
    expect(fullRoute("", "orders")).toBe("orders");
  });
});
