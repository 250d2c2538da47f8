#include "agent/prober.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "dataplane/netns.h"
#include "dataplane/unique_fd.h"

namespace privlink::agent {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kTick{100};
constexpr std::chrono::milliseconds kMaxTimeout{1000};

// Waits for `events` on `fd` until `deadline`; true when they arrived.
bool waitFor(int fd, short events, Clock::time_point deadline) {
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    return (p.revents & (events | POLLERR | POLLHUP)) != 0;
  }
}

}  // namespace

Prober::Prober(std::function<void()> onChange, std::chrono::milliseconds interval)
    : on_change_(std::move(onChange)), interval_override_(interval) {
  thread_ = std::thread([this] { loop(); });
}

Prober::~Prober() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void Prober::setTargets(const std::map<std::string, PlannedProbe>& probes) {
  std::lock_guard lock(mutex_);
  for (auto it = targets_.begin(); it != targets_.end();) {
    it = probes.count(it->first) ? std::next(it) : targets_.erase(it);
  }
  for (const auto& [key, probe] : probes) {
    auto it = targets_.find(key);
    if (it == targets_.end()) {
      targets_.emplace(key, Target{probe, true, 0, Clock::now()});
    } else {
      it->second.probe = probe;
    }
  }
}

ProbeHealth Prober::health() const {
  std::lock_guard lock(mutex_);
  ProbeHealth out;
  for (const auto& [key, target] : targets_) out[key] = target.healthy;
  return out;
}

std::map<std::string, Clock::time_point> Prober::lastProbed() const {
  std::lock_guard lock(mutex_);
  std::map<std::string, Clock::time_point> out;
  for (const auto& [key, target] : targets_) {
    if (target.probed != Clock::time_point{}) out[key] = target.probed;
  }
  return out;
}

void Prober::loop() {
  while (true) {
    std::vector<std::pair<std::string, PlannedProbe>> due;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      const auto now = Clock::now();
      for (auto& [key, target] : targets_) {
        if (target.due <= now) due.emplace_back(key, target.probe);
      }
    }
    bool changed = false;
    for (const auto& [key, probe] : due) {
      const std::chrono::milliseconds interval =
          interval_override_.count() > 0 ? interval_override_
                                         : std::chrono::milliseconds(probe.intervalSeconds * 1000);
      const bool ok = runProbe(probe, std::min(interval, kMaxTimeout));
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      auto it = targets_.find(key);
      if (it == targets_.end()) continue;
      Target& t = it->second;
      t.probed = Clock::now();
      t.due = t.probed + interval;
      if (ok == t.healthy) {
        t.streak = 0;
        continue;
      }
      if (++t.streak >= std::max(1, t.probe.threshold)) {
        t.healthy = ok;
        t.streak = 0;
        changed = true;
      }
    }
    if (changed && on_change_) on_change_();
    std::this_thread::sleep_for(kTick);
  }
}

bool Prober::runProbe(const PlannedProbe& probe, std::chrono::milliseconds timeout) const {
  const auto deadline = Clock::now() + timeout;
  dataplane::UniqueFd fd;
  {
    auto handle = dataplane::NetnsHandle::open(probe.ns);
    if (!handle.ok()) return false;
    auto guard = dataplane::NamespaceGuard::enter(*handle);
    if (!guard.ok()) return false;
    fd = dataplane::moveAboveSelectRange(
        dataplane::UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)));
  }
  if (fd.get() < 0 || !probe.address.isV4()) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(probe.port));
  addr.sin_addr.s_addr = htonl(probe.address.v4Value());
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 &&
      errno != EINPROGRESS) {
    return false;
  }
  if (!waitFor(fd.get(), POLLOUT, deadline)) return false;
  int error = 0;
  socklen_t length = sizeof error;
  if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &length) != 0 || error != 0) {
    return false;
  }
  if (probe.protocol != "Http") return true;
  const std::string request = "GET " + probe.requestPath + " HTTP/1.0\r\nHost: " +
                              probe.address.toString() + "\r\nUser-Agent: privlink-probe\r\n\r\n";
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = ::send(fd.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!waitFor(fd.get(), POLLOUT, deadline)) return false;
    } else {
      return false;
    }
  }
  std::string response;
  while (response.find("\r\n") == std::string::npos && response.size() < 512) {
    if (!waitFor(fd.get(), POLLIN, deadline)) return false;
    char buffer[256];
    ssize_t n = ::recv(fd.get(), buffer, sizeof buffer, 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return false;
    }
    response.append(buffer, static_cast<size_t>(n));
  }
  // "HTTP/1.x 200 ..."
  auto space = response.find(' ');
  return space != std::string::npos && response.compare(space + 1, 3, "200") == 0;
}

}  // namespace privlink::agent
