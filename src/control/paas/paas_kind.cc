// Generic PaaS instance kind, parameterised by a catalog entry (paas_kind.h).

#include "control/paas/paas_kind.h"

#include <regex>

#include "common/ip.h"
#include "control/network/network_common.h"
#include "model/paas_naming.h"

namespace privlink::control::paas {
namespace {

using Json = nlohmann::json;
using net::badRequest;

Result<Json> loadAddresses(store::ReadView& view) {
  ASSIGN_OR_RETURN(auto doc, view.get(kPaasAddressesKey));
  Json body = doc ? doc->body : Json::object();
  if (!body.contains("publicIps") || !body["publicIps"].is_object()) {
    body["publicIps"] = Json::object();
  }
  if (!body.contains("backendSlots") || !body["backendSlots"].is_object()) {
    body["backendSlots"] = Json::object();
  }
  return body;
}

Status saveAddresses(store::Transaction& txn, Json body) {
  ASSIGN_OR_RETURN(auto doc, txn.put(kPaasAddressesKey, kPaasAddressesType, std::move(body)));
  (void)doc;
  return Status::Ok();
}

class PaasKind : public ResourceKind {
 public:
  explicit PaasKind(PaasType type) : type_(std::move(type)) {
    if (!type_.namePattern.empty()) pattern_ = std::regex(type_.namePattern, std::regex::ECMAScript);
  }

  std::string_view type() const override { return type_.type; }

  Status validateName(std::string_view name) const override {
    if (type_.namePattern.empty()) return validateResourceName(name);
    if (std::regex_match(name.begin(), name.end(), pattern_)) return Status::Ok();
    return Status::InvalidArgument("InvalidResourceName",
                                   "'" + std::string(name) + "' is not a valid " +
                                       type_.displayName + " name. Use " +
                                       (type_.nameRule.empty() ? "a name matching " + type_.namePattern
                                                               : type_.nameRule) +
                                       ".")
        .withTarget("name");
  }

  Result<Json> put(KindContext& ctx, const ResourceId& id, Json desired,
                   const store::Document* existing) override {
    try {
      return putImpl(ctx, id, desired, existing);
    } catch (const Json::exception& e) {
      return badRequest("InvalidRequestFormat",
                        "Cannot parse the " + type_.displayName + ": " + e.what());
    }
  }

  Status remove(KindContext& ctx, const ResourceId& id, const store::Document& existing) override {
    ASSIGN_OR_RETURN(Json addresses, loadAddresses(ctx.txn));
    for (const char* table : {"publicIps", "backendSlots"}) {
      Json kept = Json::object();
      for (const auto& [k, owner] : addresses[table].items()) {
        if (!(owner.is_string() && owner.get<std::string>() == existing.key)) kept[k] = owner;
      }
      addresses[table] = kept;
    }
    return saveAddresses(ctx.txn, std::move(addresses));
  }

  void render(store::ReadView& view, const ResourceId& id, Json& body) const override {
    Json& p = body["properties"];
    p["fullyQualifiedDomainName"] = type_.publicFqdn(id.name());
    Json connections = Json::array();
    auto docs = view.listType(toLower(type_.type + "/privateEndpointConnections"), id.key() + "/");
    if (docs.ok()) {
      for (const auto& d : *docs) {
        Json c = d.body;
        c["id"] = d.id;
        auto cid = ResourceId::parse(d.id);
        if (cid.ok()) c["name"] = cid->name();
        c["type"] = type_.type + "/privateEndpointConnections";
        connections.push_back(std::move(c));
      }
    }
    p["privateEndpointConnections"] = connections;
  }

