// Receive ImageGen's webhooks: check each signature with the account's secret, and handle each event once
// (a retry carries the same webhook-id).
import { createServer } from "node:http";
import { Webhook } from "standardwebhooks";

const webhook = new Webhook(process.env.IMAGEGEN_WEBHOOK_SECRET); // whsec_..., from POST /api/webhooks/secret
const handled = new Set();

const server = createServer(async (request, response) => {
  let body = "";
  for await (const chunk of request) body += chunk;
  let event;
  try {
    event = webhook.verify(body, request.headers);
  } catch {
    response.writeHead(401).end();
    return;
  }
  const id = request.headers["webhook-id"];
  if (!handled.has(id)) {
    handled.add(id);
    console.log(`${event.type} ${event.data.id} ${event.data.status}`);
  }
  response.writeHead(204).end();
});
server.listen(Number(process.env.PORT ?? 3000), "127.0.0.1", () => console.log(`listening on ${server.address().port}`));
