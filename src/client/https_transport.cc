#include "client/https_transport.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/version.hpp>
#include <map>
#include <optional>

#include "client/url.h"

namespace privlink::client {
namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using Stream = beast::ssl_stream<beast::tcp_stream>;

struct Connection {
  std::unique_ptr<Stream> stream;
  beast::flat_buffer buffer;
};

bool isIpLiteral(const std::string& host) {
  beast::error_code ec;
  net::ip::make_address(host, ec);
  return !ec;
}

// A reused keep-alive connection that fails with one of these was closed by the peer while idle.
bool isStaleConnectionError(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == net::error::eof ||
         ec == net::error::connection_reset || ec == net::error::broken_pipe ||
         ec == net::ssl::error::stream_truncated || ec == net::error::connection_aborted;
}

class HttpsTransport : public HttpTransport {
 public:
  HttpsTransport(HttpsTransportOptions options, std::unique_ptr<ssl::context> ctx)
      : options_(std::move(options)), ctx_(std::move(ctx)) {}

  Result<HttpResponse> send(const HttpRequest& request) override {
    ASSIGN_OR_RETURN(Url url, Url::parse(request.url));
    if (url.scheme != "https") {
      return Status::InvalidArgument(
          "InsecureEndpoint", "refusing to send credentials over plain http to " + request.url +
                                  "; use an https:// endpoint");
    }
    std::string key = url.origin();
    for (int attempt = 0; attempt < 2; ++attempt) {
      bool reused = connections_.count(key) > 0;
      if (!reused) {
        Result<Connection> conn = connect(url);
        if (!conn.ok()) return conn.status();
        connections_.emplace(key, std::move(conn).value());
      }
      Connection& conn = connections_.at(key);
      bool receivedAny = false;
      beast::error_code ec;
      Result<HttpResponse> response = exchange(conn, url, request, ec, receivedAny);
      if (response.ok()) return response;
      connections_.erase(key);
      if (reused && !receivedAny && isStaleConnectionError(ec)) continue;
      return response.status();
    }
    return Status::Unavailable("connection to " + key + " kept closing; is privlinkd running?");
  }

 private:
  // Runs the io_context until the single pending operation completes.
  template <typename Start>
  beast::error_code run(Start&& start) {
    beast::error_code result = net::error::would_block;
    start([&result](beast::error_code ec, auto&&...) { result = ec; });
    ioc_.restart();
    ioc_.run();
    return result;
  }

  Result<Connection> connect(const Url& url) {
    std::string where = url.origin();
    tcp::resolver resolver(ioc_);
    tcp::resolver::results_type endpoints;
    beast::error_code ec = run([&](auto handler) {
      resolver.async_resolve(url.host, url.port,
                             [&endpoints, handler](beast::error_code e,
                                                   tcp::resolver::results_type r) mutable {
                               endpoints = std::move(r);
                               handler(e);
                             });
    });
    if (ec) {
      return Status::Unavailable("cannot resolve " + url.host + ": " + ec.message());
    }
    Connection conn;
    conn.stream = std::make_unique<Stream>(ioc_, *ctx_);
    auto& lowest = beast::get_lowest_layer(*conn.stream);
    lowest.expires_after(options_.timeout);
    ec = run([&](auto handler) { lowest.async_connect(endpoints, handler); });
    if (ec) {
      return Status::Unavailable("cannot connect to " + where + ": " + ec.message() +
                                 "; is privlinkd running and is the endpoint right?");
    }
    SSL* ssl = conn.stream->native_handle();
    std::string verifyName = options_.verifyHost.empty() ? url.host : options_.verifyHost;
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (isIpLiteral(verifyName)) {
      X509_VERIFY_PARAM_set1_ip_asc(param, verifyName.c_str());
    } else {
      X509_VERIFY_PARAM_set1_host(param, verifyName.c_str(), 0);
    }
    if (!isIpLiteral(url.host)) SSL_set_tlsext_host_name(ssl, url.host.c_str());
    conn.stream->set_verify_mode(ssl::verify_peer);
    lowest.expires_after(options_.timeout);
    ec = run([&](auto handler) { conn.stream->async_handshake(ssl::stream_base::client, handler); });
    if (ec) {
      long verify = SSL_get_verify_result(ssl);
      std::string detail = verify != X509_V_OK ? X509_verify_cert_error_string(verify)
                                               : ec.message();
      return Status::Unavailable("TLS handshake with " + where + " failed: " + detail +
                                 " (verifying host '" + verifyName +
                                 "'); check the CA certificate in the privlink config");
    }
    return conn;
  }

