#include "agent/nic_exec.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace privlink::agent {
namespace {

// Writes "privlink nic exec: <what>: <strerror>" to stderr with write(2) (safe after fork).
void report(const char* what, int err) {
  char buffer[512];
  int n =
      std::snprintf(buffer, sizeof buffer, "privlink nic exec: %s: %s\n", what, std::strerror(err));
  if (n > 0) (void)!::write(STDERR_FILENO, buffer, static_cast<size_t>(n));
}

}  // namespace

int execInNamespace(const std::string& ns, const std::vector<std::string>& argv) {
  if (argv.empty()) {
    std::fprintf(stderr, "privlink nic exec: no command given\n");
    return 2;
  }
  if (ns.empty() || ns.find('/') != std::string::npos || ns == "." || ns == "..") {
    std::fprintf(stderr, "privlink nic exec: invalid namespace name '%s'\n", ns.c_str());
    return 127;
  }
  const std::string nsPath = "/run/netns/" + ns;
  int nsFd = ::open(nsPath.c_str(), O_RDONLY | O_CLOEXEC);
  if (nsFd < 0) {
    std::fprintf(stderr, "privlink nic exec: cannot open %s: %s (does the NIC exist?)\n",
                 nsPath.c_str(), std::strerror(errno));
    return 127;
  }

  // Everything the child needs is prepared before fork: the child only makes system calls.
  const std::string setnsWhat = "setns " + nsPath;
  struct Bind {
    std::string source, target, what;
  };
  std::vector<Bind> binds;
  std::error_code ec;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::filesystem::path("/etc/netns") / ns, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name[0] == '.') continue;  // temporaries of writeNamespaceFile
    binds.push_back({entry.path().string(), "/etc/" + name,
                     "bind " + entry.path().string() + " over /etc/" + name});
  }
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  struct sigaction ignore {
  }, oldInt{}, oldQuit{};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  ::sigaction(SIGINT, &ignore, &oldInt);
  ::sigaction(SIGQUIT, &ignore, &oldQuit);

  pid_t pid = ::fork();
  if (pid == 0) {
    ::sigaction(SIGINT, &oldInt, nullptr);
    ::sigaction(SIGQUIT, &oldQuit, nullptr);
    if (::setns(nsFd, CLONE_NEWNET) != 0) {
      report(setnsWhat.c_str(), errno);
      ::_exit(127);
    }
    if (::unshare(CLONE_NEWNS) != 0) {
      report("unshare mount namespace", errno);
      ::_exit(127);
    }
    // Our bind mounts must not propagate back to the host.
    if (::mount("", "/", "none", MS_SLAVE | MS_REC, nullptr) != 0) {
      report("make / a slave mount", errno);
      ::_exit(127);
    }
    // /sys shows the network devices of the namespace that mounts it.
    if (::umount2("/sys", MNT_DETACH) == 0) {
      (void)::mount(ns.c_str(), "/sys", "sysfs", 0, nullptr);
    }
    for (const Bind& b : binds) {
      if (::mount(b.source.c_str(), b.target.c_str(), "none", MS_BIND, nullptr) != 0) {
        report(b.what.c_str(), errno);
      }
    }
    ::execvp(args[0], args.data());
    report(args[0], errno);
    ::_exit(127);
  }
  const int forkErrno = errno;
  ::close(nsFd);
  int result = 127;
  if (pid < 0) {
    report("fork", forkErrno);
  } else {
    int status = 0;
    pid_t waited;
    do {
      waited = ::waitpid(pid, &status, 0);
    } while (waited < 0 && errno == EINTR);
    if (waited == pid) {
      result = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
  }
  ::sigaction(SIGINT, &oldInt, nullptr);
  ::sigaction(SIGQUIT, &oldQuit, nullptr);
  return result;
}

}  // namespace privlink::agent
