// The peer benchmark's workflow on Restate: save, charge, three parallel notifications,
// complete — six no-op durable steps (`ctx.run`, each journaled by the server before the next),
// the same shape as bench/noop-app on the local host. Listens on PORT; run by bench/peer.ts.
if (typeof Promise.withResolvers !== "function") {
  // The SDK uses Promise.withResolvers (Node 22); Node 20 lacks it.
  Promise.withResolvers = function withResolvers() {
    let resolve;
    let reject;
    const promise = new Promise((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

const restate = await import("@restatedev/restate-sdk");

const noop = async (input) => input;

const workflow = restate.service({
  name: "noop",
  handlers: {
    async run(ctx, input) {
      await ctx.run("save", () => noop(input));
      await ctx.run("charge", () => noop(input));
      await restate.RestatePromise.all(
        ["email", "sms", "push"].map((channel) =>
          ctx.run(`notify-${channel}`, () => noop(channel)),
        ),
      );
      await ctx.run("complete", () => noop(input));
      return "done";
    },
  },
});

restate.serve({ services: [workflow], port: Number(process.env.PORT ?? 9080) });
