// Record sets of a private DNS zone: Microsoft.Network/privateDnsZones/{A,AAAA,CNAME,MX,PTR,
// SOA,SRV,TXT} at {zone}/{type}/{relativeName}.

#include <map>

#include "common/ip.h"
#include "control/network/network_common.h"
#include "control/privatedns/private_dns_internal.h"
#include "model/private_dns_view.h"

namespace privlink::control::privatedns {
namespace {

using net::badRequest;

// The record property of each type.
const std::map<std::string, std::string>& recordProperty() {
  static const std::map<std::string, std::string> kProps = {
      {"A", "aRecords"},     {"AAAA", "aaaaRecords"}, {"CNAME", "cnameRecord"},
      {"MX", "mxRecords"},   {"PTR", "ptrRecords"},   {"SOA", "soaRecord"},
      {"SRV", "srvRecords"}, {"TXT", "txtRecords"}};
  return kProps;
}

Result<int64_t> boundedInt(const Json& obj, const char* key, const std::string& target,
                           int64_t min, int64_t max, std::optional<int64_t> fallback) {
  ASSIGN_OR_RETURN(auto v, net::optInt(obj, key, target));
  if (!v) {
    if (fallback) return *fallback;
    return badRequest("InvalidRecordSet", target + " is required.", target);
  }
  if (*v < min || *v > max) {
    return badRequest("InvalidRecordSet",
                      target + " must be between " + std::to_string(min) + " and " +
                          std::to_string(max) + "; got " + std::to_string(*v) + ".",
                      target);
  }
  return *v;
}

Result<std::string> requiredString(const Json& obj, const char* key, const std::string& target) {
  ASSIGN_OR_RETURN(auto v, net::optString(obj, key, target));
  if (!v || v->empty()) return badRequest("InvalidRecordSet", target + " is required.", target);
  return *v;
}

class RecordSetKind : public ResourceKind {
 public:
  RecordSetKind(std::string recordType, PrivateDnsLimits limits)
      : recordType_(std::move(recordType)), type_(recordSetType(recordType_)), limits_(limits) {}

  std::string_view type() const override { return type_; }
  bool tracked() const override { return false; }
  Status validateName(std::string_view name) const override {
    return validateRecordSetName(name);
  }

  Result<Json> put(KindContext& ctx, const ResourceId& id, Json desired,
                   const store::Document* existing) override {
    try {
      return putImpl(ctx, id, desired, existing);
    } catch (const Json::exception& e) {
      return badRequest("InvalidRequestFormat",
                        std::string("Cannot parse the record set: ") + e.what());
    }
  }

  Status remove(KindContext& ctx, const ResourceId& id, const store::Document&) override {
    if (recordType_ != "SOA") return Status::Ok();
    ASSIGN_OR_RETURN(auto zone, ctx.txn.get(id.parent()->key()));
    if (!zone) return Status::Ok();
    return net::inUse("SoaRecordSetCannotBeDeleted",
                      "The SOA record set of private DNS zone '" + id.parent()->name() +
                          "' is part of the zone and cannot be deleted on its own; it is "
                          "deleted with the zone. You may update its TTL and SOA fields.");
  }

  void render(store::ReadView&, const ResourceId& id, Json& body) const override {
    std::string name = toLower(id.name());
    std::string idText = body.value("id", id.toString());
    size_t slash = idText.rfind('/');
    if (slash != std::string::npos) idText = idText.substr(0, slash + 1) + name;
    // The type segment in its canonical spelling ("/A/", as Azure returns it).
    size_t typeSlash = idText.rfind('/', slash == std::string::npos ? 0 : slash - 1);
    if (slash != std::string::npos && typeSlash != std::string::npos) {
      idText = idText.substr(0, typeSlash + 1) + recordType_ + "/" + name;
    }
    body["id"] = idText;
    body["name"] = name;
    Json& p = body["properties"];
    p["fqdn"] = recordFqdn(name, id.parent()->name());
    p["isAutoRegistered"] = false;
    if (!p.contains("metadata") || !p["metadata"].is_object()) p["metadata"] = Json::object();
  }

