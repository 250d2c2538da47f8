// privlink principal / user / secret / subscription / role commands end to end: the real CLI
// (runCli) against the real AuthorizationGate + ArmRouter in process. The transport answers the
// token endpoints itself and hands every ARM call to the gate as the caller the test chooses.

#include <gtest/gtest.h>

#include <sstream>

#include "api/authorization_gate.h"
#include "cli/cli_context.h"
#include "testing/arm_fixture.h"
#include "unit/client/fake_transport.h"

namespace privlink::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kBase = "https://localhost:8443";

class GateTransport : public client::HttpTransport {
 public:
  GateTransport(client::testing::FakeTransport& auth, api::AuthorizationGate& gate,
                const control::Caller& caller)
      : auth_(auth), gate_(gate), caller_(caller) {}

  Result<client::HttpResponse> send(const client::HttpRequest& r) override {
    if (r.url.find("/adfs/") != std::string::npos ||
        r.url.find("/metadata/endpoints") != std::string::npos) {
      return auth_.send(r);
    }
    api::HttpRequest request;
    request.method = r.method;
    request.target = r.url.substr(std::string(kBase).size());
    request.body = r.body;
    for (const auto& [k, v] : r.headers) request.headers[k] = v;
    api::HttpResponse response = gate_.handle(request, caller_);
    client::HttpResponse out;
    out.status = response.status;
    out.body = response.body;
    for (const auto& [k, v] : response.headers) out.headers[k] = v;
    return out;
  }

 private:
  client::testing::FakeTransport& auth_;
  api::AuthorizationGate& gate_;
  const control::Caller& caller_;
};

class PrincipalCliTest : public ::testing::Test {
 protected:
  PrincipalCliTest()
      : directory_(arm_.store()),
        authorizer_(arm_.store()),
        authorization_(arm_.store(), directory_),
        identity_(arm_.store(), directory_),
        gate_(authorizer_, authorization_, identity_,
              [this](const api::HttpRequest& r, const control::Caller& c) {
                return arm_.router().handle(r, c);
              }),
        caller_(arm_.caller()) {}

  void SetUp() override {
    char tmpl[] = "/tmp/privlink-authz-cli-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auth_.withAuth(kBase);
    client::ClientConfig c{kBase, arm_.tenantId(), arm_.subscriptionId(), "admin", "secret",
                           "/ca.pem"};
    ASSERT_TRUE(client::saveClientConfig(dir_ / "config", c).ok());
  }
  void TearDown() override { fs::remove_all(dir_); }

  int run(std::vector<std::string> args) {
    std::ostringstream out;
    std::ostringstream err;
    CliContext ctx(
        out, err,
        [this](const client::ClientConfig&) -> Result<std::unique_ptr<client::HttpTransport>> {
          return std::unique_ptr<client::HttpTransport>(new GateTransport(auth_, gate_, caller_));
        },
        dir_ / "config");
    ctx.armOptions().sleep = [](std::chrono::milliseconds) {};
    int code = runCli(args, ctx);
    stdout_ = out.str();
    stderr_ = err.str();
    printed_ = json::parse(stdout_, nullptr, false);
    return code;
  }

  testing::ArmFixture arm_;
  api::PrincipalDirectory directory_;
  control::authorization::Authorizer authorizer_;
  api::AuthorizationRoutes authorization_;
  api::IdentityRoutes identity_;
  api::AuthorizationGate gate_;
  control::Caller caller_;
  client::testing::FakeTransport auth_;
  fs::path dir_;
  std::string stdout_;
  std::string stderr_;
  json printed_;
};

