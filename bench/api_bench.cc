// api_bench: throughput and latency of the ARM API of a real privlinkd over keep-alive HTTPS.
//
// For 1, 8 and 64 concurrent clients (one thread and one TLS connection each) it measures
//   GET   a virtual network,
//   PUT   the same virtual network with new tags (an update: 200 + Azure-AsyncOperation),
//   PUT   a resource group with new tags (a synchronous write),
// each for a fixed time (bounded also by a request count), and prints req/s and p50/p99 latency.
//
// Usage: api_bench [--privlinkd PATH | --admin DIR/admin.json] [--seconds S] [--clients 1,8,64]
// Without --admin it starts its own privlinkd (default: ../bin/privlinkd next to this program) in
// a temporary state directory on a free loopback port with its own kernel-object prefix, and stops
// and cleans it up at the end. Traffic goes only
// to localhost.
#include <signal.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <latch>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <nlohmann/json.hpp>

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr const char* kNetworkApi = "api-version=2024-07-01";
constexpr const char* kResourcesApi = "api-version=2025-04-01";
constexpr size_t kMaxRequestsPerClient = 200000;  // bound besides the duration

struct Endpoint {
  std::string host;
  std::string port;
};

// "https://host:port[/...]" -> host, port; the path, if any, into *path.
Endpoint parseBase(const std::string& url, std::string* path = nullptr) {
  const std::string scheme = "https://";
  if (url.rfind(scheme, 0) != 0) throw std::runtime_error("not an https URL: " + url);
  std::string rest = url.substr(scheme.size());
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  if (path) *path = slash == std::string::npos ? "/" : rest.substr(slash);
  size_t colon = authority.rfind(':');
  if (colon == std::string::npos) return {authority, "443"};
  return {authority.substr(0, colon), authority.substr(colon + 1)};
}

struct Reply {
  unsigned status = 0;
  std::string body;
};

// One keep-alive TLS connection; reconnects once when the server closed it.
class HttpsConnection {
 public:
  HttpsConnection(ssl::context& ctx, Endpoint endpoint)
      : ctx_(ctx), endpoint_(std::move(endpoint)) {}

  void connect() {
    stream_.emplace(ioc_, ctx_);
    if (!SSL_set_tlsext_host_name(stream_->native_handle(), endpoint_.host.c_str())) {
      throw beast::system_error(beast::error_code(static_cast<int>(::ERR_get_error()),
                                                  asio::error::get_ssl_category()));
    }
    stream_->set_verify_callback(ssl::host_name_verification(endpoint_.host));
    tcp::resolver resolver(ioc_);
    auto results = resolver.resolve(endpoint_.host, endpoint_.port);
    auto& tcpStream = beast::get_lowest_layer(*stream_);
    tcpStream.expires_after(kIoTimeout);
    runIo([&](auto done) { tcpStream.async_connect(results, [done](auto ec, auto) { done(ec); }); });
    tcpStream.socket().set_option(tcp::no_delay(true));
    tcpStream.expires_after(kIoTimeout);
    runIo([&](auto done) { stream_->async_handshake(ssl::stream_base::client, done); });
  }

  Reply send(http::verb method, const std::string& target, const std::string& body,
             const std::string& contentType, const std::string& bearer) {
    for (int attempt = 0;; ++attempt) {
      try {
        if (!stream_) connect();
        http::request<http::string_body> req{method, target, 11};
        req.set(http::field::host, endpoint_.host + ":" + endpoint_.port);
        req.set(http::field::user_agent, "privlink-api-bench");
        if (!bearer.empty()) req.set(http::field::authorization, "Bearer " + bearer);
        if (!body.empty()) {
          req.set(http::field::content_type, contentType);
          req.body() = body;
        }
        req.keep_alive(true);
        req.prepare_payload();
        http::response<http::string_body> res;
        beast::get_lowest_layer(*stream_).expires_after(kIoTimeout);
        runIo([&](auto done) {
          http::async_write(*stream_, req, [done](auto ec, size_t) { done(ec); });
        });
        runIo([&](auto done) {
          http::async_read(*stream_, buffer_, res, [done](auto ec, size_t) { done(ec); });
        });
        Reply reply{res.result_int(), std::move(res.body())};
        if (!res.keep_alive()) stream_.reset();
        return reply;
      } catch (const beast::system_error&) {
        stream_.reset();
        buffer_.clear();
        if (attempt >= 1) throw;
      }
    }
  }

 private:
  // Every socket operation is bounded by kIoTimeout (tcp_stream timers apply to async operations
  // only, so each step runs asynchronously on this connection's own io_context).
  static constexpr std::chrono::seconds kIoTimeout{30};

