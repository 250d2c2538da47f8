#pragma once
// HttpsTransport: the production HttpTransport, HTTPS/1.1 over Boost.Beast + OpenSSL.
//
// - Verifies the server certificate against `caCertificate` (PEM text or a PEM file path; empty
//   means the system trust store) and the host name (`verifyHost`, or the URL host when empty;
//   IP literals are matched against IP subjectAltNames).
// - Keeps one keep-alive connection per origin and reuses it; a reused connection that the server
//   has closed is reopened once transparently (the request is re-sent only when no response byte
//   was received).
// - Plain http:// URLs are refused: the client sends bearer tokens and secrets.
// Not thread-safe: one transport per thread. Beast is confined to https_transport.cc.

#include <chrono>
#include <memory>
#include <string>

#include "client/http_transport.h"

namespace privlink::client {

struct HttpsTransportOptions {
  std::string caCertificate;  // PEM text ("-----BEGIN CERTIFICATE-----...") or a file path
  std::string verifyHost;     // empty: verify the URL's host
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};  // per network operation
  std::string userAgent = "privlink-cli/0.1";
};

// Fails with InvalidCaCertificate when the CA cannot be loaded.
Result<std::unique_ptr<HttpTransport>> makeHttpsTransport(const HttpsTransportOptions& options);

}  // namespace privlink::client
