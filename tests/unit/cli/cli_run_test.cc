// End-to-end runs of the privlink command line against a scripted transport: arguments in,
// HTTP requests, stdout, stderr and exit code out.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "cli/cli_context.h"
#include "unit/client/fake_transport.h"

namespace privlink::cli {
namespace {

namespace fs = std::filesystem;
using client::testing::FakeTransport;
using client::testing::jsonResponse;

constexpr const char* kBase = "https://localhost:8443";
constexpr const char* kSub = "11111111-1111-1111-1111-111111111111";
const std::string kRgPath = std::string("/subscriptions/") + kSub + "/resourceGroups/rg";
const std::string kNet = kRgPath + "/providers/Microsoft.Network";

class ForwardingTransport : public client::HttpTransport {
 public:
  explicit ForwardingTransport(FakeTransport& fake) : fake_(fake) {}
  Result<client::HttpResponse> send(const client::HttpRequest& r) override { return fake_.send(r); }

 private:
  FakeTransport& fake_;
};

class CliRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/privlink-cli-run-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fake.withAuth(kBase);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path configDir() const { return dir_ / "config"; }

  void loggedIn() {
    client::ClientConfig c{kBase, "tenant", kSub, "admin", "secret", "/ca.pem"};
    ASSERT_TRUE(client::saveClientConfig(configDir(), c).ok());
  }

  int run(std::vector<std::string> args) {
    std::ostringstream out;
    std::ostringstream err;
    CliContext ctx(
        out, err,
        [this](const client::ClientConfig& config)
            -> Result<std::unique_ptr<client::HttpTransport>> {
          lastConfig = config;
          return std::unique_ptr<client::HttpTransport>(new ForwardingTransport(fake));
        },
        configDir());
    ctx.armOptions().sleep = [](std::chrono::milliseconds) {};
    int code = runCli(args, ctx);
    stdout_ = out.str();
    stderr_ = err.str();
    return code;
  }

  std::string requestBody(const std::string& method, const std::string& urlPart) {
    for (const auto& r : fake.requests) {
      if (r.method == method && r.url.find(urlPart) != std::string::npos) return r.body;
    }
    return "<no " + method + " " + urlPart + ">";
  }