  template <class Start>
  void runIo(Start start) {
    beast::error_code result;
    start([&result](beast::error_code ec) { result = ec; });
    ioc_.restart();
    ioc_.run();
    if (result) throw beast::system_error(result);
  }

  asio::io_context ioc_;
  ssl::context& ctx_;
  Endpoint endpoint_;
  std::optional<ssl::stream<beast::tcp_stream>> stream_;
  beast::flat_buffer buffer_;
};

std::string formEncode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

struct Admin {
  std::string endpoint, tenantId, subscriptionId, clientId, clientSecret, caPem;
};

Admin readAdmin(const std::filesystem::path& path) {
  std::ifstream in(path);
  json j = json::parse(in);
  Admin a{j.at("endpoint").get<std::string>(),     j.at("tenantId").get<std::string>(),
          j.at("subscriptionId").get<std::string>(), j.at("clientId").get<std::string>(),
          j.at("clientSecret").get<std::string>(),   j.at("caCertificate").get<std::string>()};
  while (!a.endpoint.empty() && a.endpoint.back() == '/') a.endpoint.pop_back();
  if (a.caPem.rfind("-----BEGIN", 0) != 0) {  // a file name rather than the PEM itself
    std::filesystem::path ca = a.caPem;
    if (ca.is_relative()) ca = path.parent_path() / ca;
    std::ifstream caIn(ca);
    std::stringstream ss;
    ss << caIn.rdbuf();
    a.caPem = ss.str();
  }
  return a;
}

// A privlinkd child process in a temporary state directory, stopped by the destructor.
class Daemon {
 public:
  explicit Daemon(const std::string& binary)
      : binary_(binary),
        namePrefix_("tb" + std::to_string(getpid())),
        hasNamePrefix_(helpMentions(binary, "--name-prefix")) {
    char tmpl[] = "/tmp/privlink-bench.XXXXXX";
    if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    log_ = dir_ / "privlinkd.log";
    std::string stateDir = (dir_ / "state").string();
    std::string listen = "127.0.0.1:0";  // the daemon picks a free port and names it in admin.json
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      int fd = open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
      }
      if (hasNamePrefix_) {
        execl(binary.c_str(), binary.c_str(), "--state-dir", stateDir.c_str(), "--listen",
              listen.c_str(), "--name-prefix", namePrefix_.c_str(), static_cast<char*>(nullptr));
      } else {
        execl(binary.c_str(), binary.c_str(), "--state-dir", stateDir.c_str(), "--listen",
              listen.c_str(), static_cast<char*>(nullptr));
      }
      _exit(127);
    }
    for (int i = 0; i < 300; ++i) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("privlinkd exited during start-up; see " + log_.string());
      }
      if (listening()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    throw std::runtime_error("privlinkd did not come up within 30 s; see " + log_.string());
  }
  ~Daemon() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      for (int i = 0; i < 100; ++i) {
        if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
          pid_ = -1;
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      if (pid_ > 0) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
      }
    }
    // Remove whatever kernel objects the agent left under this run's own prefix (never the
    // default prefix, which may belong to another daemon).
    pid_t cleaner = hasNamePrefix_ ? fork() : -1;
    if (cleaner == 0) {
      int devnull = open("/dev/null", O_WRONLY);
      if (devnull >= 0) {
        dup2(devnull, 1);
        dup2(devnull, 2);
      }
      execl(binary_.c_str(), binary_.c_str(), "--cleanup", "--name-prefix", namePrefix_.c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
    if (cleaner > 0) waitpid(cleaner, nullptr, 0);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::filesystem::path adminPath() const { return dir_ / "state" / "admin.json"; }

 private:
  // True when `binary --help` mentions option.
  static bool helpMentions(const std::string& binary, const std::string& option) {
    std::string cmd = "'" + binary + "' --help 2>/dev/null";
    FILE* pipe = popen(cmd.c_str(), "r");
    if (!pipe) return false;
    std::string text;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) text.append(buf, n);
    pclose(pipe);
    return text.find(option) != std::string::npos;
  }
  // True once the log has the "privlinkd listening on URL" line and admin.json names that URL.
  bool listening() const {
    std::ifstream log(log_);
    std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    const std::string marker = "privlinkd listening on ";
    size_t at = text.find(marker);
    if (at == std::string::npos) return false;
    size_t begin = at + marker.size();
    std::string url = text.substr(begin, text.find_first_of(" \n", begin) - begin);
    try {
      return readAdmin(adminPath()).endpoint == url;
    } catch (const std::exception&) {
      return false;  // not written yet
    }
  }
  std::string binary_;
  std::string namePrefix_;  // unique prefix of the agent's kernel objects ("tb<pid>")
  bool hasNamePrefix_ = false;
  std::filesystem::path dir_, log_;
  pid_t pid_ = -1;
};

