#pragma once
// TempDir: a fresh private directory under $TMPDIR (or /tmp) for one test, removed with
// everything in it when the TempDir is destroyed. Move-only.

#include <string>
#include <string_view>

namespace privlink::testing {

class TempDir {
 public:
  // Creates "<tmp>/privlink-test-XXXXXX"; aborts the test binary if that fails (a broken
  // environment, not a test failure worth continuing from).
  TempDir();
  ~TempDir();
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name; creates nothing.
  std::string file(std::string_view name) const;

 private:
  void remove();
  std::string path_;
};

}  // namespace privlink::testing
