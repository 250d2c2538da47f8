// KindContext::authorizer: kinds can make their own RBAC checks (e.g. the approval permission on a
// private link service) inside the request's transaction.
#include <gtest/gtest.h>

#include "control/authorization/authorizer.h"
#include "control/resource_kind.h"
#include "testing/arm_fixture.h"

namespace privlink::control {
namespace {

using nlohmann::json;

// Needs "Microsoft.Test/gadgets/use/action" on the gadget itself when an authorizer is set.
class GadgetKind : public ResourceKind {
 public:
  std::string_view type() const override { return "Microsoft.Test/gadgets"; }
  Result<json> put(KindContext& ctx, const ResourceId& id, json desired,
                   const store::Document*) override {
    sawAuthorizer = ctx.authorizer != nullptr;
    if (ctx.authorizer) {
      RETURN_IF_ERROR(
          ctx.authorizer->check(ctx.txn, ctx.caller, "Microsoft.Test/gadgets/use/action", id));
    }
    return desired;
  }
  bool sawAuthorizer = false;
};

TEST(KindContextTest, KindsSeeTheServicesAuthorizer) {
  testing::ArmFixture arm;
  auto kind = std::make_unique<GadgetKind>();
  GadgetKind* gadget = kind.get();
  arm.service().registerKind(std::move(kind));
  const std::string rg = "/subscriptions/" + arm.subscriptionId() + "/resourceGroups/rg1";
  ASSERT_EQ(arm.request("PUT", rg + "?api-version=2021-04-01", {{"location", "local"}}).status,
            201);
  const std::string id = rg + "/providers/Microsoft.Test/gadgets/g1?api-version=2024-01-01";

  // No authorizer: everything allowed (what kind unit tests rely on).
  arm.caller().isAdmin = false;
  auto open = arm.request("PUT", id, {{"location", "local"}});
  EXPECT_EQ(open.status, 201) << open.describe();
  EXPECT_FALSE(gadget->sawAuthorizer);

  authorization::Authorizer authorizer(arm.store());
  arm.service().setAuthorizer(&authorizer);
  auto denied = arm.request("PUT", id, {{"location", "local"}});
  EXPECT_EQ(denied.status, 403) << denied.describe();
  EXPECT_EQ(denied.json["error"]["code"], "AuthorizationFailed");
  EXPECT_NE(denied.json["error"]["message"].get<std::string>().find(
                "'Microsoft.Test/gadgets/use/action'"),
            std::string::npos);
  EXPECT_TRUE(gadget->sawAuthorizer);

  arm.caller().isAdmin = true;
  EXPECT_EQ(arm.request("PUT", id, {{"location", "local"}}).status, 200);
}

}  // namespace
}  // namespace privlink::control
