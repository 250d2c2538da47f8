#include "control/resource_service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/arm_fixture.h"
#include "testing/test_kinds.h"

namespace privlink::control {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using privlink::testing::ArmFixture;
using privlink::testing::ArmFixtureOptions;

class ResourceServiceTest : public ::testing::Test {
 protected:
  explicit ResourceServiceTest(bool manual = false)
      : arm_(ArmFixtureOptions{.networkKinds = false, .manualRealiser = manual}) {}

  ResourceService& svc() { return arm_.service(); }
  const Caller& caller() { return arm_.caller(); }

  std::string sub() const { return "/subscriptions/" + arm_.subscriptionId(); }
  ResourceId group(const std::string& name = "rg1") {
    return ResourceId::resourceGroup(arm_.subscriptionId(), name);
  }
  ResourceId widget(const std::string& name, const std::string& rg = "rg1") {
    return group(rg).child("Microsoft.Test/widgets", name);
  }
  void makeGroup(const std::string& name = "rg1") {
    auto r = svc().put(caller(), group(name), json{{"location", "local"}});
    ASSERT_TRUE(r.ok()) << r.status().toString();
  }
  json putWidget(const std::string& name, const std::string& rg = "rg1", json props = {}) {
    json body = {{"location", "Local"}};
    if (!props.is_null()) body["properties"] = props;
    auto r = svc().put(caller(), widget(name, rg), body);
    EXPECT_TRUE(r.ok()) << r.status().toString();
    return r.ok() ? r->resource : json();
  }
  std::optional<store::Document> stored(const std::string& key) {
    std::optional<store::Document> out;
    Status st = arm_.store().read([&](store::ReadView& view) -> Status {
      auto doc = view.get(key);
      if (!doc.ok()) return doc.status();
      out = *doc;
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.toString();
    return out;
  }

  ArmFixture arm_;
};

class ResourceServiceRealiserTest : public ResourceServiceTest {
 protected:
  ResourceServiceRealiserTest() : ResourceServiceTest(true) {}
};

TEST_F(ResourceServiceTest, PutCreatesWithEnvelopeThenUpdates) {
  makeGroup();
  ResourceId id = ResourceId::parse(sub() + "/resourcegroups/rg1/providers/microsoft.test/WIDGETS/W1")
                      .value();
  auto first = svc().put(caller(), id, json{{"location", "Local"}, {"properties", {{"size", 3}}}});
  ASSERT_TRUE(first.ok()) << first.status().toString();
  EXPECT_TRUE(first->created);
  EXPECT_FALSE(first->operationId.empty());
  EXPECT_EQ(first->location, "Local");
  const json& r = first->resource;
  EXPECT_EQ(r["id"], id.toString());  // the caller's casing
  EXPECT_EQ(r["name"], "W1");
  EXPECT_EQ(r["type"], "Microsoft.Test/widgets");  // canonical
  EXPECT_EQ(r["location"], "Local");               // kept as sent
  EXPECT_EQ(r["tags"], json::object());
  EXPECT_THAT(r["etag"].get<std::string>(), HasSubstr("W/\""));
  EXPECT_EQ(r["properties"]["size"], 3);
  EXPECT_EQ(r["properties"]["provisioningState"], "Succeeded");
  EXPECT_EQ(r["properties"]["partCount"], 0);

  // Same resource, other casing and a location that differs only in case: an update.
  auto second = svc().put(caller(), widget("w1"), json{{"location", "local"}, {"tags", {{"a", "b"}}}});
  ASSERT_TRUE(second.ok()) << second.status().toString();
  EXPECT_FALSE(second->created);
  EXPECT_EQ(second->resource["id"], id.toString());  // the creator's casing stays
  EXPECT_EQ(second->resource["tags"], (json{{"a", "b"}}));
  EXPECT_NE(second->resource["etag"], r["etag"]);
  EXPECT_FALSE(second->resource["properties"].contains("size"));  // PUT replaces
}

TEST_F(ResourceServiceTest, ProvisioningStateIsNeverStored) {
  makeGroup();
  putWidget("w1", "rg1", {{"provisioningState", "Failed"}});
  auto doc = stored(widget("w1").key());
  ASSERT_TRUE(doc.has_value());
  EXPECT_FALSE(doc->body["properties"].contains("provisioningState"));
  EXPECT_EQ(svc().get(widget("w1")).value()["properties"]["provisioningState"], "Succeeded");
}

TEST_F(ResourceServiceRealiserTest, ProvisioningStateFollowsTheRealiser) {
  makeGroup();  // resource groups are synchronous
  EXPECT_EQ(svc().get(group()).value()["properties"]["provisioningState"], "Succeeded");
  auto put = svc().put(caller(), widget("w1"), json{{"location", "local"}});
  ASSERT_TRUE(put.ok());
  EXPECT_EQ(put->resource["properties"]["provisioningState"], "Updating");
  EXPECT_EQ(svc().get(widget("w1")).value()["properties"]["provisioningState"], "Updating");
  auto op = svc().operation(put->operationId);
  ASSERT_TRUE(op.ok()) << op.status().toString();
  EXPECT_EQ(op->status, "InProgress");
  EXPECT_FALSE(op->isDelete);
  EXPECT_EQ(op->resourceId, widget("w1").toString());

  arm_.realise();
  EXPECT_EQ(svc().get(widget("w1")).value()["properties"]["provisioningState"], "Succeeded");
  EXPECT_EQ(svc().operation(put->operationId)->status, "Succeeded");
}

TEST_F(ResourceServiceRealiserTest, FailedRealisationFailsTheOperation) {
  makeGroup();
  auto put = svc().put(caller(), widget("w1"), json{{"location", "local"}});
  ASSERT_TRUE(put.ok());
  arm_.realise({{widget("w1").toString(),
                 Status::Conflict("WidgetJammed", "the widget is jammed; free it")}});
  EXPECT_EQ(svc().get(widget("w1")).value()["properties"]["provisioningState"], "Failed");
  auto op = svc().operation(put->operationId);
  ASSERT_TRUE(op.ok());
  EXPECT_EQ(op->status, "Failed");
  ASSERT_TRUE(op->error.has_value());
  EXPECT_EQ(op->error->armCode(), "WidgetJammed");
}

TEST_F(ResourceServiceRealiserTest, OperationsSurviveARestart) {
  makeGroup();
  auto put = svc().put(caller(), widget("w1"), json{{"location", "local"}});
  ASSERT_TRUE(put.ok());
  auto del = svc().remove(caller(), widget("w1"));
  ASSERT_TRUE(del.ok());
  // A new engine over the same store, with a fresh tracker: the operations are still known.
  ProvisioningTracker tracker;
  tracker.addRealiser("agent");
  ResourceService again(arm_.store(), tracker, ControlConfig{});
  privlink::testing::registerTestKinds(again);
  EXPECT_EQ(again.operation(put->operationId)->status, "InProgress");
  auto delOp = again.operation(del->operationId);
  ASSERT_TRUE(delOp.ok());
  EXPECT_TRUE(delOp->isDelete);
  EXPECT_EQ(delOp->status, "InProgress");
  tracker.report("agent", arm_.store().revision(), {});
  EXPECT_EQ(again.operation(put->operationId)->status, "Succeeded");
  EXPECT_EQ(again.operation(del->operationId)->status, "Succeeded");
}

TEST_F(ResourceServiceTest, UnknownOperation) {
  EXPECT_EQ(svc().operation("00000000-0000-0000-0000-000000000000").status().armCode(),
            "OperationNotFound");
  EXPECT_EQ(svc().operation("../../subscriptions").status().armCode(), "OperationNotFound");
}

TEST_F(ResourceServiceTest, LocationRules) {
  makeGroup();
  auto missing = svc().put(caller(), widget("w1"), json{{"properties", json::object()}});
  EXPECT_EQ(missing.status().armCode(), "LocationRequired");
  EXPECT_EQ(missing.status().target(), "location");
  putWidget("w1");
  auto moved = svc().put(caller(), widget("w1"), json{{"location", "elsewhere"}});
  EXPECT_EQ(moved.status().code(), StatusCode::kConflict);
  EXPECT_EQ(moved.status().armCode(), "InvalidResourceLocation");
  // Child resources have no location; one sent is ignored.
  auto part = svc().put(caller(), widget("w1").child("parts", "p1"),
                        json{{"location", "ignored"}, {"properties", {{"color", "red"}}}});
  ASSERT_TRUE(part.ok()) << part.status().toString();
  EXPECT_FALSE(part->resource.contains("location"));
  EXPECT_EQ(part->resource["type"], "Microsoft.Test/widgets/parts");
  EXPECT_EQ(part->location, "Local");  // the operation URL uses the parent's location
}

TEST_F(ResourceServiceTest, ScopeAndParentMustExist) {
  auto noGroup = svc().put(caller(), widget("w1"), json{{"location", "local"}});
  EXPECT_EQ(noGroup.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(noGroup.status().armCode(), "ResourceGroupNotFound");
  EXPECT_THAT(noGroup.status().message(), HasSubstr("rg1"));

  ResourceId otherSub = ResourceId::resourceGroup("11111111-2222-3333-4444-555555555555", "rg1");
  auto noSub = svc().put(caller(), otherSub, json{{"location", "local"}});
  EXPECT_EQ(noSub.status().armCode(), "SubscriptionNotFound");

  makeGroup();
  auto noParent = svc().put(caller(), widget("nope").child("parts", "p1"), json::object());
  EXPECT_EQ(noParent.status().armCode(), "ParentResourceNotFound");
  EXPECT_THAT(noParent.status().message(), HasSubstr("widgets/nope"));

  auto get = svc().get(widget("ghost"));
  EXPECT_EQ(get.status().armCode(), "ResourceNotFound");
  EXPECT_THAT(get.status().message(), HasSubstr("Microsoft.Test/widgets/ghost"));
  EXPECT_EQ(svc().get(widget("w", "nogroup")).status().armCode(), "ResourceGroupNotFound");
}

TEST_F(ResourceServiceTest, UnknownTypeIsRejectedByName) {
  makeGroup();
  auto r = svc().put(caller(), group().child("Microsoft.Test/gizmos", "g1"),
                     json{{"location", "local"}});
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().armCode(), "InvalidResourceType");
  EXPECT_THAT(r.status().message(), HasSubstr("Microsoft.Test/gizmos"));
  EXPECT_THAT(r.status().message(), HasSubstr("widgets"));  // what is supported instead
  EXPECT_EQ(svc().get(group().child("Microsoft.Nope/things", "x")).status().armCode(),
            "InvalidResourceType");
}

TEST_F(ResourceServiceTest, NameRules) {
  makeGroup();
  for (std::string bad : {std::string(81, 'a'), std::string("bad name"), std::string("-lead"),
                          std::string("trail."), std::string("x$y")}) {
    auto r = svc().put(caller(), widget(bad), json{{"location", "local"}});
    EXPECT_EQ(r.status().armCode(), "InvalidResourceName") << bad;
  }
  for (std::string good : {std::string(80, 'a'), std::string("a"), std::string("a.b-c_d"),
                           std::string("end_")}) {
    auto r = svc().put(caller(), widget(good), json{{"location", "local"}});
    EXPECT_TRUE(r.ok()) << good << ": " << r.status().toString();
  }
  EXPECT_TRUE(validateResourceGroupName("my-rg_(1).x").ok());
  EXPECT_EQ(validateResourceGroupName("rg.").armCode(), "InvalidResourceGroup");
  EXPECT_EQ(validateResourceGroupName(std::string(91, 'r')).armCode(), "InvalidResourceGroup");
  EXPECT_THAT(validateResourceGroupName("a b").message(), HasSubstr("invalid characters: ' '"));
  auto badGroup = svc().put(caller(), group("bad/../x"), json{{"location", "local"}});
  EXPECT_FALSE(badGroup.ok());
}

TEST_F(ResourceServiceTest, BodyMustBeAnObjectWithValidTags) {
  makeGroup();
  EXPECT_EQ(svc().put(caller(), widget("w1"), json::array()).status().armCode(),
            "InvalidRequestContent");
  auto tags = svc().put(caller(), widget("w1"), json{{"location", "l"}, {"tags", {{"a", 1}}}});
  EXPECT_EQ(tags.status().armCode(), "InvalidRequestContent");
  EXPECT_EQ(tags.status().target(), "tags.a");
  auto props = svc().put(caller(), widget("w1"), json{{"location", "l"}, {"properties", 5}});
  EXPECT_EQ(props.status().target(), "properties");
  auto kindError =
      svc().put(caller(), widget("w1"), json{{"location", "l"}, {"properties", {{"size", 0}}}});
  EXPECT_EQ(kindError.status().armCode(), "InvalidWidgetSize");
  EXPECT_EQ(kindError.status().target(), "properties.size");
  // Nothing was stored by the failed attempts.
  EXPECT_FALSE(stored(widget("w1").key()).has_value());
}

TEST_F(ResourceServiceTest, IfMatchAndIfNoneMatch) {
  makeGroup();
  json body = {{"location", "local"}};
  auto absent = svc().put(caller(), widget("w1"), body, Preconditions{"W/\"abc\"", false});
  EXPECT_EQ(absent.status().code(), StatusCode::kPreconditionFailed);
  auto created = svc().put(caller(), widget("w1"), body, Preconditions{std::nullopt, true});
  ASSERT_TRUE(created.ok());
  std::string etag = created->resource["etag"];
  auto again = svc().put(caller(), widget("w1"), body, Preconditions{std::nullopt, true});
  EXPECT_EQ(again.status().code(), StatusCode::kPreconditionFailed);
  auto stale = svc().put(caller(), widget("w1"), body, Preconditions{"W/\"stale\"", false});
  EXPECT_EQ(stale.status().code(), StatusCode::kPreconditionFailed);
  EXPECT_THAT(stale.status().message(), HasSubstr(etag));
  EXPECT_TRUE(svc().put(caller(), widget("w1"), body, Preconditions{etag, false}).ok());
  EXPECT_TRUE(svc().put(caller(), widget("w1"), body, Preconditions{"*", false}).ok());
  // The bare form of the current etag matches too.
  std::string current = svc().get(widget("w1")).value()["etag"];
  std::string bare = current.substr(3, current.size() - 4);
  EXPECT_TRUE(svc().put(caller(), widget("w1"), body, Preconditions{bare, false}).ok());
  // DELETE honours If-Match as well.
  EXPECT_EQ(svc().remove(caller(), widget("w1"), Preconditions{"W/\"old\"", false})
                .status()
                .code(),
            StatusCode::kPreconditionFailed);
  EXPECT_EQ(svc().remove(caller(), widget("gone"), Preconditions{"*", false}).status().code(),
            StatusCode::kPreconditionFailed);
}

TEST_F(ResourceServiceTest, DeleteRemovesChildrenAndDerivedRecords) {
  makeGroup();
  putWidget("w1");
  ASSERT_TRUE(svc().put(caller(), widget("w1").child("parts", "p1"), json::object()).ok());
  ASSERT_TRUE(svc().put(caller(), widget("w1").child("parts", "p2"), json::object()).ok());
  EXPECT_EQ(svc().get(widget("w1")).value()["properties"]["partCount"], 2);
  std::string shadow = "/privlink/widgetshadows" + widget("w1").key();
  EXPECT_TRUE(stored(shadow).has_value());

  auto del = svc().remove(caller(), widget("w1"));
  ASSERT_TRUE(del.ok()) << del.status().toString();
  EXPECT_TRUE(del->existed);
  EXPECT_FALSE(del->operationId.empty());
  EXPECT_FALSE(stored(widget("w1").key()).has_value());
  EXPECT_FALSE(stored(widget("w1").child("parts", "p1").key()).has_value());
  EXPECT_FALSE(stored(shadow).has_value());
  EXPECT_EQ(svc().operation(del->operationId)->status, "Succeeded");

  auto again = svc().remove(caller(), widget("w1"));
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->existed);
}

TEST_F(ResourceServiceTest, KindRemoveCanRefuse) {
  makeGroup();
  putWidget("w1");
  ASSERT_TRUE(svc()
                  .put(caller(), group().child("Microsoft.Test/anchors", "a1"),
                       json{{"location", "local"},
                            {"properties", {{"widgetId", widget("w1").toString()}}}})
                  .ok());
  auto del = svc().remove(caller(), widget("w1"));
  EXPECT_EQ(del.status().armCode(), "InUseWidgetCannotBeDeleted");
  EXPECT_TRUE(stored(widget("w1").key()).has_value());
}

TEST_F(ResourceServiceTest, GroupDeleteCascadesInDependencyOrder) {
  makeGroup("rg1");
  makeGroup("rg2");
  putWidget("w1");
  putWidget("keep", "rg2");
  ASSERT_TRUE(svc().put(caller(), widget("w1").child("parts", "p1"), json::object()).ok());
  // The anchor sorts before the widget, so the widget's first removal attempt is refused.
  ASSERT_TRUE(svc()
                  .put(caller(), group().child("Microsoft.Test/anchors", "a1"),
                       json{{"location", "local"},
                            {"properties", {{"widgetId", widget("w1").toString()}}}})
                  .ok());
  auto del = svc().remove(caller(), group());
  ASSERT_TRUE(del.ok()) << del.status().toString();
  EXPECT_TRUE(del->existed);
  EXPECT_FALSE(stored(group().key()).has_value());
  EXPECT_FALSE(stored(widget("w1").key()).has_value());
  EXPECT_FALSE(stored("/privlink/widgetshadows" + widget("w1").key()).has_value());
  EXPECT_TRUE(stored(widget("keep", "rg2").key()).has_value());
  EXPECT_EQ(svc().get(group()).status().armCode(), "ResourceGroupNotFound");
  EXPECT_EQ(svc().remove(caller(), group()).status().armCode(), "ResourceGroupNotFound");
}

TEST_F(ResourceServiceTest, GroupDeleteRefusedWhenAnotherGroupUsesItsResources) {
  makeGroup("rg1");
  makeGroup("rg2");
  putWidget("w1");
  ASSERT_TRUE(svc()
                  .put(caller(), group("rg2").child("Microsoft.Test/anchors", "a1"),
                       json{{"location", "local"},
                            {"properties", {{"widgetId", widget("w1").toString()}}}})
                  .ok());
  auto del = svc().remove(caller(), group());
  EXPECT_EQ(del.status().armCode(), "InUseWidgetCannotBeDeleted");
  // All or nothing: the group and its widget are still there.
  EXPECT_TRUE(stored(group().key()).has_value());
  EXPECT_TRUE(stored(widget("w1").key()).has_value());
}

TEST_F(ResourceServiceTest, ListPagesInKeyOrder) {
  makeGroup("rg1");
  makeGroup("rg2");
  for (const char* name : {"e", "b", "a", "d", "c"}) putWidget(name);
  putWidget("z", "rg2");
  ListRequest request{group().key(), "microsoft.test/WIDGETS", std::nullopt, "", 2};
  std::vector<std::string> names;
  int pages = 0;
  while (true) {
    auto page = svc().list(request);
    ASSERT_TRUE(page.ok()) << page.status().toString();
    ++pages;
    for (const auto& item : page->value) names.push_back(item["name"]);
    if (page->nextSkipToken.empty()) break;
    request.skipToken = page->nextSkipToken;
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b", "c", "d", "e"}));

  auto all = svc().list(ListRequest{ResourceId::subscription(arm_.subscriptionId()).key(),
                                    "Microsoft.Test/widgets", std::nullopt, "", 100});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->value.size(), 6u);
  EXPECT_TRUE(all->nextSkipToken.empty());

  auto bad = svc().list(ListRequest{group().key(), "Microsoft.Test/widgets", std::nullopt,
                                    "not-hex!", 2});
  EXPECT_EQ(bad.status().armCode(), "InvalidSkipToken");
  auto missing = svc().list(ListRequest{group("none").key(), "Microsoft.Test/widgets",
                                        std::nullopt, "", 2});
  EXPECT_EQ(missing.status().armCode(), "ResourceGroupNotFound");
}

TEST_F(ResourceServiceTest, ListChildrenOfAParent) {
  makeGroup();
  putWidget("w1");
  putWidget("w2");
  ASSERT_TRUE(svc().put(caller(), widget("w1").child("parts", "p1"), json::object()).ok());
  ASSERT_TRUE(svc().put(caller(), widget("w2").child("parts", "p2"), json::object()).ok());
  auto page = svc().list(ListRequest{"", "Microsoft.Test/widgets/parts", widget("w1"), "", 100});
  ASSERT_TRUE(page.ok()) << page.status().toString();
  ASSERT_EQ(page->value.size(), 1u);
  EXPECT_EQ(page->value[0]["name"], "p1");
  auto none = svc().list(ListRequest{"", "Microsoft.Test/widgets/parts", widget("x"), "", 100});
  EXPECT_EQ(none.status().armCode(), "ResourceNotFound");
}

TEST_F(ResourceServiceTest, PatchTagsKeepsEverythingElse) {
  makeGroup();
  putWidget("w1", "rg1", {{"size", 7}});
  auto patched = svc().patchTags(caller(), widget("w1"), json{{"tags", {{"env", "test"}}}});
  ASSERT_TRUE(patched.ok()) << patched.status().toString();
  EXPECT_EQ((*patched)["tags"], (json{{"env", "test"}}));
  EXPECT_EQ((*patched)["properties"]["size"], 7);
  auto group = svc().patchTags(caller(), this->group(), json{{"tags", {{"owner", "me"}}}});
  ASSERT_TRUE(group.ok());
  EXPECT_EQ((*group)["tags"]["owner"], "me");
  EXPECT_EQ((*group)["location"], "local");
  EXPECT_EQ(svc().patchTags(caller(), widget("nope"), json{{"tags", json::object()}})
                .status()
                .armCode(),
            "ResourceNotFound");
  ASSERT_TRUE(svc().put(caller(), widget("w1").child("parts", "p"), json::object()).ok());
  EXPECT_EQ(svc().patchTags(caller(), widget("w1").child("parts", "p"), json{{"tags", {}}})
                .status()
                .code(),
            StatusCode::kInvalidArgument);
}

TEST_F(ResourceServiceTest, PutWithinAndRemoveWithinShareTheTransaction) {
  makeGroup();
  Status st = arm_.store().write([&](store::Transaction& txn) -> Status {
    KindContext ctx{txn, caller(), svc().config(), svc()};
    auto a = svc().putWithin(ctx, widget("inner"), json{{"location", "local"}});
    if (!a.ok()) return a.status();
    EXPECT_EQ((*a)["name"], "inner");
    auto bad = svc().putWithin(ctx, widget("x").child("parts", "p"), json::object());
    EXPECT_EQ(bad.status().armCode(), "ParentResourceNotFound");
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok()) << st.toString();
  EXPECT_TRUE(stored(widget("inner").key()).has_value());
  // A failing transaction rolls the nested put back.
  st = arm_.store().write([&](store::Transaction& txn) -> Status {
    KindContext ctx{txn, caller(), svc().config(), svc()};
    RETURN_IF_ERROR(svc().removeWithin(ctx, widget("inner")));
    return Status::Conflict("Abort", "roll back");
  });
  EXPECT_FALSE(st.ok());
  EXPECT_TRUE(stored(widget("inner").key()).has_value());
  st = arm_.store().write([&](store::Transaction& txn) -> Status {
    KindContext ctx{txn, caller(), svc().config(), svc()};
    return svc().removeWithin(ctx, widget("inner"));
  });
  ASSERT_TRUE(st.ok());
  EXPECT_FALSE(stored(widget("inner").key()).has_value());
}

TEST_F(ResourceServiceTest, AKindMayCreateChildrenOfTheResourceItIsCreating) {
  makeGroup();
  auto put = svc().put(caller(), widget("w1"),
                       json{{"location", "local"},
                            {"properties",
                             {{"inlineParts", {{{"name", "p1"}, {"color", "red"}}, {{"name", "p2"}}}}}}});
  ASSERT_TRUE(put.ok()) << put.status().toString();
  EXPECT_EQ(put->resource["properties"]["partCount"], 2);
  EXPECT_FALSE(put->resource["properties"].contains("inlineParts"));
  EXPECT_EQ(svc().get(widget("w1").child("parts", "p1")).value()["properties"]["color"], "red");
  // A child's own validation still applies, and rolls the whole PUT back.
  auto bad = svc().put(caller(), widget("w2"),
                       json{{"location", "local"},
                            {"properties", {{"inlineParts", {{{"name", "-bad"}}}}}}});
  EXPECT_EQ(bad.status().armCode(), "InvalidResourceName");
  EXPECT_FALSE(stored(widget("w2").key()).has_value());
  // Outside its parent's put, a missing parent is still refused.
  auto orphan = svc().put(caller(), widget("w3").child("parts", "p"), json::object());
  EXPECT_EQ(orphan.status().armCode(), "ParentResourceNotFound");
}

TEST_F(ResourceServiceTest, SubscriptionsAndTenants) {
  auto sub = svc().get(ResourceId::subscription(arm_.subscriptionId()));
  ASSERT_TRUE(sub.ok());
  EXPECT_EQ((*sub)["subscriptionId"], arm_.subscriptionId());
  EXPECT_EQ((*sub)["tenantId"], arm_.tenantId());
  EXPECT_EQ((*sub)["state"], "Enabled");
  EXPECT_EQ((*sub)["id"], "/subscriptions/" + arm_.subscriptionId());
  EXPECT_EQ(svc().get(ResourceId::subscription("nope")).status().armCode(),
            "SubscriptionNotFound");
  auto subs = svc().list(ListRequest{"", "Microsoft.Resources/subscriptions"});
  ASSERT_TRUE(subs.ok());
  ASSERT_EQ(subs->value.size(), 1u);
  auto tenants = svc().listTenants();
  ASSERT_TRUE(tenants.ok());
  ASSERT_EQ(tenants->size(), 1u);
  EXPECT_EQ((*tenants)[0]["id"], "/tenants/" + arm_.tenantId());
  EXPECT_EQ((*tenants)[0]["tenantId"], arm_.tenantId());
}

TEST_F(ResourceServiceTest, GroupPutIsSynchronous) {
  auto created = svc().put(caller(), group(), json{{"location", "Local"}, {"tags", {{"a", "b"}}}});
  ASSERT_TRUE(created.ok());
  EXPECT_TRUE(created->created);
  EXPECT_TRUE(created->operationId.empty());
  EXPECT_EQ(created->resource["type"], "Microsoft.Resources/resourceGroups");
  EXPECT_EQ(created->resource["properties"]["provisioningState"], "Succeeded");
  auto updated = svc().put(caller(), group(), json{{"location", "local"}});
  ASSERT_TRUE(updated.ok());
  EXPECT_FALSE(updated->created);
  EXPECT_EQ(svc().put(caller(), group(), json{{"location", "far"}}).status().armCode(),
            "InvalidResourceGroupLocation");
  EXPECT_EQ(svc().put(caller(), group("x"), json::object()).status().armCode(),
            "LocationRequired");
}

}  // namespace
}  // namespace privlink::control