  FakeTransport fake;
  client::ClientConfig lastConfig;
  std::string stdout_;
  std::string stderr_;
  fs::path dir_;
};

TEST_F(CliRunTest, LoginFromStateDirSavesConfig) {
  fs::create_directories(dir_ / "state");
  std::ofstream(dir_ / "state" / "admin.json")
      << R"({"endpoint":"https://localhost:8443","tenantId":"tenant","subscriptionId":")" << kSub
      << R"(","clientId":"admin","clientSecret":"secret","caCertificate":"ca.pem"})";
  fake.on("GET", "/subscriptions?api-version",
          jsonResponse(200, std::string(R"({"value":[{"id":"/subscriptions/)") + kSub +
                                R"(","subscriptionId":")" + kSub +
                                R"(","displayName":"Default","state":"Enabled","tenantId":"tenant"}]})"));
  ASSERT_EQ(run({"login", "--state-dir", (dir_ / "state").string()}), 0) << stderr_;
  EXPECT_EQ(lastConfig.caCertificate, (dir_ / "state" / "ca.pem").string());
  auto saved = client::loadClientConfig(configDir());
  ASSERT_TRUE(saved.ok()) << saved.status().toString();
  EXPECT_EQ(saved->subscriptionId, kSub);
  EXPECT_EQ(saved->clientSecret, "secret");
  struct stat st{};
  ASSERT_EQ(::stat(client::configPath(configDir()).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  Json printed = Json::parse(stdout_);
  EXPECT_EQ(printed[0]["id"], kSub);
  EXPECT_EQ(printed[0]["isDefault"], true);
  EXPECT_EQ(printed[0]["user"]["type"], "servicePrincipal");
  EXPECT_EQ(fake.tokensIssued, 1);
}

TEST_F(CliRunTest, LoginWithExplicitFlagsPicksFirstSubscription) {
  std::ofstream(dir_ / "ca.pem") << "x";
  fake.on("GET", "/subscriptions?api-version",
          jsonResponse(200, R"({"value":[{"subscriptionId":"s-a"},{"subscriptionId":"s-b"}]})"));
  ASSERT_EQ(run({"login", "--endpoint", kBase, "--tenant", "t", "--client-id", "c",
                 "--client-secret", "x", "--ca", (dir_ / "ca.pem").string()}),
            0)
      << stderr_;
  EXPECT_EQ(client::loadClientConfig(configDir())->subscriptionId, "s-a");
}

TEST_F(CliRunTest, LoginRejectsInvisibleSubscription) {
  std::ofstream(dir_ / "ca.pem") << "x";
  fake.on("GET", "/subscriptions?api-version",
          jsonResponse(200, R"({"value":[{"subscriptionId":"s-a"}]})"));
  EXPECT_EQ(run({"login", "--endpoint", kBase, "--tenant", "t", "--client-id", "c",
                 "--client-secret", "x", "--ca", (dir_ / "ca.pem").string(), "--subscription",
                 "s-z"}),
            1);
  EXPECT_NE(stderr_.find("SubscriptionNotFound"), std::string::npos) << stderr_;
  EXPECT_FALSE(fs::exists(client::configPath(configDir())));
}

TEST_F(CliRunTest, LoginUsageErrors) {
  EXPECT_EQ(run({"login", "--endpoint", kBase}), 2);
  EXPECT_NE(stderr_.find("usage error:"), std::string::npos);
  EXPECT_NE(stderr_.find("--client-secret"), std::string::npos);
  EXPECT_EQ(run({"login", "--state-dir", "/x", "--endpoint", kBase}), 2);
}

TEST_F(CliRunTest, NotLoggedIn) {
  EXPECT_EQ(run({"group", "list"}), 1);
  EXPECT_NE(stderr_.find("NotLoggedIn"), std::string::npos);
  EXPECT_NE(stderr_.find("run privlink login"), std::string::npos);
  EXPECT_TRUE(fake.requests.empty());
}

TEST_F(CliRunTest, UnknownCommandIsUsageError) {
  EXPECT_EQ(run({"frobnicate"}), 2);
  EXPECT_EQ(run({"vnet"}), 2);
  EXPECT_EQ(run({"--help"}), 0);
  EXPECT_NE(stdout_.find("vnet"), std::string::npos);
}

TEST_F(CliRunTest, GroupCreatePrintsServerJson) {
  loggedIn();
  fake.on("PUT", "/resourceGroups/rg?api-version=2021-04-01",
          jsonResponse(201, R"({"id":"/subscriptions/s/resourceGroups/rg","name":"rg",)"
                            R"("location":"local","properties":{"provisioningState":"Succeeded"}})"));
  fake.on("GET", "/resourceGroups/rg?api-version=2021-04-01",
          jsonResponse(200, R"({"id":"/subscriptions/s/resourceGroups/rg","name":"rg",)"
                            R"("location":"local","properties":{"provisioningState":"Succeeded"}})"));
  ASSERT_EQ(run({"group", "create", "-n", "rg", "-l", "local", "--tags", "env=dev"}), 0) << stderr_;
  EXPECT_EQ(requestBody("PUT", "resourceGroups/rg"), R"({"location":"local","tags":{"env":"dev"}})");
  EXPECT_EQ(stdout_,
            "{\n  \"id\": \"/subscriptions/s/resourceGroups/rg\",\n  \"name\": \"rg\",\n"
            "  \"location\": \"local\",\n  \"properties\": {\n"
            "    \"provisioningState\": \"Succeeded\"\n  }\n}\n");
}

TEST_F(CliRunTest, VnetCreateTakesLocationFromGroupAndWaits) {
  loggedIn();
  fake.on("GET", "/resourceGroups/rg?api-version=2021-04-01",
          jsonResponse(200, R"({"name":"rg","location":"edge1"})"));
  std::string op = std::string(kBase) + "/subscriptions/s/providers/Microsoft.Network/locations/"
                   "edge1/operations/op1?api-version=2024-07-01";
  fake.on("PUT", "virtualNetworks/v1",
          jsonResponse(201, R"({"name":"v1","properties":{"provisioningState":"Updating"}})",
                       {{"Azure-AsyncOperation", op}, {"Retry-After", "1"}}));
  fake.on("GET", "operations/op1", jsonResponse(200, R"({"status":"InProgress"})"));
  fake.on("GET", "operations/op1", jsonResponse(200, R"({"status":"Succeeded"})"));
  fake.on("GET", "virtualNetworks/v1",
          jsonResponse(200, R"({"name":"v1","properties":{"provisioningState":"Succeeded"}})"));
  ASSERT_EQ(run({"vnet", "create", "-g", "rg", "-n", "v1", "--address-prefixes", "10.2.0.0/16",
                 "--subnet-name", "pe", "--subnet-prefixes", "10.2.1.0/24"}),
            0)
      << stderr_;
  EXPECT_EQ(requestBody("PUT", "virtualNetworks/v1"),
            R"({"location":"edge1","properties":{"addressSpace":{"addressPrefixes":)"
            R"(["10.2.0.0/16"]},"subnets":[{"name":"pe","properties":{"addressPrefix":)"
            R"("10.2.1.0/24"}}]}})");
  std::vector<std::string> expected = {
      "GET " + std::string(kBase) + kRgPath + "?api-version=2021-04-01",
      "PUT " + std::string(kBase) + kNet + "/virtualNetworks/v1?api-version=2024-07-01",
      "GET " + op,
      "GET " + op,
      "GET " + std::string(kBase) + kNet + "/virtualNetworks/v1?api-version=2024-07-01"};
  EXPECT_EQ(fake.armCalls(), expected);
  EXPECT_EQ(Json::parse(stdout_)["properties"]["provisioningState"], "Succeeded");
}

TEST_F(CliRunTest, ListAsTableFollowsNextLink) {
  loggedIn();
  std::string next = std::string(kBase) + "/next-page";
  fake.on("GET", "/providers/Microsoft.Network/virtualNetworks?api-version",
          jsonResponse(200,
                       R"({"value":[{"id":")" + kNet + R"(/virtualNetworks/v1","name":"v1",)"
                       R"("type":"Microsoft.Network/virtualNetworks","location":"local",)"
                       R"("properties":{"provisioningState":"Succeeded","addressSpace":)"
                       R"({"addressPrefixes":["10.0.0.0/16"]}}}],"nextLink":")" + next + R"("})"));
  fake.on("GET", "/next-page",
          jsonResponse(200, R"({"value":[{"id":")" + kNet + R"(/virtualNetworks/v2","name":"v2",)"
                            R"("type":"Microsoft.Network/virtualNetworks","location":"local",)"
                            R"("properties":{"provisioningState":"Succeeded","addressSpace":)"
                            R"({"addressPrefixes":["10.1.0.0/16"]}}}]})"));
  ASSERT_EQ(run({"vnet", "list", "-g", "rg", "-o", "table"}), 0) << stderr_;
  EXPECT_EQ(stdout_,
            "Name  ResourceGroup  Location  ProvisioningState  AddressPrefixes\n"
            "----  -------------  --------  -----------------  ---------------\n"
            "v1    rg             local     Succeeded          10.0.0.0/16\n"
            "v2    rg             local     Succeeded          10.1.0.0/16\n");
  ASSERT_EQ(run({"vnet", "list", "-g", "rg", "-o", "tsv"}), 0) << stderr_;
  EXPECT_EQ(stdout_.substr(0, stdout_.find('\n')), "v1\trg\tlocal\tSucceeded\t10.0.0.0/16\t");
}

TEST_F(CliRunTest, ApiErrorPrintsCodeAndMessage) {
  loggedIn();
  fake.on("GET", "virtualNetworks/nope",
          jsonResponse(404, R"({"error":{"code":"ResourceNotFound","message":"The Resource )"
                            R"('Microsoft.Network/virtualNetworks/nope' was not found."}})"));
  EXPECT_EQ(run({"vnet", "show", "-g", "rg", "-n", "nope"}), 1);
  EXPECT_EQ(stderr_,
            "ResourceNotFound: The Resource 'Microsoft.Network/virtualNetworks/nope' was not "
            "found.\n");
  EXPECT_EQ(stdout_, "");
}

