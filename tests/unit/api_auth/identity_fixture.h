#pragma once
// A token issuer, authenticator and frontend over an in-memory store, with a settable clock.

#include <gtest/gtest.h>

#include <memory>

#include "api/authenticator.h"
#include "api/frontend.h"
#include "api/jwt.h"
#include "api/principals.h"
#include "api/token_issuer.h"
#include "api/url_form.h"
#include "common/guid.h"
#include "store/store.h"

namespace privlink::api::testing {

inline const SigningKey& testKey() {
  static SigningKey key = SigningKey::generate().value();
  return key;
}

class IdentityFixture : public ::testing::Test {
 protected:
  static constexpr const char* kBase = "https://localhost:8443";

  void SetUp() override {
    store_ = store::openSqliteStore({":memory:"}).value();
    principals_ = std::make_unique<PrincipalDirectory>(*store_);
    tenant_ = newGuid();
    sp_ = newServicePrincipal(tenant_, "ci", "sp-secret", true);
    user_ = newUser(tenant_, "alice@privlink.local", "Alice", "alice-pw", false);
    ASSERT_TRUE(principals_->put(sp_).ok());
    ASSERT_TRUE(principals_->put(user_).ok());
    config_.baseUrl = kBase;
    config_.tenantId = tenant_;
    config_.clock = [this] { return now_; };
    issuer_ = std::make_unique<TokenIssuer>(config_, testKey(), *principals_);
    authenticator_ = std::make_unique<Authenticator>(config_, testKey(), *principals_);
    frontend_ = std::make_unique<Frontend>(
        *issuer_, *authenticator_, [this](const HttpRequest& request, const control::Caller& c) {
          armCalls_++;
          lastArmTarget_ = request.target;
          lastCaller_ = c;
          return HttpResponse::json(200, R"({"value":[]})");
        },
        principals_.get());
  }

  HttpResponse send(std::string method, std::string target, std::string body = "",
                    std::map<std::string, std::string> headers = {}) {
    HttpRequest request;
    request.method = std::move(method);
    request.target = std::move(target);
    request.body = std::move(body);
    for (auto& [k, v] : headers) request.headers[k] = v;
    return frontend_->handle(request);
  }

  static std::string form(std::initializer_list<std::pair<std::string, std::string>> fields) {
    std::string out;
    for (const auto& [k, v] : fields) {
      out += (out.empty() ? "" : "&") + percentEncode(k) + "=" + percentEncode(v);
    }
    return out;
  }

  static nlohmann::json body(const HttpResponse& response) {
    return nlohmann::json::parse(response.body);
  }

  static std::string header(const HttpResponse& response, std::string_view name) {
    CaseInsensitiveLess less;
    for (const auto& [k, v] : response.headers) {
      if (!less(k, name) && !less(name, k)) return v;
    }
    return "";
  }

  // An access token for the admin service principal from the AD FS token endpoint (for ARM, or
  // for the Graph subset when `scope` says so).
  std::string adminToken(std::string scope = std::string(kBase) + "//.default") {
    auto response = send("POST", "/adfs/oauth2/token",
                         form({{"grant_type", "client_credentials"},
                               {"client_id", sp_.appId},
                               {"client_secret", "sp-secret"},
                               {"scope", scope}}));
    EXPECT_EQ(response.status, 200) << response.body;
    return body(response).value("access_token", "");
  }

  std::unique_ptr<store::Store> store_;
  std::unique_ptr<PrincipalDirectory> principals_;
  std::string tenant_;
  Principal sp_;
  Principal user_;
  IdentityConfig config_;
  int64_t now_ = 1'800'000'000;
  std::unique_ptr<TokenIssuer> issuer_;
  std::unique_ptr<Authenticator> authenticator_;
  std::unique_ptr<Frontend> frontend_;
  int armCalls_ = 0;
  std::string lastArmTarget_;
  control::Caller lastCaller_;
};

}  // namespace privlink::api::testing