TEST_F(PrincipalCliTest, PrincipalLifecycleShowsTheSecretOnce) {
  ASSERT_EQ(run({"principal", "create", "-n", "ci"}), 0) << stderr_;
  std::string appId = printed_["appId"];
  std::string secret = printed_["secret"];
  EXPECT_GE(secret.size(), 32u);
  auto stored = directory_.byAppId(appId);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_TRUE(api::verifySecret(secret, (*stored)->secretHash));

  ASSERT_EQ(run({"principal", "list"}), 0) << stderr_;
  ASSERT_EQ(printed_.size(), 1u);
  EXPECT_EQ(printed_[0]["appId"], appId);
  EXPECT_FALSE(printed_[0].contains("secret"));

  ASSERT_EQ(run({"secret", "reset", "--id", "ci"}), 0) << stderr_;
  std::string second = printed_["secret"];
  EXPECT_NE(second, secret);
  stored = directory_.byAppId(appId);
  EXPECT_TRUE(api::verifySecret(second, (*stored)->secretHash));
  EXPECT_FALSE(api::verifySecret(secret, (*stored)->secretHash));

  ASSERT_EQ(run({"principal", "delete", "--id", appId}), 0) << stderr_;
  EXPECT_EQ(run({"principal", "show", "--id", appId}), 1);
  EXPECT_NE(stderr_.find("PrincipalNotFound"), std::string::npos) << stderr_;
}

TEST_F(PrincipalCliTest, UsersAndRoleAssignments) {
  ASSERT_EQ(run({"user", "create", "--upn", "alice@privlink.local"}), 0) << stderr_;
  std::string oid = printed_["objectId"];
  EXPECT_TRUE(printed_.contains("password"));  // generated, shown once
  ASSERT_EQ(run({"user", "list"}), 0);
  ASSERT_EQ(printed_.size(), 1u);
  EXPECT_EQ(printed_[0]["userPrincipalName"], "alice@privlink.local");

  ASSERT_EQ(run({"group", "create", "-n", "rg1", "-l", "local"}), 0) << stderr_;
  ASSERT_EQ(run({"role", "assignment", "create", "--assignee", "alice@privlink.local", "--role",
                 "Network Contributor", "-g", "rg1"}),
            0)
      << stderr_;
  EXPECT_EQ(printed_["properties"]["principalId"], oid);
  EXPECT_EQ(printed_["properties"]["principalType"], "User");
  std::string name = printed_["name"];
  ASSERT_EQ(run({"role", "assignment", "list", "-g", "rg1"}), 0) << stderr_;
  ASSERT_EQ(printed_.size(), 1u);
  EXPECT_EQ(printed_[0]["name"], name);
  ASSERT_EQ(run({"role", "definition", "list"}), 0) << stderr_;
  EXPECT_EQ(printed_.size(), 5u);

  EXPECT_EQ(run({"role", "assignment", "create", "--assignee", "alice@privlink.local", "--role",
                 "Storage Owner"}),
            2);
  EXPECT_NE(stderr_.find("no role named"), std::string::npos) << stderr_;

  ASSERT_EQ(run({"role", "assignment", "delete", "-n", name, "-g", "rg1"}), 0) << stderr_;
  ASSERT_EQ(run({"role", "assignment", "list", "-g", "rg1"}), 0);
  EXPECT_TRUE(printed_.empty());
  ASSERT_EQ(run({"user", "delete", "--upn", "alice@privlink.local"}), 0) << stderr_;
}

TEST_F(PrincipalCliTest, SubscriptionCreateIsAdminOnly) {
  ASSERT_EQ(run({"subscription", "create", "-n", "team-b", "--display-name", "Team B"}), 0)
      << stderr_;
  EXPECT_EQ(printed_["displayName"], "Team B");
  EXPECT_EQ(printed_["state"], "Enabled");
  caller_ = control::Caller{"0c0c0c0c-0000-4000-8000-000000000001", arm_.tenantId(), "nobody",
                            false};
  EXPECT_EQ(run({"subscription", "create", "-n", "team-c"}), 1);
  EXPECT_NE(stderr_.find("AuthorizationFailed"), std::string::npos) << stderr_;
  EXPECT_EQ(run({"principal", "list"}), 1);
  EXPECT_NE(stderr_.find("AuthorizationFailed"), std::string::npos) << stderr_;
}

}  // namespace
}  // namespace privlink::cli