TEST_F(CliRunTest, SubscriptionOverride) {
  loggedIn();
  fake.on("GET", "/subscriptions/other/resourceGroups/rg/providers/Microsoft.Network/networkInterfaces/n1",
          jsonResponse(200, R"({"name":"n1"})"));
  ASSERT_EQ(run({"nic", "show", "-g", "rg", "-n", "n1", "--subscription", "other"}), 0) << stderr_;
}

TEST_F(CliRunTest, LbProbeCreateIsGetModifyPut) {
  loggedIn();
  std::string lb = R"({"id":")" + kNet + R"(/loadBalancers/lb1","name":"lb1","location":"local",)"
                   R"("properties":{"provisioningState":"Succeeded","frontendIPConfigurations":)"
                   R"([{"name":"fe"}],"backendAddressPools":[{"name":"be"}],"probes":[]}})";
  std::string after = R"({"id":")" + kNet + R"(/loadBalancers/lb1","name":"lb1",)"
                      R"("properties":{"provisioningState":"Succeeded","probes":[{"name":"p1",)"
                      R"("id":")" + kNet + R"(/loadBalancers/lb1/probes/p1",)"
                      R"("properties":{"protocol":"Tcp","port":80}}]}})";
  fake.on("GET", "loadBalancers/lb1", jsonResponse(200, lb));
  fake.on("GET", "loadBalancers/lb1", jsonResponse(200, after));
  fake.on("PUT", "loadBalancers/lb1", jsonResponse(200, after));
  ASSERT_EQ(run({"lb", "probe", "create", "-g", "rg", "--lb-name", "lb1", "-n", "p1",
                 "--protocol", "Tcp", "--port", "80"}),
            0)
      << stderr_;
  Json put = Json::parse(requestBody("PUT", "loadBalancers/lb1"));
  EXPECT_EQ(put["location"], "local");
  EXPECT_EQ(put["properties"]["frontendIPConfigurations"][0]["name"], "fe");
  EXPECT_EQ(put["properties"]["probes"][0]["name"], "p1");
  EXPECT_EQ(put["properties"]["probes"][0]["properties"]["intervalInSeconds"], 15);
  Json printed = Json::parse(stdout_);
  EXPECT_EQ(printed["name"], "p1");
  EXPECT_EQ(printed["properties"]["port"], 80);
}

