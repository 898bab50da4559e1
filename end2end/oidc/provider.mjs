// A real OpenID Connect provider (npm oidc-provider) for the single sign-on
// tests, on 127.0.0.1 only: `node oidc/provider.mjs PORT REDIRECT_URI`.
// Three people sign in with any password at its development login page:
// alice (group secops), bob (payments-oncall) and carol (contractors).
// PKCE is required; the group claim is in the ID token.
import Provider from "oidc-provider";

const [port, redirect] = process.argv.slice(2);
if (!port || !redirect) {
  console.error("usage: node oidc/provider.mjs PORT REDIRECT_URI");
  process.exit(2);
}

const PEOPLE = {
  alice: ["secops"],
  bob: ["payments-oncall"],
  carol: ["contractors"],
};

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [
    {
      client_id: "secretscope",
      client_secret: "e2e-client-secret",
      redirect_uris: [redirect],
      grant_types: ["authorization_code"],
      response_types: ["code"],
    },
  ],
  pkce: { required: () => true },
  scopes: ["openid", "profile", "email", "groups"],
  claims: {
    openid: ["sub"],
    profile: ["preferred_username", "name"],
    email: ["email"],
    groups: ["groups"],
  },
  // The scopes' claims go into the ID token, as many providers do for groups.
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ["secretscope-e2e-cookie-key"] },
  async findAccount(_ctx, id) {
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          preferred_username: id,
          name: id,
          email: `${id}@example.com`,
          groups: PEOPLE[id] ?? [],
        };
      },
    };
  },
});
provider.proxy = false;
const server = provider.listen(Number(port), "127.0.0.1", () => console.log(`oidc provider ready on ${port}`));
for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => server.close(() => process.exit(0)));
