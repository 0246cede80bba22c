// Alerts in the compiled ARM template (infra/app/alerts.bicep via infra/main.bicep): one action
// group, four log alerts on Application Insights, each querying a signal the app really emits
// (the names come from src/observability/metricNames.ts).
import { ATTR, METRIC, ORDER_FINISHED_EVENT } from "../../src/observability/metricNames";
import { at, Compiled } from "./arm";
import type { ArmParameter } from "./compiler";

const arm = new Compiled();
const template = arm.moduleTemplate("alerts");
const rules = (template.variables as { rules: Record<string, unknown>[] }).rules;
const rule = (name: string) => {
  const found = rules.find((r) => r.name === name);
  if (!found) throw new Error(`no alert rule ${name}`);
  return found as { query: string; threshold: unknown; severity: number };
};

describe("alerts module", () => {
  it("is deployed from main.bicep into the resource group, after monitoring, on its App Insights", () => {
    const m = arm.module("alerts");
    expect(m.dependsOn).toEqual(expect.arrayContaining(["rg", "monitoring"]));
    const p = arm.moduleParams("alerts");
    expect(p.applicationInsightsName).toBe("[variables('applicationInsightsName')]");
    expect(p.alertEmails).toBe("[parameters('alertEmails')]");
    expect(p.acceptToFinishP95Seconds).toBe("[parameters('acceptToFinishP95Seconds')]");
    const main = arm.template.parameters as Record<string, ArmParameter>;
    expect(main.alertEmails).toMatchObject({ type: "array", defaultValue: [] });
    expect(main.acceptToFinishP95Seconds).toMatchObject({ type: "int", defaultValue: 300 });
  });

  it("has one parameterised action group that every alert notifies", () => {
    const group = arm.one("Microsoft.Insights/actionGroups");
    expect(group.modules).toEqual(["alerts"]);
    expect(group.location).toBe("global");
    const receivers = at(group, "properties", "copy", 0) as Record<string, unknown>;
    expect(receivers).toMatchObject({
      name: "emailReceivers",
      count: "[length(parameters('alertEmails'))]",
      input: { emailAddress: "[parameters('alertEmails')[copyIndex('emailReceivers')]]" },
    });
    const alerts = arm.one("Microsoft.Insights/scheduledQueryRules");
    expect(at(alerts, "properties", "actions", "actionGroups")).toEqual([
      "[resourceId('Microsoft.Insights/actionGroups', format('ag-{0}', parameters('applicationInsightsName')))]",
    ]);
  });

  it("evaluates log alerts on the Application Insights component, one per rule", () => {
    const alerts = arm.one("Microsoft.Insights/scheduledQueryRules");
    expect(alerts.kind).toBe("LogAlert");
    expect(alerts.copy).toEqual({ name: "alerts", count: "[length(variables('rules'))]" });
    expect(at(alerts, "properties", "scopes")).toEqual([
      "[resourceId('Microsoft.Insights/components', parameters('applicationInsightsName'))]",
    ]);
    expect(at(alerts, "properties", "criteria", "allOf", 0)).toMatchObject({
      query: "[variables('rules')[copyIndex()].query]",
      metricMeasureColumn: "value",
      operator: "GreaterThan",
      threshold: "[variables('rules')[copyIndex()].threshold]",
    });
    expect(rules.map((r) => r.name).sort()).toEqual([
      "accept-to-finish-p95",
      "dead-lettered-notifications",
      "failed-orchestrations",
      "rejected-inbound-messages",
    ]);
  });

  it("queries the metric names and attributes the app records", () => {
    const failed = rule("failed-orchestrations");
    expect(failed.query).toContain(`name == "${METRIC.ordersFinished}"`);
    expect(failed.query).toContain(`customDimensions["${ATTR.outcome}"]) == "failed"`);
    expect(failed.threshold).toBe("[parameters('failedOrchestrationsThreshold')]");
    expect(rule("dead-lettered-notifications").query).toContain(
      `name == "${METRIC.notificationsDeadLettered}"`,
    );
    expect(rule("rejected-inbound-messages").query).toContain(
      `name == "${METRIC.inboundRejected}"`,
    );
    const p95 = rule("accept-to-finish-p95");
    expect(p95.query).toContain(`\\"event\\":\\"${ORDER_FINISHED_EVENT}\\"`);
    expect(p95.query).toContain("percentile(d, 95) / 1000.0");
    expect(p95.threshold).toBe("[parameters('acceptToFinishP95Seconds')]");
  });
});