TEST_F(CliRunTest, LbRuleWithUnknownProbeSendsNoPut) {
  loggedIn();
  fake.on("GET", "loadBalancers/lb1",
          jsonResponse(200, R"({"name":"lb1","properties":{"frontendIPConfigurations":)"
                            R"([{"name":"fe"}],"backendAddressPools":[{"name":"be"}]}})"));
  EXPECT_EQ(run({"lb", "rule", "create", "-g", "rg", "--lb-name", "lb1", "-n", "r1", "--protocol",
                 "Tcp", "--frontend-port", "80", "--backend-port", "80", "--probe-name", "p9"}),
            1);
  EXPECT_NE(stderr_.find("probes 'p9' does not exist in load balancer lb1"), std::string::npos)
      << stderr_;
  for (const auto& call : fake.armCalls()) EXPECT_EQ(call.rfind("PUT", 0), std::string::npos);
}

TEST_F(CliRunTest, LbProbeListAsTable) {
  loggedIn();
  fake.on("GET", "loadBalancers/lb1",
          jsonResponse(200, R"({"name":"lb1","properties":{"probes":[{"name":"p1","id":")" + kNet +
                                R"(/loadBalancers/lb1/probes/p1","properties":{"protocol":"Http",)"
                                R"("port":8080,"requestPath":"/h","intervalInSeconds":5,)"
                                R"("numberOfProbes":2,"provisioningState":"Succeeded"}}]}})"));
  ASSERT_EQ(run({"lb", "probe", "list", "-g", "rg", "--lb-name", "lb1", "-o", "table"}), 0)
      << stderr_;
  EXPECT_EQ(stdout_,
            "Name  ResourceGroup  ProvisioningState  Protocol  Port  RequestPath  "
            "IntervalInSeconds  NumberOfProbes\n"
            "----  -------------  -----------------  --------  ----  -----------  "
            "-----------------  --------------\n"
            "p1    rg             Succeeded          Http      8080  /h           5"
            "                  2\n");
}

