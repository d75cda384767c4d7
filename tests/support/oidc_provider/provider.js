// A real OpenID provider for Deskmate's tests: the certified `oidc-provider` package on
// https://127.0.0.1:<port>, with its own (development) login page, the accounts and the
// client the test gives, and a test-only control route that rotates the signing key.
//
// Usage: node provider.js <config.json>; prints "listening <port>" once it serves.
// config: {port, cert, key, clients: [...], accounts: {login: claims}, idTokenTtl}
// Test-only routes: PUT /__test/clients (replace the clients), POST /__test/rotate.

import { generateKeyPairSync, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import https from "node:https";

import Provider from "oidc-provider";

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));

function signingKey() {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { ...privateKey.export({ format: "jwk" }), kid: randomUUID(), use: "sig", alg: "RS256" };
}

const accounts = config.accounts;
let keys = [signingKey()];

function build(issuer) {
  const provider = new Provider(issuer, {
    clients: config.clients,
    jwks: { keys },
    cookies: { keys: ["deskmate-test-cookie-key"] },
    claims: {
      openid: ["sub"],
      email: ["email", "email_verified"],
      profile: ["name", "preferred_username"],
      groups: ["groups"],
    },
    pkce: { required: () => true },
    ttl: { IdToken: config.idTokenTtl || 3600, AccessToken: 600, AuthorizationCode: 60,
      Grant: 3600, Interaction: 600, Session: 3600 },
    features: { devInteractions: { enabled: true } },
    // A first-party client: no consent page, every requested scope is granted.
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId
        || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope("openid email profile groups");
      await grant.save();
      return grant;
    },
    async findAccount(ctx, id) {
      const claims = accounts[id];
      if (!claims) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, ...claims }) };
    },
  });
  provider.on("server_error", (ctx, error) => console.error("server_error", error));
  return provider;
}

let provider = null;
const server = https.createServer({ cert: config.cert, key: config.key }, (req, res) => {
  if (req.method === "PUT" && req.url === "/__test/clients") {
    // The test registers Deskmate's redirect URI once its server has a port.
    let body = "";
    req.on("data", (chunk) => { body += chunk; });
    req.on("end", () => {
      config.clients = JSON.parse(body);
      provider = build(provider.issuer);
      res.writeHead(204);
      res.end();
    });
    return;
  }
  if (req.method === "POST" && req.url === "/__test/rotate") {
    // The provider signs with a new key from now on; the old one is no longer published.
    keys = [signingKey()];
    provider = build(provider.issuer);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ kid: keys[0].kid }));
    return;
  }
  provider.callback()(req, res);
});
server.listen(config.port || 0, "127.0.0.1", () => {
  const { port } = server.address();
  provider = build(`https://127.0.0.1:${port}`);
  console.log(`listening ${port}`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
