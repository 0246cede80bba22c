import { readFileSync } from "node:fs";
import JSON5 from "json5";
import { z } from "zod";

/** Entities as the broker uses them, resolved from Microsoft's emulator Config.json format. */
export interface QueueSettings {
  name: string;
  lockDurationMs: number;
  maxDeliveryCount: number;
  defaultTtlMs: number;
  deadLetterOnExpiration: boolean;
  requiresSession: boolean;
  requiresDuplicateDetection: boolean;
  duplicateWindowMs: number;
}

export type RuleFilter =
  | {
      kind: "correlation";
      system: Partial<Record<CorrelationKey, string>>;
      properties: Record<string, unknown>;
    }
  | { kind: "sql"; expression: string };

export type CorrelationKey =
  | "ContentType"
  | "CorrelationId"
  | "Label"
  | "MessageId"
  | "ReplyTo"
  | "ReplyToSessionId"
  | "SessionId"
  | "To";

export interface RuleSettings {
  name: string;
  filter: RuleFilter;
  action?: string;
}

export interface SubscriptionSettings extends QueueSettings {
  rules: RuleSettings[];
}

export interface TopicSettings {
  name: string;
  defaultTtlMs: number;
  requiresDuplicateDetection: boolean;
  duplicateWindowMs: number;
  subscriptions: SubscriptionSettings[];
}

export interface EmulatorConfig {
  namespace: string;
  queues: QueueSettings[];
  topics: TopicSettings[];
}

const DURATION =
  /^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/** Parses an ISO 8601 duration such as `PT1M` or `P14D` to milliseconds (a year is 365 days, a month 30). */
export function parseDuration(text: string): number {
  const m = DURATION.exec(text);
  if (!m) throw new Error(`"${text}" is not an ISO 8601 duration (for example PT30S, PT1M, P14D)`);
  const [y, mo, d, h, mi, s] = m.slice(1).map((v) => (v === undefined ? 0 : Number(v)));
  const days = y * 365 + mo * 30 + d;
  return Math.round(((days * 24 + h) * 60 + mi) * 60_000 + s * 1000);
}

const duration = z.string().refine((v) => DURATION.test(v), {
  message: "must be an ISO 8601 duration such as PT30S, PT1M or P14D",
});
const entityName = z.string().regex(/^[A-Za-z0-9]$|^[A-Za-z0-9][\w\-./]*[A-Za-z0-9]$/, {
  message:
    "must start and end with a letter or digit and use only letters, digits, '-', '_', '.', '/'",
});

const queueProps = z
  .object({
    DeadLetteringOnMessageExpiration: z.boolean().optional(),
    DefaultMessageTimeToLive: duration.optional(),
    DuplicateDetectionHistoryTimeWindow: duration.optional(),
    ForwardDeadLetteredMessagesTo: z.string().optional(),
    ForwardTo: z.string().optional(),
    LockDuration: duration.optional(),
    MaxDeliveryCount: z.number().int().min(1).optional(),
    RequiresDuplicateDetection: z.boolean().optional(),
    RequiresSession: z.boolean().optional(),
  })
  .loose();

