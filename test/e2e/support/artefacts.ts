// The closing check of every e2e file: no full card number in anything the host stored, queued,
// logged or answered, and no management URL or function key in any response.
import type { StartedHost } from "../../../local-host/test/support/host";
import { ALL_CARDS, cardsIn, filesUnder, leakedManagementUrls, type Api } from "./e2e";

/** A Service Bus journal record that stores a message sent to an entity (body = AMQP bytes). */
const ENQUEUED = /"t":"enq","e":"([^"]+)"(?:(?!"t":)[^])*?"b":"([A-Za-z0-9+/=]+)"/g;

export interface ArtefactReport {
  files: string[];
  /** Card hits: should be empty. */
  hits: { where: string; card: string; encoding: string }[];
  /** Responses that mention /runtime/webhooks or code=: should be empty. */
  leaks: string[];
  /**
   * Card numbers inside Service Bus journal records of messages sent to `orders-inbound`: the
   * messages exactly as the client sent them (other systems send card numbers by design). They
   * are reported here, not in `hits`; every other queue (notifications, dead-letter) is in `hits`.
   */
  inboundMessages: { where: string; card: string }[];
  /** Every searched text joined (for sanity checks that the search saw real content). */
  corpus: string;
}

export function searchArtefacts(
  host: StartedHost,
  api: Api,
  extraCards: readonly string[] = [],
  /** Output of earlier hosts on the same DATA_DIR (restarted during the file). */
  earlierLogs: readonly string[] = [],
): ArtefactReport {
  const logs = [...earlierLogs, host.logs()].join("\n");
  // As typed from a card too: groups of four separated by spaces or hyphens.
  const cards = [...ALL_CARDS, ...extraCards].flatMap((c) => {
    const groups = c.match(/.{1,4}/g)!;
    return [c, groups.join(" "), groups.join("-")];
  });
  const inboundMessages: ArtefactReport["inboundMessages"] = [];
  const files = filesUnder(host.dataDir).map((f) => ({
    file: f.file,
    text: f.text.replace(ENQUEUED, (record, entity: string, body: string) => {
      if (entity.toLowerCase() !== "orders-inbound") return record;
      const decoded = Buffer.from(body, "base64").toString("latin1");
      for (const card of cards) {
        if (decoded.includes(card)) inboundMessages.push({ where: f.file, card });
      }
      return record.replace(body, "");
    }),
  }));
  const hits = [
    ...files.flatMap((f) => cardsIn(f.text, cards, f.file)),
    ...cardsIn(logs, cards, "host.logs()"),
    ...api.responses.flatMap((r) =>
      cardsIn(`${JSON.stringify(r.headers)}\n${r.text}`, cards, `${r.method} ${r.url}`),
    ),
  ];
  const decodedJournals = files
    .map((f) =>
      (f.text.match(/[A-Za-z0-9+/]{16,}={0,2}/g) ?? [])
        .map((run) => Buffer.from(run, "base64").toString("latin1"))
        .join("\n"),
    )
    .join("\n");
  return {
    files: files.map((f) => f.file),
    hits,
    inboundMessages,
    leaks: leakedManagementUrls(api.responses),
    corpus: [...files.map((f) => f.text), decodedJournals, logs].join("\n"),
  };
}
