"""OpenID Connect sign-in: providers an admin configures, the authorization code flow
with PKCE, ID token checks, and the accounts a provider links or creates."""
