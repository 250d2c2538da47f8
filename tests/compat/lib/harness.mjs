// Shared harness of the compat scripts: a loopback-only connection guard, the daemon's admin
// identity (PRIVLINK_ADMIN, set by run_compat.sh), the real @azure/identity credential and client
// options, a tiny sequential test runner that prints "N passed, M failed", and assertions for
// ARM errors and addresses.

import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import tls from "node:tls";

import { ClientSecretCredential } from "@azure/identity";

// --- No traffic except to this machine -------------------------------------------------------
// Every outgoing TCP/TLS connection is recorded; a connection to any other host is refused
// before it is made, and checkLoopbackOnly() fails.
const connectedHosts = new Set();
const refusedHosts = new Set();
function guardConnect(original) {
  return function guarded(...args) {
    let host = "localhost";
    const first = args[0];
    if (first && typeof first === "object") host = first.host ?? first.servername ?? "localhost";
    else if (typeof args[1] === "string") host = args[1];
    if (!["localhost", "127.0.0.1", "::1"].includes(host)) {
      refusedHosts.add(host);
      throw new Error(`compat test: refused connection to ${host} (only loopback is allowed)`);
    }
    connectedHosts.add(host);
    return original.apply(this, args);
  };
}
tls.connect = guardConnect(tls.connect);
net.connect = guardConnect(net.connect);
net.createConnection = guardConnect(net.createConnection);

export function checkLoopbackOnly() {
  assert.deepEqual([...refusedHosts], [], "the SDK tried to reach other hosts");
  assert.ok(connectedHosts.size > 0, "no connection was recorded");
}

// --- The daemon and the credential -----------------------------------------------------------
export const admin = JSON.parse(fs.readFileSync(process.env.PRIVLINK_ADMIN, "utf8"));
export const BASE = admin.endpoint.replace(/\/+$/, "");
export const SUB = admin.subscriptionId;
export const LOCATION = process.env.PRIVLINK_LOCATION || "local";
export const suffix = Math.random().toString(36).slice(2, 8);

export function makeCredential(secret = admin.clientSecret) {
  return new ClientSecretCredential(admin.tenantId, admin.clientId, secret, {
    authorityHost: BASE,
    disableInstanceDiscovery: true,
  });
}
export const credential = makeCredential();
export const clientOptions = {
  endpoint: BASE,
  credentialScopes: [`${BASE}/.default`],
  updateIntervalInMs: 200,
};
export const poll = { updateIntervalInMs: 200 };

// --- privlinkd's directory and role assignments (admin only; no SDK covers these) ------------
// adminCall METHOD PATH [BODY]: the admin's request to privlinkd (api-version 2022-04-01 added);
// fails the test unless the status is 2xx; returns the parsed body ({} when empty).
export async function adminCall(method, path, body) {
  const token = await credential.getToken(`${BASE}/.default`);
  const sep = path.includes("?") ? "&" : "?";
  const res = await fetch(`${BASE}${path}${sep}api-version=2022-04-01`, {
    method,
    headers: { authorization: `Bearer ${token.token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : {};
}
// A new service principal "js-NAME-<suffix>" with its client secret ({appId, secret, objectId}).
export async function newPrincipal(name) {
  const p = await adminCall("POST", "/providers/Microsoft.Privlink/principals",
    { kind: "ServicePrincipal", displayName: `js-${name}-${suffix}` });
  assert.ok(p.appId && p.secret && p.objectId, JSON.stringify(p));
  return p;
}
// Assigns the built-in role ROLE_GUID of SUBSCRIPTION to PRINCIPAL at SCOPE.
export async function grantRole(principal, roleGuid, subscription, scope) {
  await adminCall("PUT", `${scope}/providers/Microsoft.Authorization/roleAssignments/${crypto.randomUUID()}`, {
    properties: {
      roleDefinitionId: `/subscriptions/${subscription}/providers/Microsoft.Authorization/roleDefinitions/${roleGuid}`,
      principalId: principal.objectId,
      principalType: "ServicePrincipal",
    },
  });
}
// The @azure/identity credential of a principal newPrincipal made.
export const principalCredential = (p) => new ClientSecretCredential(admin.tenantId, p.appId, p.secret, {
  authorityHost: BASE,
  disableInstanceDiscovery: true,
});

// --- A tiny sequential runner ----------------------------------------------------------------
let passed = 0;
let failed = 0;
export async function test(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`PASS ${name}`);
  } catch (err) {
    failed++;
    console.log(`FAIL ${name}`);
    console.log(`     ${String(err?.stack ?? err).split("\n").slice(0, 6).join("\n     ")}`);
    if (err?.request) console.log(`     request: ${err.request.method} ${err.request.url}`);
    if (err?.response) {
      console.log(`     response: ${err.response.status} ${String(err.response.bodyAsText).slice(0, 400)}`);
    }
  }
}

// Runs the clean-up steps (errors ignored) when a test failed, prints the closing line and exits.
export async function finish(cleanups = []) {
  if (failed > 0) {
    for (const step of cleanups) await step().catch(() => {});
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

// --- Assertions ------------------------------------------------------------------------------
export async function collect(iterable) {
  const out = [];
  for await (const item of iterable) out.push(item);
  return out;
}

// Asserts that promise rejects with a RestError of the given status(es) and ARM code(s).
export async function expectRestError(promise, statuses, codes) {
  const wantedCodes = [codes].flat();
  const wantedStatuses = [statuses].flat();
  try {
    await promise;
  } catch (err) {
    assert.equal(err.name, "RestError", `expected RestError, got ${err.name}: ${err.message}`);
    assert.ok(wantedStatuses.includes(err.statusCode),
      `status ${err.statusCode} not one of ${wantedStatuses.join(", ")}: ${err.message}`);
    assert.ok(wantedCodes.includes(err.code),
      `code ${err.code} not one of ${wantedCodes.join(", ")}: ${err.message}`);
    return err;
  }
  assert.fail(`expected RestError ${wantedStatuses.join("|")} ${wantedCodes.join("|")}, but the call succeeded`);
}

function ipv4ToInt(ip) {
  const parts = ip.split(".").map(Number);
  assert.equal(parts.length, 4, `not an IPv4 address: ${ip}`);
  return parts.reduce((acc, p) => acc * 256 + p, 0);
}
// True when ip is a usable host address of prefix (Azure reserves the first four and the last).
export function usableIn(ip, prefix) {
  const [base, len] = prefix.split("/");
  const size = 2 ** (32 - Number(len));
  const offset = ipv4ToInt(ip) - ipv4ToInt(base);
  return offset >= 4 && offset < size - 1;
}

export const sameId = (a, b) => assert.equal(String(a).toLowerCase(), String(b).toLowerCase());
