#pragma once
// HttpsServer: the TLS front door of privlinkd (Boost.Beast over Boost.Asio + OpenSSL).
//
// - HTTPS only, TLS 1.2 or newer. A client that speaks plain HTTP to the port gets one plain
//   "400 Bad Request" that says to use https://, and the connection is closed.
// - HTTP/1.1 with keep-alive; one io_context run by `threads` threads.
// - Every complete request is converted to an HttpRequest and handed to the Handler, which runs
//   synchronously on the I/O thread (so it must be fast and thread-safe). Exceptions thrown by the
//   handler become 500 InternalServerError.
// - A body larger than bodyLimit gets 413 RequestEntityTooLarge (ARM error body); malformed
//   requests get 400; the connection is closed after either.
// - A request must arrive completely within requestTimeout of the previous response (or of the
//   TLS handshake), which bounds both idle keep-alive connections and slow clients.
// - stop() is graceful: it stops accepting, closes idle connections, lets requests in flight
//   finish (up to stopGrace), then stops the threads.
//
// Boost.Asio and Beast appear only in https_server.cc (compile cost).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "api/http_types.h"
#include "common/status.h"

namespace privlink::api {

struct HttpsServerOptions {
  std::string host = "127.0.0.1";    // numeric IPv4/IPv6 address to bind
  uint16_t port = 8443;              // 0 picks a free port; see HttpsServer::port()
  std::string certificateChainFile;  // PEM: server certificate (then intermediates)
  std::string privateKeyFile;        // PEM
  int threads = 0;                   // 0: std::thread::hardware_concurrency()
  size_t bodyLimit = 4 * 1024 * 1024;
  std::chrono::milliseconds requestTimeout{60000};
  std::chrono::milliseconds handshakeTimeout{10000};
  std::chrono::milliseconds stopGrace{5000};
};

class HttpsServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  HttpsServer(HttpsServerOptions options, Handler handler);
  ~HttpsServer();  // stops if running
  HttpsServer(const HttpsServer&) = delete;
  HttpsServer& operator=(const HttpsServer&) = delete;

  // Loads the certificate, binds, listens and starts the I/O threads. Fails (without threads
  // running) if the certificate or key cannot be loaded or the address cannot be bound.
  Status start();
  // The bound port (meaningful after a successful start()).
  uint16_t port() const;
  // Graceful stop; idempotent; must not be called from an I/O thread (i.e. not from the handler).
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace privlink::api
