#pragma once
// PlFixture: testing::ArmFixture with the Private Link kinds registered (optionally with lowered
// limits), extra subscriptions, non-admin principals and role grants, and helpers that build the
// provider side (VNet, NAT subnet, internal Standard LB) and consumer side of a Private Link flow.
// Its requests go through its own ArmRouter, which also serves the discovery APIs
// (ArmRouterOptions::privateLink), as privlinkd's does.
// Not thread-safe, except request() calls on distinct ArmRouter instances (see concurrency test).

#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "control/caller.h"
#include "control/privatelink/discovery.h"
#include "control/privatelink/register.h"
#include "testing/arm_fixture.h"

namespace privlink::testing {

class PlFixture {
 public:
  explicit PlFixture(control::privatelink::PrivateLinkLimits limits = {},
                     ArmFixtureOptions options = {});

  ArmFixture& arm() { return arm_; }
  const std::string& sub() const { return arm_.subscriptionId(); }
  std::shared_ptr<control::privatelink::PrivateLinkContext> context() { return pl_; }

  // A new subscription (random GUID) in the fixture's tenant.
  std::string addSubscription();
  // A non-admin principal named `name` (created on first use); "admin" is the bootstrap admin.
  control::Caller principal(const std::string& name);
  // Makes `name` the caller of the following requests.
  void actAs(const std::string& name);
  // Grants built-in role `roleName` ("Reader", "Network Contributor", ...) at `scope` (an id).
  void grant(const std::string& name, const std::string& roleName, const std::string& scope);

  ArmResult request(const std::string& method, const std::string& path,
                    const nlohmann::json& body = nullptr,
                    const std::map<std::string, std::string>& headers = {});
  // `body` sent verbatim.
  ArmResult requestRaw(const std::string& method, const std::string& path, std::string body,
                       const std::map<std::string, std::string>& headers = {});

  // Provider side in `sub`/rg: VNet 10.0.0.0/16, subnet "lbs" 10.0.1.0/24 (LB frontend), subnet
  // "nat" 10.0.2.0/24 with privateLinkServiceNetworkPolicies Disabled, LB "lb" with frontends
  // fe1..fe3. Returns ok or a description of the failing request.
  std::string buildProvider(const std::string& sub, const std::string& rg);
  // Consumer side in `sub`/rg: VNet 10.0.0.0/16 (overlapping on purpose), subnet "pe".
  std::string buildConsumer(const std::string& sub, const std::string& rg);
  // PUT a PLS "pls" on fe1 with the given visibility/autoApproval; returns the response.
  ArmResult putService(const std::string& sub, const std::string& rg, const std::string& name,
                       const nlohmann::json& visibility, const nlohmann::json& autoApproval,
                       const std::string& frontend = "fe1");
  // PUT a private endpoint to `target` (id or alias); manual selects the list.
  ArmResult putEndpoint(const std::string& sub, const std::string& rg, const std::string& name,
                        const std::string& target, bool manual);

  static std::string rgId(const std::string& sub, const std::string& rg) {
    return "/subscriptions/" + sub + "/resourceGroups/" + rg;
  }
  static std::string net(const std::string& sub, const std::string& rg) {
    return rgId(sub, rg) + "/providers/Microsoft.Network";
  }

 private:
  ArmFixture arm_;
  std::shared_ptr<control::privatelink::PrivateLinkContext> pl_;
  std::unique_ptr<api::ArmRouter> router_;  // arm_'s router plus discovery
  std::map<std::string, control::Caller> principals_;
  control::Caller admin_;
};

inline constexpr const char* kApi = "?api-version=2024-07-01";

}  // namespace privlink::testing
