// The only translation unit that includes Boost.Asio/Beast (compile cost; see https_server.h).
#include "api/https_server.h"

#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/core/detect_ssl.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <condition_variable>
#include <exception>
#include <list>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "api/arm_error.h"

namespace privlink::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

class Session;

// What the acceptor, the sessions and stop() share.
// Declaration order matters: ioc is destroyed first, and the sessions its pending handlers still
// own use mu, cv and tls while they are destroyed.
struct ServerCore {
  HttpsServerOptions options;
  HttpsServer::Handler handler;
  std::mutex mu;
  std::condition_variable cv;
  std::list<std::weak_ptr<Session>> sessions;  // guarded by mu
  size_t liveSessions = 0;                     // guarded by mu
  bool stopping = false;                       // guarded by mu
  uint16_t port = 0;
  ssl::context tls{ssl::context::tls_server};
  asio::io_context ioc;

  explicit ServerCore(int threadHint) : ioc(threadHint) {}
};

HttpResponse errorResponse(const Status& status) { return armErrorResponse(status); }

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, ServerCore& core)
      : core_(core), executor_(socket.get_executor()), tcp_(std::move(socket)) {
    boost::system::error_code ec;
    auto remote = tcp_.socket().remote_endpoint(ec);
    if (!ec) remote_ = remote.address().to_string() + ":" + std::to_string(remote.port());
    std::lock_guard lock(core_.mu);
    ++core_.liveSessions;
  }

  ~Session() {
    std::lock_guard lock(core_.mu);
    --core_.liveSessions;
    core_.cv.notify_all();
  }

  void run() {
    asio::dispatch(executor_, [self = shared_from_this()] { self->detect(); });
  }

  // Called (via post onto this session's strand) when the server stops.
  void onServerStop() {
    stopping_ = true;
    if (phase_ == Phase::kHandshake || phase_ == Phase::kReading) closeSocket();
  }

  asio::any_io_executor executor() { return executor_; }

 private:
  enum class Phase { kHandshake, kReading, kHandling, kWriting, kClosing };

  beast::tcp_stream& lowest() { return tls_ ? beast::get_lowest_layer(*tls_) : tcp_; }

  void closeSocket() {
    phase_ = Phase::kClosing;
    boost::system::error_code ec;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
    lowest().socket().close(ec);
  }

  void detect() {
    phase_ = Phase::kHandshake;
    tcp_.expires_after(core_.options.handshakeTimeout);
    beast::async_detect_ssl(tcp_, buffer_,
                            [self = shared_from_this()](beast::error_code ec, bool isTls) {
                              self->onDetect(ec, isTls);
                            });
  }

  void onDetect(beast::error_code ec, bool isTls) {
    if (ec || stopping_) return closeSocket();
    if (!isTls) return refusePlainHttp();
    tls_.emplace(std::move(tcp_), core_.tls);
    tls_->async_handshake(ssl::stream_base::server, buffer_.data(),
                          [self = shared_from_this()](beast::error_code ec, size_t used) {
                            self->onHandshake(ec, used);
                          });
  }

  void refusePlainHttp() {
    std::string text =
        "privlinkd speaks HTTPS only; use https://localhost:" + std::to_string(core_.port) + "/\n";
    plain_ =
        "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n"
        "Content-Length: " +
        std::to_string(text.size()) + "\r\n\r\n" + text;
    spdlog::debug("{} plain HTTP on the HTTPS port; refused", remote_);
    phase_ = Phase::kWriting;
    asio::async_write(
        tcp_.socket(), asio::buffer(plain_),
        [self = shared_from_this()](beast::error_code, size_t) { self->closeSocket(); });
  }

  void onHandshake(beast::error_code ec, size_t used) {
    if (ec) {
      spdlog::debug("{} TLS handshake failed: {}", remote_, ec.message());
      return closeSocket();
    }
    buffer_.consume(used);
    readRequest();
  }

  void readRequest() {
    if (stopping_) return shutdownTls();
    phase_ = Phase::kReading;
    parser_.emplace();
    parser_->body_limit(core_.options.bodyLimit);
    parser_->header_limit(64 * 1024);
    lowest().expires_after(core_.options.requestTimeout);
    http::async_read(
        *tls_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->onRead(ec); });
  }

  void onRead(beast::error_code ec) {
    if (ec == http::error::end_of_stream) return shutdownTls();
    if (ec == http::error::body_limit) {
      return respondAndClose(
          errorResponse(Status::InvalidArgument("RequestEntityTooLarge",
                                                "The request body is larger than the limit of " +
                                                    std::to_string(core_.options.bodyLimit) +
                                                    " bytes; send a smaller body.")),
          413);
    }
    if (ec == beast::error::timeout) {
      spdlog::debug("{} closed: no complete request within the timeout", remote_);
      return closeSocket();
    }
    if (ec) {
      if (ec.category() == http::make_error_code(http::error::bad_target).category()) {
        return respondAndClose(errorResponse(Status::InvalidArgument(
                                   "BadRequest", "Malformed HTTP request: " + ec.message())),
                               400);
      }
      return closeSocket();
    }
    handle();
  }

  void handle() {
    phase_ = Phase::kHandling;
    auto& message = parser_->get();
    HttpRequest request;
    request.method = std::string(message.method_string());
    std::transform(request.method.begin(), request.method.end(), request.method.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    request.target = std::string(message.target());
    for (const auto& field : message) {
      std::string name(field.name_string());
      auto [it, inserted] = request.headers.emplace(name, std::string(field.value()));
      if (!inserted) it->second += ", " + std::string(field.value());
    }
    request.body = std::move(message.body());
    request.remoteAddress = remote_;
    bool keepAlive = message.keep_alive();
    unsigned version = message.version();

    auto started = std::chrono::steady_clock::now();
    HttpResponse response;
    try {
      response = core_.handler(request);
    } catch (const std::exception& e) {
      spdlog::warn("{} {} {}: handler threw: {}", remote_, request.method, request.target,
                   e.what());
      response = errorResponse(Status::Internal(std::string("Unexpected error: ") + e.what()));
    } catch (...) {
      spdlog::warn("{} {} {}: handler threw", remote_, request.method, request.target);
      response = errorResponse(Status::Internal("Unexpected error"));
    }
    auto ms = std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::steady_clock::now() - started)
                  .count() /
              1000.0;
    spdlog::debug("{} {} {} -> {} ({:.1f} ms)", remote_, request.method, request.target,
                  response.status, ms);
    write(std::move(response), version, keepAlive && !stopping_, request.method == "HEAD");
  }

  void respondAndClose(HttpResponse response, int status) {
    response.status = status;
    spdlog::debug("{} -> {} (connection closed)", remote_, status);
    write(std::move(response), 11, false, false);
  }

  void write(HttpResponse response, unsigned version, bool keepAlive, bool head) {
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(version);
    res->result(static_cast<unsigned>(response.status));
    for (auto& [name, value] : response.headers) res->insert(name, value);
    res->set(http::field::server, "privlinkd");
    res->keep_alive(keepAlive);
    res->body() = std::move(response.body);
    res->prepare_payload();
    if (head) res->body().clear();  // Content-Length stays that of the GET body
    keepAlive_ = keepAlive;
    response_ = res;
    phase_ = Phase::kWriting;
    lowest().expires_after(core_.options.requestTimeout);
    http::async_write(*tls_, *res, [self = shared_from_this()](beast::error_code ec, size_t) {
      self->onWrite(ec);
    });
  }

  void onWrite(beast::error_code ec) {
    response_.reset();
    if (ec) return closeSocket();
    if (!keepAlive_ || stopping_) return shutdownTls();
    readRequest();
  }

  void shutdownTls() {
    phase_ = Phase::kClosing;
    lowest().expires_after(std::chrono::seconds(2));
    tls_->async_shutdown([self = shared_from_this()](beast::error_code) { self->closeSocket(); });
  }

  ServerCore& core_;
  asio::any_io_executor executor_;  // this session's strand
  beast::tcp_stream tcp_;           // until TLS is detected; then moved into tls_
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<void> response_;
  std::string plain_;
  std::string remote_ = "?";
  bool keepAlive_ = false;
  bool stopping_ = false;
  Phase phase_ = Phase::kHandshake;
};

}  // namespace

