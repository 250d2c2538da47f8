#pragma once
// ArmFixture: the whole ARM surface in process, without sockets or authentication: an in-memory
// SQLite store, a ProvisioningTracker, a ResourceService with every kind registered (network
// kinds via control::registerNetworkKinds, plus the test kinds of testing/test_kinds.h), and an
// ArmRouter. One subscription and its tenant are bootstrapped the way privlinkd does it.
//
//   ArmFixture arm;
//   auto r = arm.request("PUT", "/subscriptions/" + arm.subscriptionId() +
//                        "/resourceGroups/rg1?api-version=2021-04-01", {{"location", "local"}});
//   EXPECT_EQ(r.status, 201);
//
// With options.manualRealiser a realiser named "test" is registered, so every change stays
// "Updating" / "InProgress" until realise() reports it applied (or failed). Not thread-safe.

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/arm_router.h"
#include "control/provisioning.h"
#include "control/resource_service.h"
#include "store/store.h"

namespace privlink::testing {

struct ArmFixtureOptions {
  bool networkKinds = true;
  bool testKinds = true;
  bool manualRealiser = false;
  std::string baseUrl = "https://localhost:8443";
  size_t pageSize = 100;
};

struct ArmResult {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  nlohmann::json json;  // the parsed body; null when empty or not JSON

  // "" when absent; names compare case-insensitively.
  std::string header(std::string_view name) const;
  // For failure messages: status, headers and body.
  std::string describe() const;
};

class ArmFixture {
 public:
  static constexpr const char* kSubscriptionId = "6c1f5b4e-2a9d-4e1b-9b38-0d6f2a7c1e01";
  static constexpr const char* kTenantId = "3f2b8a10-7c4d-4e5f-8a6b-1c2d3e4f5a60";

  explicit ArmFixture(ArmFixtureOptions options = {});
  ~ArmFixture();

  // `target` is path + query, sent as is. A null body sends no body; a string body is sent
  // verbatim (for malformed JSON); anything else is serialised.
  ArmResult request(const std::string& method, const std::string& target,
                    const nlohmann::json& body = nullptr,
                    const std::map<std::string, std::string>& headers = {});
  ArmResult requestRaw(const std::string& method, const std::string& target, std::string body,
                       const std::map<std::string, std::string>& headers = {});

  // Reports the "test" realiser (options.manualRealiser) as having applied the current store
  // revision, failing the given resource ids (any casing) with the given errors.
  void realise(const std::map<std::string, Status>& failuresById = {});

  // Adds a subscription document (as the server's bootstrap writes it).
  void addSubscription(const std::string& subscriptionId, const std::string& tenantId,
                       const std::string& displayName = "privlink");

  const std::string& subscriptionId() const { return subscription_; }
  const std::string& tenantId() const { return tenant_; }
  const std::string& baseUrl() const { return options_.baseUrl; }
  store::Store& store() { return *store_; }
  control::ProvisioningTracker& tracker() { return tracker_; }
  control::ResourceService& service() { return *service_; }
  api::ArmRouter& router() { return *router_; }
  control::Caller& caller() { return caller_; }

 private:
  ArmFixtureOptions options_;
  std::string subscription_ = kSubscriptionId;
  std::string tenant_ = kTenantId;
  std::unique_ptr<store::Store> store_;
  control::ProvisioningTracker tracker_;
  std::unique_ptr<control::ResourceService> service_;
  std::unique_ptr<api::ArmRouter> router_;
  control::Caller caller_;
};

}  // namespace privlink::testing
