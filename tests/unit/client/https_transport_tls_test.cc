// HttpsTransport against a real TLS server on 127.0.0.1: certificate and host-name verification,
// keep-alive reuse, and transparent reconnection when the server closed an idle connection.

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <thread>

#include "api/certificates.h"
#include "client/https_transport.h"

namespace privlink::client {
namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;

struct Pki {
  api::PemCertificate ca;
  api::PemCertificate server;
};

const Pki& pki() {
  static const Pki kPki = [] {
    Pki p;
    p.ca = *api::createCertificateAuthority("privlink test CA", 1);
    p.server = *api::issueServerCertificate(p.ca, api::ServerCertificateRequest{});
    return p;
  }();
  return kPki;
}

// Serves one connection at a time; answers every request with {"request":N,"connection":M}.
// With closeAfterEachResponse it closes the connection after answering although the response
// said keep-alive, as a server does when its idle timeout fires.
class TlsTestServer {
 public:
  explicit TlsTestServer(bool closeAfterEachResponse)
      : ctx_(ssl::context::tls_server),
        acceptor_(ioc_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)),
        closeAfterEach_(closeAfterEachResponse) {
    ctx_.use_certificate_chain(net::buffer(pki().server.certificatePem));
    ctx_.use_private_key(net::buffer(pki().server.privateKeyPem), ssl::context::pem);
    thread_ = std::thread([this] { run(); });
  }
  ~TlsTestServer() {
    stopping_ = true;
    beast::error_code ec;
    tcp::socket wake(ioc_);
    wake.connect(acceptor_.local_endpoint(), ec);  // unblocks accept()
    thread_.join();
  }
  int port() const { return acceptor_.local_endpoint().port(); }
  std::string url(const std::string& host = "localhost") const {
    return "https://" + host + ":" + std::to_string(port()) + "/x";
  }

  std::atomic<int> connections{0};
  std::atomic<int> requests{0};

 private:
  void run() {
    while (!stopping_) {
      beast::error_code ec;
      tcp::socket socket(ioc_);
      acceptor_.accept(socket, ec);
      if (ec || stopping_) break;
      int connection = ++connections;
      ssl::stream<tcp::socket> stream(std::move(socket), ctx_);
      stream.handshake(ssl::stream_base::server, ec);
      if (ec) continue;
      beast::flat_buffer buffer;
      while (true) {
        http::request<http::string_body> req;
        http::read(stream, buffer, req, ec);
        if (ec) break;
        int n = ++requests;
        http::response<http::string_body> res{http::status::ok, 11};
        res.set(http::field::content_type, "application/json");
        res.body() = "{\"request\":" + std::to_string(n) +
                     ",\"connection\":" + std::to_string(connection) + "}";
        res.keep_alive(true);
        res.prepare_payload();
        http::write(stream, res, ec);
        if (ec || closeAfterEach_) break;
      }
      stream.lowest_layer().shutdown(tcp::socket::shutdown_both, ec);
      stream.lowest_layer().close(ec);
    }
  }

  net::io_context ioc_;
  ssl::context ctx_;
  tcp::acceptor acceptor_;
  bool closeAfterEach_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

std::unique_ptr<HttpTransport> transportTrusting(const std::string& caPem,
                                                 const std::string& verifyHost = "") {
  HttpsTransportOptions options;
  options.caCertificate = caPem;
  options.verifyHost = verifyHost;
  options.timeout = std::chrono::seconds(10);
  auto t = makeHttpsTransport(options);
  EXPECT_TRUE(t.ok()) << t.status().toString();
  return std::move(t).value();
}

TEST(HttpsTransportTlsTest, KeepAliveReusesOneConnection) {
  TlsTestServer server(/*closeAfterEachResponse=*/false);
  auto transport = transportTrusting(pki().ca.certificatePem);
  for (int i = 1; i <= 3; ++i) {
    auto res = transport->send(HttpRequest{"GET", server.url(), {}, {}});
    ASSERT_TRUE(res.ok()) << res.status().toString();
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->body, "{\"request\":" + std::to_string(i) + ",\"connection\":1}");
    EXPECT_EQ(res->header("content-type"), "application/json");
  }
  transport.reset();
  EXPECT_EQ(server.connections, 1);
}

TEST(HttpsTransportTlsTest, ReconnectsAfterServerClosedIdleConnection) {
  TlsTestServer server(/*closeAfterEachResponse=*/true);
  auto transport = transportTrusting(pki().ca.certificatePem);
  for (int i = 1; i <= 3; ++i) {
    HttpRequest req{"PUT", server.url(), {{"Content-Type", "application/json"}}, "{}"};
    auto res = transport->send(req);
    ASSERT_TRUE(res.ok()) << "request " << i << ": " << res.status().toString();
    EXPECT_EQ(res->body, "{\"request\":" + std::to_string(i) +
                             ",\"connection\":" + std::to_string(i) + "}");
  }
  transport.reset();
  EXPECT_EQ(server.requests, 3);  // no request was sent twice
}

TEST(HttpsTransportTlsTest, VerifiesIpAddressAgainstIpSan) {
  TlsTestServer server(false);
  auto transport = transportTrusting(pki().ca.certificatePem);
  auto res = transport->send(HttpRequest{"GET", server.url("127.0.0.1"), {}, {}});
  ASSERT_TRUE(res.ok()) << res.status().toString();
}

TEST(HttpsTransportTlsTest, UntrustedCaFailsTheHandshake) {
  TlsTestServer server(false);
  api::PemCertificate otherCa = *api::createCertificateAuthority("someone else", 1);
  auto transport = transportTrusting(otherCa.certificatePem);
  auto res = transport->send(HttpRequest{"GET", server.url(), {}, {}});
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(res.status().message().find("TLS handshake"), std::string::npos)
      << res.status().message();
  EXPECT_NE(res.status().message().find("certificate"), std::string::npos);
}

TEST(HttpsTransportTlsTest, HostNameMismatchFailsTheHandshake) {
  TlsTestServer server(false);
  auto transport = transportTrusting(pki().ca.certificatePem, "privlink.example");
  auto res = transport->send(HttpRequest{"GET", server.url(), {}, {}});
  ASSERT_FALSE(res.ok());
  EXPECT_NE(res.status().message().find("privlink.example"), std::string::npos)
      << res.status().message();
}

}  // namespace
}  // namespace privlink::client