 private:
  Result<Json> putImpl(KindContext& ctx, const ResourceId& id, const Json& desired,
                       const store::Document* existing) {
    // Names are global per type (the public FQDN is).
    ASSIGN_OR_RETURN(auto all, ctx.txn.listType(toLower(type_.type)));
    for (const auto& d : all) {
      if (d.key == id.key()) continue;
      auto other = ResourceId::parse(d.id);
      if (other.ok() && iequals(other->name(), id.name())) {
        return Status::Conflict("NameNotAvailable",
                                "The " + type_.displayName + " name '" + id.name() +
                                    "' is already in use (its public name " +
                                    type_.publicFqdn(id.name()) +
                                    " must be unique). Choose another name.")
            .withTarget("name");
      }
    }
    const Json empty = Json::object();
    const Json& in = desired.contains("properties") && desired["properties"].is_object()
                         ? desired["properties"]
                         : empty;
    const Json& before = existing ? net::propertiesOf(existing->body) : empty;
    std::string fallback = before.value("publicNetworkAccess", "Enabled");
    ASSIGN_OR_RETURN(std::string access,
                     net::enumValue(in, "publicNetworkAccess", "properties.publicNetworkAccess",
                                    {"Enabled", "Disabled"}, fallback));

    Json paas;
    if (existing && before.contains("privlink") && before["privlink"].is_object() &&
        before["privlink"].contains("paas")) {
      paas = before["privlink"]["paas"];
    } else {
      ASSIGN_OR_RETURN(paas, allocate(ctx, id));
    }
    paas["catalogType"] = type_.type;
    paas["groupId"] = type_.groupId;
    paas["port"] = type_.port;
    paas["publicFqdn"] = type_.publicFqdn(id.name());
    paas["privateLinkFqdn"] = type_.privateLinkFqdn(id.name());
    paas["privateDnsZone"] = type_.privateDnsZone;
    paas["publicNetworkAccess"] = access;

    Json props = in;
    for (const char* ro : {"fullyQualifiedDomainName", "privateEndpointConnections", "privlink",
                           "provisioningState"}) {
      props.erase(ro);
    }
    props["publicNetworkAccess"] = access;
    props["privlink"] = {{"paas", paas}};
    Json out = {{"properties", props}};
    for (const char* top : {"sku", "kind"}) {
      if (desired.contains(top) && !desired[top].is_null()) out[top] = desired[top];
    }
    return out;
  }

  Result<Json> allocate(KindContext& ctx, const ResourceId& id) {
    ASSIGN_OR_RETURN(Json addresses, loadAddresses(ctx.txn));
    auto range = IpPrefix::parse(ctx.config.publicIpRange);
    if (!range.ok()) {
      return Status::Internal("ControlConfig.publicIpRange '" + ctx.config.publicIpRange +
                              "' is not a prefix: " + range.status().message());
    }
    std::string publicIp;
    uint64_t size = range->size();
    for (uint64_t i = 2; i + 1 < size && i < (uint64_t{1} << 24); ++i) {
      std::string candidate = range->at(i).toString();
      if (!addresses["publicIps"].contains(candidate)) {
        publicIp = candidate;
        break;
      }
    }
    if (publicIp.empty()) {
      return Status::Conflict("PublicIpAddressesExhausted",
                              "Every address of the public range " + ctx.config.publicIpRange +
                                  " is in use by PaaS instances. Delete an instance or configure "
                                  "a larger public range.");
    }
    int64_t slot = -1;
    for (uint32_t n = 0; n < model::kPaasBackendSlots; ++n) {
      if (!addresses["backendSlots"].contains(std::to_string(n))) {
        slot = n;
        break;
      }
    }
    if (slot < 0) {
      return Status::Conflict("PaasBackendSlotsExhausted",
                              "Every backend address of the platform network is in use.");
    }
    addresses["publicIps"][publicIp] = id.key();
    addresses["backendSlots"][std::to_string(slot)] = id.key();
    RETURN_IF_ERROR(saveAddresses(ctx.txn, std::move(addresses)));
    return Json{{"publicIpAddress", publicIp},
                {"backend",
                 {{"slot", slot},
                  {"address", model::paasBackendAddress(static_cast<uint32_t>(slot)).toString()},
                  {"gateway", model::paasPlatformGateway().toString()},
                  {"namespace", model::paasBackendNamespace(id.key())}}}};
  }

  PaasType type_;
  std::regex pattern_;
};

}  // namespace

std::unique_ptr<ResourceKind> makePaasKind(PaasType type) {
  return std::make_unique<PaasKind>(std::move(type));
}

privatelink::PrivateLinkTargetType paasTargetType(const PaasType& type) {
  privatelink::PrivateLinkTargetType t;
  t.type = type.type;
  t.displayName = type.type;
  t.groups = {{type.groupId, {type.groupId}, {type.privateDnsZone}}};
  PaasType copy = type;
  t.read = [copy](store::ReadView&, const store::Document& doc)
      -> Result<privatelink::PrivateLinkTarget> {
    privatelink::PrivateLinkTarget target;
    ASSIGN_OR_RETURN(target.id, ResourceId::parse(doc.id));
    target.location = doc.body.is_object() ? doc.body.value("location", "") : "";
    target.fqdns = {copy.publicFqdn(target.id.name())};
    return target;
  };
  return t;
}

void registerPaasKinds(ResourceService& service,
                       const std::shared_ptr<privatelink::PrivateLinkContext>& privateLink,
                       const PaasCatalog& catalog) {
  for (const PaasType& type : catalog.types()) {
    service.registerKind(makePaasKind(type));
    privateLink->registry.add(paasTargetType(type));
    service.registerKind(privatelink::makePrivateEndpointConnectionKind(privateLink, type.type));
  }
}

}  // namespace privlink::control::paas