TEST_F(CliRunTest, GroupDeleteNoWaitDoesNotPoll) {
  loggedIn();
  fake.on("DELETE", "resourceGroups/rg",
          jsonResponse(202, "", {{"Location", std::string(kBase) + "/op"}}));
  ASSERT_EQ(run({"group", "delete", "-n", "rg", "--no-wait", "-y"}), 0) << stderr_;
  EXPECT_EQ(fake.armCalls().size(), 1u);
  EXPECT_EQ(stdout_, "");
}

TEST_F(CliRunTest, DeleteWaitsForLocation) {
  loggedIn();
  fake.on("DELETE", "networkInterfaces/n1",
          jsonResponse(202, "", {{"Location", std::string(kBase) + "/opres/1"}}));
  fake.on("GET", "/opres/1", jsonResponse(202, ""));
  fake.on("GET", "/opres/1", jsonResponse(204, ""));
  ASSERT_EQ(run({"nic", "delete", "-g", "rg", "-n", "n1"}), 0) << stderr_;
  EXPECT_EQ(fake.armCalls().size(), 3u);
}

TEST_F(CliRunTest, UsageErrorFromBuilderExits2) {
  loggedIn();
  fake.on("GET", "/resourceGroups/rg?", jsonResponse(200, R"({"location":"local"})"));
  EXPECT_EQ(run({"nic", "create", "-g", "rg", "-n", "n1", "--subnet", "s1"}), 2);
  EXPECT_NE(stderr_.find("usage error: --vnet-name is required"), std::string::npos) << stderr_;
}

TEST_F(CliRunTest, AccountShowAndSet) {
  loggedIn();
  fake.on("GET", std::string("/subscriptions/") + kSub + "?api-version",
          jsonResponse(200, std::string(R"({"subscriptionId":")") + kSub +
                                R"(","displayName":"Default","state":"Enabled","tenantId":"tenant"})"));
  fake.on("GET", "/subscriptions/s2?api-version",
          jsonResponse(200, R"({"subscriptionId":"s2","displayName":"Two","state":"Enabled"})"));
  ASSERT_EQ(run({"account", "show"}), 0) << stderr_;
  Json shown = Json::parse(stdout_);
  EXPECT_EQ(shown["id"], kSub);
  EXPECT_EQ(shown["name"], "Default");
  EXPECT_EQ(shown["user"]["name"], "admin");
  EXPECT_FALSE(stdout_.find("secret") != std::string::npos);
  ASSERT_EQ(run({"account", "set", "--subscription", "s2"}), 0) << stderr_;
  EXPECT_EQ(client::loadClientConfig(configDir())->subscriptionId, "s2");
}

TEST_F(CliRunTest, LogoutRemovesConfig) {
  loggedIn();
  ASSERT_EQ(run({"logout"}), 0);
  EXPECT_FALSE(fs::exists(client::configPath(configDir())));
  EXPECT_EQ(run({"logout"}), 1);
}

}  // namespace
}  // namespace privlink::cli