struct HttpsServer::Impl {
  explicit Impl(HttpsServerOptions options, Handler handler)
      : threadCount(options.threads > 0
                        ? options.threads
                        : std::max(1, static_cast<int>(std::thread::hardware_concurrency()))),
        core(threadCount),
        acceptor(asio::make_strand(core.ioc)) {
    core.options = std::move(options);
    core.handler = std::move(handler);
  }

  void accept() {
    acceptor.async_accept(
        asio::make_strand(core.ioc), [this](beast::error_code ec, tcp::socket socket) {
          if (ec) {
            if (ec == asio::error::operation_aborted || !acceptor.is_open()) {
              return;
            }
            spdlog::warn("accept failed: {}", ec.message());
          } else {
            auto session = std::make_shared<Session>(std::move(socket), core);
            bool stopping;
            {
              std::lock_guard lock(core.mu);
              stopping = core.stopping;
              core.sessions.remove_if([](const std::weak_ptr<Session>& w) { return w.expired(); });
              core.sessions.push_back(session);
            }
            if (stopping) return;  // session dies unused
            session->run();
          }
          accept();
        });
  }

  int threadCount;
  ServerCore core;
  tcp::acceptor acceptor;
  std::vector<std::thread> threads;
  bool started = false;
  bool stopped = false;
};