struct Row {
  std::string operation;
  int clients = 0;
  size_t requests = 0;
  size_t errors = 0;
  double seconds = 0;
  double p50Ms = 0, p99Ms = 0;
};

double percentile(std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t idx = static_cast<size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(idx, sorted.size() - 1)];
}

// A request for client c, sequence number n.
struct Op {
  std::string name;
  http::verb method;
  std::function<std::string(int c, size_t n)> target;
  std::function<std::string(int c, size_t n)> body;
  unsigned expect;
};

Row runOp(const Op& op, int clients, double seconds, ssl::context& ctx, const Endpoint& ep,
          const std::string& token) {
  std::vector<std::vector<double>> latencies(clients);
  std::vector<size_t> errors(clients, 0);
  std::latch ready(clients + 1);
  std::atomic<bool> go{false};
  Clock::time_point deadline;
  std::vector<std::thread> threads;
  std::atomic<int> connectFailures{0};
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      HttpsConnection conn(ctx, ep);
      try {
        conn.connect();
      } catch (const std::exception&) {
        connectFailures++;
      }
      ready.count_down();
      while (!go.load()) std::this_thread::yield();
      auto& lat = latencies[c];
      lat.reserve(4096);
      for (size_t n = 0; n < kMaxRequestsPerClient && Clock::now() < deadline; ++n) {
        auto t0 = Clock::now();
        try {
          Reply r = conn.send(op.method, op.target(c, n), op.body ? op.body(c, n) : "",
                              "application/json", token);
          if (r.status != op.expect) errors[c]++;
        } catch (const std::exception&) {
          errors[c]++;
        }
        lat.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      }
    });
  }
  ready.arrive_and_wait();
  auto start = Clock::now();
  deadline = start + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(seconds));
  go.store(true);
  for (auto& t : threads) t.join();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  Row row{op.name, clients, 0, 0, elapsed, 0, 0};
  for (int c = 0; c < clients; ++c) {
    all.insert(all.end(), latencies[c].begin(), latencies[c].end());
    row.errors += errors[c];
  }
  row.errors += static_cast<size_t>(connectFailures.load());
  row.requests = all.size();
  std::sort(all.begin(), all.end());
  row.p50Ms = percentile(all, 0.50);
  row.p99Ms = percentile(all, 0.99);
  return row;
}

std::vector<int> parseList(const std::string& s) {
  std::vector<int> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(std::stoi(item));
  return out;
}

