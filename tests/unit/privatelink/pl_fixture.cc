#include "pl_fixture.h"

#include "common/guid.h"
#include "control/authorization/role_assignments.h"
#include "control/authorization/role_definitions.h"

namespace privlink::testing {

using nlohmann::json;

PlFixture::PlFixture(control::privatelink::PrivateLinkLimits limits, ArmFixtureOptions options)
    : arm_(options) {
  pl_ = control::privatelink::registerPrivateLinkKinds(arm_.service(), limits);
  api::ArmRouterOptions routerOptions{options.baseUrl, 1, options.pageSize};
  routerOptions.privateLink = std::make_shared<control::privatelink::PrivateLinkDiscovery>(pl_);
  router_ = std::make_unique<api::ArmRouter>(arm_.service(), routerOptions);
  admin_ = arm_.caller();
}

std::string PlFixture::addSubscription() {
  std::string sub = newGuid();
  arm_.addSubscription(sub, arm_.tenantId());
  return sub;
}

control::Caller PlFixture::principal(const std::string& name) {
  if (name == "admin") return admin_;
  auto it = principals_.find(name);
  if (it != principals_.end()) return it->second;
  control::Caller c{newGuid(), arm_.tenantId(), name, false};
  principals_[name] = c;
  return c;
}

void PlFixture::actAs(const std::string& name) { arm_.caller() = principal(name); }

void PlFixture::grant(const std::string& name, const std::string& roleName,
                      const std::string& scope) {
  control::Caller c = principal(name);
  const control::authorization::RoleDefinition* role =
      control::authorization::findRoleByName(roleName);
  if (!role) throw std::runtime_error("no built-in role " + roleName);
  auto scopeId = ResourceId::parse(scope);
  if (!scopeId.ok()) throw std::runtime_error("bad scope " + scope);
  control::authorization::NewRoleAssignment request;
  request.path = control::authorization::RoleAssignmentPath{*scopeId, newGuid()};
  request.roleDefinitionId = role->id;
  request.principalId = c.principalId;
  request.principalType = "ServicePrincipal";
  request.createdBy = admin_.principalId;
  control::authorization::RoleAssignmentStore assignments(arm_.store());
  auto created = assignments.create(request);
  if (!created.ok()) throw std::runtime_error("grant failed: " + created.status().toString());
}

ArmResult PlFixture::request(const std::string& method, const std::string& path,
                             const json& body, const std::map<std::string, std::string>& headers) {
  std::string text;
  if (body.is_string()) {
    text = body.get<std::string>();
  } else if (!body.is_null()) {
    text = body.dump();
  }
  return requestRaw(method, path, std::move(text), headers);
}

ArmResult PlFixture::requestRaw(const std::string& method, const std::string& path,
                                std::string body,
                                const std::map<std::string, std::string>& headers) {
  api::HttpRequest request;
  request.method = method;
  request.target = path;
  request.body = std::move(body);
  request.remoteAddress = "127.0.0.1";
  for (const auto& [k, v] : headers) request.headers[k] = v;
  if (!request.body.empty()) request.headers["Content-Type"] = "application/json";
  api::HttpResponse response = router_->handle(request, arm_.caller());
  ArmResult result;
  result.status = response.status;
  result.headers = response.headers;
  result.body = response.body;
  result.json = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (result.json.is_discarded()) result.json = nullptr;
  return result;
}

namespace {
std::string check(const ArmResult& r, int want, const std::string& what) {
  if (r.status == want || (want == 201 && r.status == 200)) return "";
  return what + ": " + r.describe();
}
}  // namespace

std::string PlFixture::buildProvider(const std::string& sub, const std::string& rg) {
  std::string err;
  const std::string n = net(sub, rg);
  err += check(request("PUT", rgId(sub, rg) + "?api-version=2021-04-01", {{"location", "local"}}),
               201, "rg");
  err += check(request("PUT", n + "/virtualNetworks/pv" + kApi,
                       {{"location", "local"},
                        {"properties", {{"addressSpace", {{"addressPrefixes", {"10.0.0.0/16"}}}}}}}),
               201, "vnet");
  err += check(request("PUT", n + "/virtualNetworks/pv/subnets/lbs" + kApi,
                       {{"properties", {{"addressPrefix", "10.0.1.0/24"}}}}),
               201, "lb subnet");
  err += check(request("PUT", n + "/virtualNetworks/pv/subnets/nat" + kApi,
                       {{"properties",
                         {{"addressPrefix", "10.0.2.0/24"},
                          {"privateLinkServiceNetworkPolicies", "Disabled"}}}}),
               201, "nat subnet");
  json fes = json::array();
  for (const char* fe : {"fe1", "fe2", "fe3"}) {
    fes.push_back({{"name", fe},
                   {"properties", {{"subnet", {{"id", n + "/virtualNetworks/pv/subnets/lbs"}}}}}});
  }
  err += check(request("PUT", n + "/loadBalancers/lb" + kApi,
                       {{"location", "local"},
                        {"sku", {{"name", "Standard"}}},
                        {"properties", {{"frontendIPConfigurations", fes}}}}),
               201, "lb");
  return err;
}

std::string PlFixture::buildConsumer(const std::string& sub, const std::string& rg) {
  std::string err;
  const std::string n = net(sub, rg);
  err += check(request("PUT", rgId(sub, rg) + "?api-version=2021-04-01", {{"location", "local"}}),
               201, "rg");
  err += check(request("PUT", n + "/virtualNetworks/cv" + kApi,
                       {{"location", "local"},
                        {"properties", {{"addressSpace", {{"addressPrefixes", {"10.0.0.0/16"}}}}}}}),
               201, "vnet");
  err += check(request("PUT", n + "/virtualNetworks/cv/subnets/pe" + kApi,
                       {{"properties", {{"addressPrefix", "10.0.0.0/24"}}}}),
               201, "pe subnet");
  return err;
}

ArmResult PlFixture::putService(const std::string& sub, const std::string& rg,
                                const std::string& name, const json& visibility,
                                const json& autoApproval, const std::string& frontend) {
  const std::string n = net(sub, rg);
  json body = {
      {"location", "local"},
      {"properties",
       {{"loadBalancerFrontendIpConfigurations",
         {{{"id", n + "/loadBalancers/lb/frontendIPConfigurations/" + frontend}}}},
        {"ipConfigurations",
         {{{"name", "nat1"},
           {"properties", {{"subnet", {{"id", n + "/virtualNetworks/pv/subnets/nat"}}}}}}}},
        {"visibility", {{"subscriptions", visibility}}},
        {"autoApproval", {{"subscriptions", autoApproval}}},
        {"fqdns", {name + ".example.com"}}}}};
  return request("PUT", n + "/privateLinkServices/" + name + kApi, body);
}

ArmResult PlFixture::putEndpoint(const std::string& sub, const std::string& rg,
                                 const std::string& name, const std::string& target, bool manual) {
  const std::string n = net(sub, rg);
  json conn = json::array({{{"name", name + "-conn"},
                            {"properties", {{"privateLinkServiceId", target},
                                            {"requestMessage", "please"}}}}});
  json props = {{"subnet", {{"id", n + "/virtualNetworks/cv/subnets/pe"}}}};
  props[manual ? "manualPrivateLinkServiceConnections" : "privateLinkServiceConnections"] = conn;
  return request("PUT", n + "/privateEndpoints/" + name + kApi,
                 {{"location", "local"}, {"properties", props}});
}

}  // namespace privlink::testing
