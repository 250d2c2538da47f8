#pragma once
// Status and Result<T>: expected failures are values (STYLE.md "Errors").
//
// A Status carries one code from a fixed set (which the API maps to an HTTP status in exactly one
// place, api/arm_error.cc), an ARM error code string such as "InUseSubnetCannotBeDeleted" that
// clients see verbatim, a message that says what was wrong and what to do, and an optional target
// (the property or parameter at fault). Statuses are cheap to copy; ok statuses allocate nothing.

#include <cassert>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace privlink {

enum class StatusCode {
  kOk,
  kInvalidArgument,     // 400: the request is wrong; fix it and retry
  kNotFound,            // 404
  kAlreadyExists,       // 409
  kConflict,            // 409: the resource is in use or in a state that forbids the change
  kPreconditionFailed,  // 412: If-Match / If-None-Match
  kUnauthenticated,     // 401
  kPermissionDenied,    // 403
  kLimitExceeded,       // 400 with a *LimitReached / QuotaExceeded code
  kUnavailable,         // 503: retry later
  kInternal,            // 500: a bug or a kernel/storage failure
};

const char* statusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // ok

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string armCode, std::string message) {
    return Status(StatusCode::kInvalidArgument, std::move(armCode), std::move(message));
  }
  static Status NotFound(std::string armCode, std::string message) {
    return Status(StatusCode::kNotFound, std::move(armCode), std::move(message));
  }
  static Status AlreadyExists(std::string armCode, std::string message) {
    return Status(StatusCode::kAlreadyExists, std::move(armCode), std::move(message));
  }
  static Status Conflict(std::string armCode, std::string message) {
    return Status(StatusCode::kConflict, std::move(armCode), std::move(message));
  }
  static Status PreconditionFailed(std::string armCode, std::string message) {
    return Status(StatusCode::kPreconditionFailed, std::move(armCode), std::move(message));
  }
  static Status Unauthenticated(std::string armCode, std::string message) {
    return Status(StatusCode::kUnauthenticated, std::move(armCode), std::move(message));
  }
  static Status PermissionDenied(std::string armCode, std::string message) {
    return Status(StatusCode::kPermissionDenied, std::move(armCode), std::move(message));
  }
  static Status LimitExceeded(std::string armCode, std::string message) {
    return Status(StatusCode::kLimitExceeded, std::move(armCode), std::move(message));
  }
  static Status Unavailable(std::string message) {
    return Status(StatusCode::kUnavailable, "ServiceUnavailable", std::move(message));
  }
  static Status Internal(std::string message) {
    return Status(StatusCode::kInternal, "InternalServerError", std::move(message));
  }

  bool ok() const { return rep_ == nullptr; }
  StatusCode code() const { return rep_ ? rep_->code : StatusCode::kOk; }
  const std::string& armCode() const { return rep_ ? rep_->armCode : empty(); }
  const std::string& message() const { return rep_ ? rep_->message : empty(); }
  const std::string& target() const { return rep_ ? rep_->target : empty(); }

  // Returns a copy naming the property or parameter at fault (ARM error `target`).
  Status withTarget(std::string target) const {
    Status s = *this;
    if (s.rep_) {
      auto rep = std::make_shared<Rep>(*s.rep_);
      rep->target = std::move(target);
      s.rep_ = std::move(rep);
    }
    return s;
  }
  // "Code: message", for logs and the CLI.
  std::string toString() const;

 private:
  struct Rep {
    StatusCode code;
    std::string armCode;
    std::string message;
    std::string target;
  };
  Status(StatusCode code, std::string armCode, std::string message)
      : rep_(std::make_shared<Rep>(Rep{code, std::move(armCode), std::move(message), {}})) {
    assert(code != StatusCode::kOk);
  }
  static const std::string& empty() {
    static const std::string kEmpty;
    return kEmpty;
  }
  std::shared_ptr<const Rep> rep_;
};

// Result<T>: a value or a non-ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(v_).ok());
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & {
    assert(ok());
    return std::get<T>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<T>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<T>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace privlink

// Early-return helpers for functions returning Status or Result<T>.
#define PRIVLINK_CONCAT_INNER(a, b) a##b
#define PRIVLINK_CONCAT(a, b) PRIVLINK_CONCAT_INNER(a, b)
#define RETURN_IF_ERROR(expr)                   \
  do {                                          \
    ::privlink::Status _st = (expr);            \
    if (!_st.ok()) return _st;                  \
  } while (0)
#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return tmp.status();         \
  lhs = std::move(tmp).value()
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(PRIVLINK_CONCAT(_result_, __LINE__), lhs, expr)