 private:
  Result<Json> putImpl(KindContext& ctx, const ResourceId& id, const Json& desired,
                       const store::Document* existing) {
    const Json empty = Json::object();
    const Json& in = desired.contains("properties") && desired["properties"].is_object()
                         ? desired["properties"]
                         : empty;
    std::string name = toLower(id.name());
    ResourceId zone = *id.parent();
    if (recordType_ == "SOA") {
      if (name != "@") {
        return badRequest("InvalidRecordSetName",
                          "An SOA record set exists only at the zone apex; use the name '@'.",
                          "name");
      }
      if (!existing) {
        return badRequest("SoaRecordSetCannotBeCreated",
                          "The SOA record set is created with the zone. Update "
                          "'SOA/@' instead of creating one.");
      }
    }
    if (recordType_ == "CNAME" && name == "@") {
      return badRequest("InvalidRecordSetName",
                        "A CNAME record set cannot be created at the zone apex '@'; use a name "
                        "below the apex.",
                        "name");
    }
    // CNAME stands alone at its name.
    for (const std::string& other : model::privateDnsRecordTypes()) {
      if (other == recordType_ || (recordType_ != "CNAME" && other != "CNAME")) continue;
      ASSIGN_OR_RETURN(auto clash, ctx.txn.get(zone.child(other, name).key()));
      if (clash) {
        return net::inUse("RecordSetConflictsWithCname",
                          "The name '" + name + "' in zone '" + zone.name() + "' already has " +
                              (other == "CNAME" ? std::string("a CNAME record set")
                                                : "a " + other + " record set") +
                              "; a CNAME record set cannot share its name with any other record "
                              "set. Delete one of them or choose another name.",
                          "name");
      }
    }
    if (!existing) {
      ASSIGN_OR_RETURN(auto all, zoneRecordSets(ctx.txn, zone));
      if (all.size() >= limits_.recordSetsPerZone) {
        return Status::LimitExceeded("RecordSetsLimitReached",
                                     "Private DNS zone '" + zone.name() + "' already has " +
                                         std::to_string(all.size()) +
                                         " record sets, the maximum.");
      }
    }

    Json out = Json::object();
    ASSIGN_OR_RETURN(int64_t ttl, boundedInt(in, "ttl", "properties.ttl", 0, 2147483647,
                                             existing ? std::optional<int64_t>(net::propertiesOf(
                                                            existing->body).value("ttl", 3600))
                                                      : std::optional<int64_t>(3600)));
    out["ttl"] = ttl;
    ASSIGN_OR_RETURN(const Json* metadata, net::optObject(in, "metadata", "properties.metadata"));
    Json meta = Json::object();
    if (metadata) {
      for (const auto& [k, v] : metadata->items()) {
        if (!v.is_string()) {
          return badRequest("InvalidRecordSet",
                            "metadata values must be strings; '" + k + "' is not.",
                            "properties.metadata." + k);
        }
        meta[k] = v;
      }
    }
    out["metadata"] = meta;

    // Only this type's records.
    for (const auto& [type, prop] : recordProperty()) {
      if (type == recordType_ || !in.contains(prop) || in[prop].is_null()) continue;
      bool emptyValue = (in[prop].is_array() || in[prop].is_object()) && in[prop].empty();
      if (!emptyValue) {
        return badRequest("InvalidRecordSet",
                          "A " + recordType_ + " record set cannot hold " + prop + "; use the " +
                              type + " record set '" + name + "' for those records.",
                          "properties." + prop);
      }
    }
    const std::string& prop = recordProperty().at(recordType_);
    const std::string target = "properties." + prop;
    if (recordType_ == "CNAME") {
      ASSIGN_OR_RETURN(const Json* c, net::optObject(in, "cnameRecord", target));
      if (c) {
        ASSIGN_OR_RETURN(std::string cname, requiredString(*c, "cname", target + ".cname"));
        out["cnameRecord"] = {{"cname", cname}};
      }
    } else if (recordType_ == "SOA") {
      const Json& existingProps = net::propertiesOf(existing->body);
      const Json before = existingProps.contains("soaRecord") && existingProps["soaRecord"].is_object()
                              ? existingProps["soaRecord"]
                              : Json::object();
      ASSIGN_OR_RETURN(const Json* s, net::optObject(in, "soaRecord", target));
      Json soa = before;
      soa["host"] = before.value("host", std::string(kSoaHost));  // read-only
      if (s) {
        ASSIGN_OR_RETURN(auto email, net::optString(*s, "email", target + ".email"));
        if (email && !email->empty()) soa["email"] = *email;
        for (const char* f : {"serialNumber", "refreshTime", "retryTime", "expireTime",
                              "minimumTtl"}) {
          ASSIGN_OR_RETURN(int64_t v, boundedInt(*s, f, target + "." + f, 0, 4294967295LL,
                                                 before.value(f, int64_t{0})));
          soa[f] = v;
        }
      }
      out["soaRecord"] = soa;
    } else {
      ASSIGN_OR_RETURN(const Json* list, net::optArray(in, prop, target));
      Json records = Json::array();
      if (list) {
        if (list->size() > limits_.recordsPerRecordSet) {
          return Status::LimitExceeded("RecordsPerRecordSetLimitReached",
                                       "A record set can hold at most " +
                                           std::to_string(limits_.recordsPerRecordSet) +
                                           " records; " + std::to_string(list->size()) +
                                           " were given.")
              .withTarget(target);
        }
        for (size_t i = 0; i < list->size(); ++i) {
          ASSIGN_OR_RETURN(Json r, parseRecord((*list)[i], target + "[" + std::to_string(i) + "]"));
          bool dup = false;
          for (const auto& have : records) dup = dup || have == r;
          if (!dup) records.push_back(std::move(r));
        }
      }
      out[prop] = records;
      if (recordType_ == "A" && existing) {
        // Keep the endpoint attributions of addresses that stay (docs/private-dns.md).
        const Json& before = net::propertiesOf(existing->body);
        if (before.contains("privlink") && before["privlink"].is_object() &&
            before["privlink"].contains("addresses") && before["privlink"]["addresses"].is_array()) {
          Json kept = Json::array();
          for (const auto& a : before["privlink"]["addresses"]) {
            for (const auto& r : records) {
              if (r.value("ipv4Address", "") == a.value("ipv4Address", "")) {
                kept.push_back(a);
                break;
              }
            }
          }
          if (!kept.empty()) out["privlink"] = {{"addresses", kept}};
        }
      }
    }
    return Json{{"properties", out}};
  }