HttpsServer::HttpsServer(HttpsServerOptions options, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

HttpsServer::~HttpsServer() { stop(); }

Status HttpsServer::start() {
  auto& core = impl_->core;
  const auto& options = core.options;
  boost::system::error_code ec;

  core.tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                       ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(core.tls.native_handle(), TLS1_2_VERSION);
  core.tls.use_certificate_chain_file(options.certificateChainFile, ec);
  if (ec) {
    return Status::Internal("Cannot load the TLS certificate " + options.certificateChainFile +
                            ": " + ec.message());
  }
  core.tls.use_private_key_file(options.privateKeyFile, ssl::context::pem, ec);
  if (ec) {
    return Status::Internal("Cannot load the TLS private key " + options.privateKeyFile + ": " +
                            ec.message());
  }

  auto address = asio::ip::make_address(options.host, ec);
  if (ec) {
    return Status::InvalidArgument("InvalidListenAddress",
                                   "'" + options.host +
                                       "' is not a numeric IP address to listen on"
                                       " (e.g. 127.0.0.1 or ::1)");
  }
  tcp::endpoint endpoint(address, options.port);
  auto& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    boost::system::error_code ignored;
    acceptor.close(ignored);
    return Status::Unavailable("Cannot listen on " + options.host + ":" +
                               std::to_string(options.port) + ": " + ec.message() +
                               "; choose another --listen address or port");
  }
  core.port = acceptor.local_endpoint().port();

  impl_->accept();
  impl_->started = true;
  for (int i = 0; i < impl_->threadCount; ++i) {
    impl_->threads.emplace_back([&core] {
      for (;;) {
        try {
          core.ioc.run();
          return;
        } catch (const std::exception& e) {
          spdlog::warn("I/O thread caught: {}", e.what());
        }
      }
    });
  }
  return Status::Ok();
}

uint16_t HttpsServer::port() const { return impl_->core.port; }

void HttpsServer::stop() {
  if (!impl_ || !impl_->started || impl_->stopped) return;
  impl_->stopped = true;
  auto& core = impl_->core;
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard lock(core.mu);
    core.stopping = true;
    for (auto& weak : core.sessions) {
      if (auto s = weak.lock()) live.push_back(std::move(s));
    }
  }
  asio::post(impl_->acceptor.get_executor(), [impl = impl_.get()] {
    boost::system::error_code ec;
    impl->acceptor.close(ec);
  });
  for (auto& s : live) asio::post(s->executor(), [s] { s->onServerStop(); });
  live.clear();
  {
    std::unique_lock lock(core.mu);
    core.cv.wait_for(lock, core.options.stopGrace, [&] { return core.liveSessions == 0; });
  }
  core.ioc.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
}

}  // namespace privlink::api
