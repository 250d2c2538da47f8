#include "testing/test_kinds.h"

#include <memory>

namespace privlink::testing {

namespace {

using nlohmann::json;

std::string shadowKey(const ResourceId& id) { return "/privlink/widgetshadows" + id.key(); }

class WidgetKind : public control::ResourceKind {
 public:
  std::string_view type() const override { return kWidgetType; }

  Result<json> put(control::KindContext& ctx, const ResourceId& id, json desired,
                   const store::Document* existing) override {
    json props = desired.value("properties", json::object());
    if (props.contains("size")) {
      const json& size = props["size"];
      if (!size.is_number_integer() || size.get<int64_t>() < 1 || size.get<int64_t>() > 100) {
        return Status::InvalidArgument("InvalidWidgetSize",
                                       "properties.size must be an integer from 1 to 100.")
            .withTarget("properties.size");
      }
    }
    if (props.contains("inlineParts")) {
      for (const json& part : props["inlineParts"]) {
        json partBody = {{"properties", json::object()}};
        if (part.contains("color")) partBody["properties"]["color"] = part["color"];
        ASSIGN_OR_RETURN(json created, ctx.service.putWithin(
                                           ctx, id.child("parts", part.value("name", "")),
                                           std::move(partBody)));
        (void)created;
      }
      props.erase("inlineParts");
    }
    props["shadowKey"] = shadowKey(id);
    ASSIGN_OR_RETURN(auto shadow, ctx.txn.put(shadowKey(id), "privlink/widgetshadow",
                                              json{{"widget", id.toString()}}));
    (void)shadow;
    desired["properties"] = props;
    return desired;
  }

  Status remove(control::KindContext& ctx, const ResourceId& id,
                const store::Document& existing) override {
    ASSIGN_OR_RETURN(auto anchors, ctx.txn.listType("microsoft.test/anchors"));
    for (const auto& anchor : anchors) {
      std::string ref = anchor.body.value("properties", json::object()).value("widgetId", "");
      if (iequals(ref, existing.id)) {
        return Status::Conflict("InUseWidgetCannotBeDeleted",
                                "Widget '" + existing.id + "' is used by anchor '" + anchor.id +
                                    "'. Delete the anchor first.");
      }
    }
    ASSIGN_OR_RETURN(auto shadow, ctx.txn.get(shadowKey(id)));
    if (shadow) RETURN_IF_ERROR(ctx.txn.erase(shadowKey(id)));
    return Status::Ok();
  }

  void render(store::ReadView& view, const ResourceId& id, json& body) const override {
    auto parts = view.listType("microsoft.test/widgets/parts", id.key() + "/");
    body["properties"]["partCount"] = parts.ok() ? parts->size() : 0;
  }
};

class PartKind : public control::ResourceKind {
 public:
  std::string_view type() const override { return kPartType; }
  bool tracked() const override { return false; }
  Result<json> put(control::KindContext& ctx, const ResourceId& id, json desired,
                   const store::Document* existing) override {
    json props = desired.value("properties", json::object());
    if (props.contains("color") && !props["color"].is_string()) {
      return Status::InvalidArgument("InvalidPartColor", "properties.color must be a string.")
          .withTarget("properties.color");
    }
    return json{{"properties", props}};
  }
};

class AnchorKind : public control::ResourceKind {
 public:
  std::string_view type() const override { return kAnchorType; }
  Result<json> put(control::KindContext& ctx, const ResourceId& id, json desired,
                   const store::Document* existing) override {
    json props = desired.value("properties", json::object());
    std::string ref = props.value("widgetId", "");
    auto widgetId = ResourceId::parse(ref);
    bool found = false;
    if (widgetId.ok()) {
      ASSIGN_OR_RETURN(auto widget, ctx.txn.get(widgetId->key()));
      found = widget.has_value() && widget->type == "microsoft.test/widgets";
    }
    if (!found) {
      return Status::InvalidArgument("InvalidWidgetReference",
                                     "properties.widgetId '" + ref +
                                         "' does not name an existing widget.")
          .withTarget("properties.widgetId");
    }
    desired["properties"] = props;
    return desired;
  }
};

}  // namespace

void registerTestKinds(control::ResourceService& service) {
  service.registerKind(std::make_unique<WidgetKind>());
  service.registerKind(std::make_unique<PartKind>());
  service.registerKind(std::make_unique<AnchorKind>());
}

}  // namespace privlink::testing