  Result<Json> parseRecord(const Json& r, const std::string& target) const {
    if (!r.is_object()) return badRequest("InvalidRecordSet", target + " must be an object.", target);
    if (recordType_ == "A" || recordType_ == "AAAA") {
      const char* field = recordType_ == "A" ? "ipv4Address" : "ipv6Address";
      ASSIGN_OR_RETURN(std::string text, requiredString(r, field, target + "." + field));
      auto ip = IpAddress::parse(text);
      if (!ip || ip->isV4() != (recordType_ == "A")) {
        return badRequest("InvalidRecordSet",
                          "'" + text + "' is not a valid " +
                              (recordType_ == "A" ? "IPv4" : "IPv6") + " address.",
                          target + "." + field);
      }
      return Json{{field, ip->toString()}};
    }
    if (recordType_ == "MX") {
      ASSIGN_OR_RETURN(int64_t pref, boundedInt(r, "preference", target + ".preference", 0,
                                                65535, std::nullopt));
      ASSIGN_OR_RETURN(std::string exchange, requiredString(r, "exchange", target + ".exchange"));
      return Json{{"preference", pref}, {"exchange", exchange}};
    }
    if (recordType_ == "PTR") {
      ASSIGN_OR_RETURN(std::string ptr, requiredString(r, "ptrdname", target + ".ptrdname"));
      return Json{{"ptrdname", ptr}};
    }
    if (recordType_ == "SRV") {
      Json out;
      for (const char* f : {"priority", "weight", "port"}) {
        ASSIGN_OR_RETURN(int64_t v, boundedInt(r, f, target + "." + f, 0, 65535, std::nullopt));
        out[f] = v;
      }
      ASSIGN_OR_RETURN(std::string t, requiredString(r, "target", target + ".target"));
      out["target"] = t;
      return out;
    }
    // TXT
    ASSIGN_OR_RETURN(const Json* values, net::optArray(r, "value", target + ".value"));
    if (!values || values->empty()) {
      return badRequest("InvalidRecordSet", target + ".value must list at least one string.",
                        target + ".value");
    }
    Json out = Json::array();
    for (const auto& v : *values) {
      if (!v.is_string() || v.get<std::string>().size() > 1024) {
        return badRequest("InvalidRecordSet",
                          target + ".value must hold strings of at most 1024 characters.",
                          target + ".value");
      }
      out.push_back(v);
    }
    return Json{{"value", out}};
  }

  std::string recordType_;
  std::string type_;
  PrivateDnsLimits limits_;
};

}  // namespace

std::unique_ptr<ResourceKind> makeRecordSetKind(std::string recordType, PrivateDnsLimits limits) {
  return std::make_unique<RecordSetKind>(std::move(recordType), limits);
}

}  // namespace privlink::control::privatedns