const correlationFilter = z
  .object({
    ContentType: z.string().optional(),
    CorrelationId: z.string().optional(),
    Label: z.string().optional(),
    MessageId: z.string().optional(),
    ReplyTo: z.string().optional(),
    ReplyToSessionId: z.string().optional(),
    SessionId: z.string().optional(),
    To: z.string().optional(),
    Properties: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

const rule = z.object({
  Name: entityName,
  Properties: z
    .object({
      FilterType: z.enum(["Correlation", "Sql"]),
      CorrelationFilter: correlationFilter.optional(),
      SqlFilter: z.object({ SqlExpression: z.string().min(1) }).optional(),
      Action: z.object({ SqlExpression: z.string() }).optional(),
    })
    .loose(),
});

const fileSchema = z.object({
  UserConfig: z
    .object({
      Namespaces: z
        .array(
          z
            .object({
              Name: z.string().min(1),
              Queues: z
                .array(z.object({ Name: entityName, Properties: queueProps.optional() }))
                .optional(),
              Topics: z
                .array(
                  z.object({
                    Name: entityName,
                    Properties: queueProps.optional(),
                    Subscriptions: z
                      .array(
                        z.object({
                          Name: entityName,
                          Properties: queueProps.optional(),
                          Rules: z.array(rule).optional(),
                        }),
                      )
                      .optional(),
                  }),
                )
                .optional(),
            })
            .loose(),
        )
        .min(1),
      Logging: z.unknown().optional(),
    })
    .loose(),
});

type QueueProps = z.infer<typeof queueProps>;

function queueSettings(name: string, p: QueueProps = {}): QueueSettings {
  return {
    name,
    // Defaults are Microsoft's emulator defaults (Config-schema.json).
    lockDurationMs: parseDuration(p.LockDuration ?? "PT1M"),
    maxDeliveryCount: p.MaxDeliveryCount ?? 3,
    defaultTtlMs: parseDuration(p.DefaultMessageTimeToLive ?? "PT1H"),
    deadLetterOnExpiration: p.DeadLetteringOnMessageExpiration ?? false,
    requiresSession: p.RequiresSession ?? false,
    requiresDuplicateDetection: p.RequiresDuplicateDetection ?? false,
    duplicateWindowMs: parseDuration(p.DuplicateDetectionHistoryTimeWindow ?? "PT20S"),
  };
}

/**
 * Reads a Config.json in the format of Microsoft's Service Bus emulator (comments allowed, as in
 * Microsoft's published sample) from a path or an already parsed object.
 */
export function loadConfig(source: string | object): EmulatorConfig {
  let raw: unknown = source;
  if (typeof source === "string") {
    let text: string;
    try {
      text = readFileSync(source, "utf8");
    } catch (err) {
      throw new Error(`Cannot read Service Bus config "${source}": ${(err as Error).message}`);
    }
    try {
      raw = JSON5.parse(text);
    } catch (err) {
      throw new Error(
        `Service Bus config "${source}" is not valid JSON: ${(err as Error).message}`,
      );
    }
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`)
      .join("; ");
    throw new Error(`Invalid Service Bus config: ${issues}`);
  }
  const namespaces = parsed.data.UserConfig.Namespaces;
  const config: EmulatorConfig = { namespace: namespaces[0].Name, queues: [], topics: [] };
  const seen = new Set<string>();
  const claim = (name: string): void => {
    const key = name.toLowerCase();
    if (seen.has(key))
      throw new Error(`Invalid Service Bus config: entity "${name}" is defined twice`);
    seen.add(key);
  };
  for (const ns of namespaces) {
    for (const q of ns.Queues ?? []) {
      claim(q.Name);
      config.queues.push(queueSettings(q.Name, q.Properties));
    }
    for (const t of ns.Topics ?? []) {
      claim(t.Name);
      const base = queueSettings(t.Name, t.Properties);
      const subNames = new Set<string>();
      const subscriptions = (t.Subscriptions ?? []).map((s): SubscriptionSettings => {
        if (subNames.has(s.Name.toLowerCase())) {
          throw new Error(
            `Invalid Service Bus config: subscription "${t.Name}/${s.Name}" is defined twice`,
          );
        }
        subNames.add(s.Name.toLowerCase());
        const rules = (s.Rules ?? []).map((r): RuleSettings => {
          const p = r.Properties;
          const where = `rule "${t.Name}/${s.Name}/${r.Name}"`;
          let filter: RuleFilter;
          if (p.FilterType === "Correlation") {
            if (!p.CorrelationFilter)
              throw new Error(`Invalid Service Bus config: ${where} has no CorrelationFilter`);
            const { Properties, ...system } = p.CorrelationFilter;
            filter = { kind: "correlation", system, properties: Properties ?? {} };
          } else {
            if (!p.SqlFilter)
              throw new Error(`Invalid Service Bus config: ${where} has no SqlFilter`);
            filter = { kind: "sql", expression: p.SqlFilter.SqlExpression };
          }
          return { name: r.Name, filter, action: p.Action?.SqlExpression };
        });
        return { ...queueSettings(s.Name, s.Properties), rules };
      });
      config.topics.push({
        name: t.Name,
        defaultTtlMs: base.defaultTtlMs,
        requiresDuplicateDetection: base.requiresDuplicateDetection,
        duplicateWindowMs: base.duplicateWindowMs,
        subscriptions,
      });
    }
  }
  return config;
}