int run(int argc, char** argv) {
  std::string privlinkd, adminFile, clientList = "1,8,64";
  double seconds = 2.0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error("missing value for " + a);
      return argv[++i];
    };
    if (a == "--privlinkd") privlinkd = next();
    else if (a == "--admin") adminFile = next();
    else if (a == "--seconds") seconds = std::stod(next());
    else if (a == "--clients") clientList = next();
    else {
      std::cerr << "usage: api_bench [--privlinkd PATH | --admin admin.json] [--seconds S]"
                   " [--clients 1,8,64]\n";
      return 2;
    }
  }
  seconds = std::clamp(seconds, 0.1, 60.0);
  std::vector<int> clientCounts = parseList(clientList);
  for (int& c : clientCounts) c = std::clamp(c, 1, 256);

  std::optional<Daemon> daemon;
  if (adminFile.empty()) {
    if (privlinkd.empty()) {
      privlinkd = (std::filesystem::canonical("/proc/self/exe").parent_path().parent_path() /
                   "bin" / "privlinkd").string();
    }
    daemon.emplace(privlinkd);
    adminFile = daemon->adminPath().string();
  }
  Admin admin = readAdmin(adminFile);
  Endpoint ep = parseBase(admin.endpoint);

  ssl::context ctx(ssl::context::tls_client);
  ctx.add_certificate_authority(asio::buffer(admin.caPem));
  ctx.set_verify_mode(ssl::verify_peer);

  // The real OAuth flow: OpenID configuration, then the client-credentials grant.
  HttpsConnection setup(ctx, ep);
  Reply oidc = setup.send(http::verb::get, "/" + admin.tenantId + "/v2.0/.well-known/openid-configuration",
                          "", "", "");
  if (oidc.status != 200) throw std::runtime_error("openid-configuration: " + oidc.body);
  std::string tokenPath;
  Endpoint tokenEp = parseBase(json::parse(oidc.body).at("token_endpoint").get<std::string>(),
                               &tokenPath);
  HttpsConnection tokenConn(ctx, tokenEp);
  Reply tok = tokenConn.send(
      http::verb::post, tokenPath,
      "grant_type=client_credentials&client_id=" + formEncode(admin.clientId) +
          "&client_secret=" + formEncode(admin.clientSecret) +
          "&scope=" + formEncode(admin.endpoint + "/.default"),
      "application/x-www-form-urlencoded", "");
  if (tok.status != 200) throw std::runtime_error("token: " + tok.body);
  std::string token = json::parse(tok.body).at("access_token").get<std::string>();

  const std::string rgPath = "/subscriptions/" + admin.subscriptionId + "/resourceGroups/bench-rg";
  const std::string vnetPath = rgPath + "/providers/Microsoft.Network/virtualNetworks/bench-vnet";
  auto vnetBody = [](const std::string& tag) {
    return json{{"location", "local"},
                {"tags", {{"seq", tag}}},
                {"properties",
                 {{"addressSpace", {{"addressPrefixes", {"10.250.0.0/16"}}}},
                  {"subnets", {{{"name", "default"},
                                {"properties", {{"addressPrefix", "10.250.1.0/24"}}}}}}}}}
        .dump();
  };
  Reply r = setup.send(http::verb::put, rgPath + "?" + kResourcesApi,
                       R"({"location":"local"})", "application/json", token);
  if (r.status != 200 && r.status != 201) throw std::runtime_error("PUT group: " + r.body);
  r = setup.send(http::verb::put, vnetPath + "?" + kNetworkApi, vnetBody("0"), "application/json",
                 token);
  if (r.status != 200 && r.status != 201) throw std::runtime_error("PUT vnet: " + r.body);
  std::string state;
  for (int i = 0; i < 300; ++i) {  // wait (60 s at most) until the VNet is provisioned
    r = setup.send(http::verb::get, vnetPath + "?" + kNetworkApi, "", "", token);
    state = json::parse(r.body).value("/properties/provisioningState"_json_pointer, "");
    if (state == "Succeeded" || state == "Failed") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  if (state != "Succeeded") std::cerr << "warning: bench-vnet is " << state << "\n";

  std::vector<Op> ops = {
      {"GET virtualNetwork", http::verb::get,
       [&](int, size_t) { return vnetPath + "?" + kNetworkApi; }, nullptr, 200},
      {"PUT virtualNetwork tags", http::verb::put,
       [&](int, size_t) { return vnetPath + "?" + kNetworkApi; },
       [&](int c, size_t n) { return vnetBody(std::to_string(c) + "-" + std::to_string(n)); },
       200},
      {"PUT resourceGroup tags", http::verb::put,
       [&](int, size_t) { return rgPath + "?" + kResourcesApi; },
       [](int c, size_t n) {
         return json{{"location", "local"},
                     {"tags", {{"seq", std::to_string(c) + "-" + std::to_string(n)}}}}
             .dump();
       },
       200},
  };

  std::printf("privlink API benchmark: privlinkd at %s, keep-alive HTTPS, %.1f s per row, %u cores\n",
              admin.endpoint.c_str(), seconds, std::thread::hardware_concurrency());
  std::printf("%-26s %7s %9s %10s %9s %9s %7s\n", "operation", "clients", "requests", "req/s",
              "p50 ms", "p99 ms", "errors");
  runOp(ops.front(), 1, std::min(seconds, 0.5), ctx, ep, token);  // warm-up, not reported
  size_t totalErrors = 0;
  for (const Op& op : ops) {
    for (int clients : clientCounts) {
      Row row = runOp(op, clients, seconds, ctx, ep, token);
      totalErrors += row.errors;
      std::printf("%-26s %7d %9zu %10.0f %9.2f %9.2f %7zu\n", row.operation.c_str(), row.clients,
                  row.requests, static_cast<double>(row.requests) / row.seconds, row.p50Ms,
                  row.p99Ms, row.errors);
      std::fflush(stdout);
    }
  }

  // Clean up: delete the VNet (and wait, bounded, until it is gone), then the group.
  setup.send(http::verb::delete_, vnetPath + "?" + kNetworkApi, "", "", token);
  for (int i = 0; i < 150; ++i) {
    if (setup.send(http::verb::get, vnetPath + "?" + kNetworkApi, "", "", token).status == 404) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  setup.send(http::verb::delete_, rgPath + "?" + kResourcesApi, "", "", token);
  return totalErrors == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "api_bench: %s\n", e.what());
    return 1;
  }
}