  Result<HttpResponse> exchange(Connection& conn, const Url& url, const HttpRequest& request,
                                beast::error_code& ec, bool& receivedAny) {
    http::request<http::string_body> req;
    req.method_string(request.method);
    req.target(url.target);
    req.version(11);
    bool defaultPort = url.port == "443";
    std::string host = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
    req.set(http::field::host, defaultPort ? host : host + ":" + url.port);
    req.set(http::field::user_agent, options_.userAgent);
    req.set(http::field::accept, "application/json");
    for (const auto& [name, value] : request.headers) req.set(name, value);
    req.body() = request.body;
    req.prepare_payload();
    req.keep_alive(true);

    auto& lowest = beast::get_lowest_layer(*conn.stream);
    lowest.expires_after(options_.timeout);
    ec = run([&](auto handler) { http::async_write(*conn.stream, req, handler); });
    if (ec) {
      return Status::Unavailable("sending " + request.method + " " + request.url +
                                 " failed: " + ec.message());
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    lowest.expires_after(options_.timeout);
    size_t before = conn.buffer.size();
    ec = run([&](auto handler) { http::async_read(*conn.stream, conn.buffer, parser, handler); });
    receivedAny = parser.got_some() || conn.buffer.size() != before;
    if (ec) {
      std::string what = ec == beast::error::timeout ? "timed out" : ec.message();
      return Status::Unavailable("reading the response to " + request.method + " " +
                                 request.url + " failed: " + what);
    }
    auto& res = parser.get();
    HttpResponse out;
    out.status = static_cast<int>(res.result_int());
    for (const auto& field : res) {
      std::string name(field.name_string());
      auto [it, inserted] = out.headers.emplace(name, std::string(field.value()));
      if (!inserted) it->second += ", " + std::string(field.value());
    }
    out.body = std::move(res.body());
    if (!res.keep_alive()) connections_.erase(url.origin());
    return out;
  }

  HttpsTransportOptions options_;
  std::unique_ptr<ssl::context> ctx_;
  net::io_context ioc_;
  std::map<std::string, Connection> connections_;
};

}  // namespace

Result<std::unique_ptr<HttpTransport>> makeHttpsTransport(const HttpsTransportOptions& options) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3);
  beast::error_code ec;
  if (options.caCertificate.empty()) {
    ctx->set_default_verify_paths(ec);
  } else if (options.caCertificate.find("-----BEGIN") != std::string::npos) {
    ctx->add_certificate_authority(net::buffer(options.caCertificate), ec);
  } else {
    ctx->load_verify_file(options.caCertificate, ec);
  }
  if (ec) {
    std::string what = options.caCertificate.find("-----BEGIN") != std::string::npos
                           ? std::string("the PEM text")
                           : "'" + options.caCertificate + "'";
    return Status::InvalidArgument("InvalidCaCertificate",
                                   "cannot load the CA certificate from " + what + ": " +
                                       ec.message() + "; pass a PEM file with --ca");
  }
  ctx->set_verify_mode(ssl::verify_peer);
  return std::unique_ptr<HttpTransport>(new HttpsTransport(options, std::move(ctx)));
}

}  // namespace privlink::client
