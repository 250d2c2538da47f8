#include "testing/arm_fixture.h"

#include <cstdlib>
#include <iostream>

#include "common/resource_id.h"
#include "control/network/register.h"
#include "control/privatedns/private_dns_kinds.h"
#include "testing/test_kinds.h"

namespace privlink::testing {

std::string ArmResult::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (iequals(k, name)) return v;
  }
  return {};
}

std::string ArmResult::describe() const {
  std::string out = "HTTP " + std::to_string(status) + "\n";
  for (const auto& [k, v] : headers) out += k + ": " + v + "\n";
  return out + body;
}

ArmFixture::ArmFixture(ArmFixtureOptions options) : options_(std::move(options)) {
  auto opened = store::openSqliteStore(store::SqliteOptions{":memory:"});
  if (!opened.ok()) {
    std::cerr << "ArmFixture: cannot open an in-memory store: " << opened.status().toString()
              << "\n";
    std::abort();
  }
  store_ = std::move(opened).value();
  if (options_.manualRealiser) tracker_.addRealiser("test", 0);
  service_ = std::make_unique<control::ResourceService>(*store_, tracker_, control::ControlConfig{});
  if (options_.networkKinds) control::registerNetworkKinds(*service_);
  if (options_.networkKinds) control::privatedns::registerPrivateDnsKinds(*service_);
  if (options_.testKinds) registerTestKinds(*service_);
  router_ = std::make_unique<api::ArmRouter>(
      *service_, api::ArmRouterOptions{options_.baseUrl, 1, options_.pageSize});
  caller_ = control::Caller{"9a1c3e5f-0b2d-4f6a-8c7e-1d3f5a7b9c02", tenant_, "test-admin", true};
  Status st = store_->write([&](store::Transaction& txn) -> Status {
    auto tenant = txn.put(std::string(control::kTenantKeyPrefix) + tenant_, control::kTenantType,
                          {{"tenantId", tenant_}, {"displayName", "privlink"}});
    if (!tenant.ok()) return tenant.status();
    return Status::Ok();
  });
  if (!st.ok()) {
    std::cerr << "ArmFixture: bootstrap failed: " << st.toString() << "\n";
    std::abort();
  }
  addSubscription(subscription_, tenant_);
}

ArmFixture::~ArmFixture() = default;

void ArmFixture::addSubscription(const std::string& subscriptionId, const std::string& tenantId,
                                 const std::string& displayName) {
  Status st = store_->write([&](store::Transaction& txn) -> Status {
    auto doc = txn.put("/subscriptions/" + subscriptionId, control::kSubscriptionDocType,
                       {{"subscriptionId", subscriptionId},
                        {"tenantId", tenantId},
                        {"displayName", displayName},
                        {"state", "Enabled"}});
    return doc.ok() ? Status::Ok() : doc.status();
  });
  if (!st.ok()) {
    std::cerr << "ArmFixture: cannot add subscription: " << st.toString() << "\n";
    std::abort();
  }
}

ArmResult ArmFixture::request(const std::string& method, const std::string& target,
                              const nlohmann::json& body,
                              const std::map<std::string, std::string>& headers) {
  std::string text;
  if (body.is_string()) {
    text = body.get<std::string>();
  } else if (!body.is_null()) {
    text = body.dump();
  }
  return requestRaw(method, target, std::move(text), headers);
}

ArmResult ArmFixture::requestRaw(const std::string& method, const std::string& target,
                                 std::string body,
                                 const std::map<std::string, std::string>& headers) {
  api::HttpRequest request;
  request.method = method;
  request.target = target;
  request.body = std::move(body);
  request.remoteAddress = "127.0.0.1";
  for (const auto& [k, v] : headers) request.headers[k] = v;
  if (!request.body.empty()) request.headers["Content-Type"] = "application/json";
  api::HttpResponse response = router_->handle(request, caller_);
  ArmResult result;
  result.status = response.status;
  result.headers = response.headers;
  result.body = response.body;
  result.json = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (result.json.is_discarded()) result.json = nullptr;
  return result;
}

void ArmFixture::realise(const std::map<std::string, Status>& failuresById) {
  std::map<std::string, Status> failures;
  for (const auto& [id, status] : failuresById) {
    auto parsed = ResourceId::parse(id);
    failures.emplace(parsed.ok() ? parsed->key() : toLower(id), status);
  }
  tracker_.report("test", store_->revision(), std::move(failures));
}

}  // namespace privlink::testing
