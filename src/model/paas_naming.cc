#include "model/paas_naming.h"

#include "common/resource_id.h"
#include "model/naming.h"

namespace privlink::model {

namespace {
IpPrefix platformPrefix() { return IpPrefix::parse(kPaasPlatformPrefix).value(); }
}  // namespace

std::string paasBackendNamespace(std::string_view instanceKey, std::string_view prefix) {
  return std::string(prefix) + "p-" + shortHash(toLower(instanceKey));
}

IpAddress paasBackendAddress(uint32_t slot) { return platformPrefix().at(4 + uint64_t{slot}); }

IpAddress paasPlatformGateway() { return platformPrefix().at(1); }

IpAddress paasPlatformNatAddress() { return platformPrefix().at(2); }

IpAddress paasPlatformTransitAddress(const IpPrefix& transitRange) { return transitRange.at(3); }

std::string paasBackendLinkName(std::string_view instanceKey) {
  return "b-" + shortHash(toLower(instanceKey));
}

bool isPaasInstanceBody(const nlohmann::json& body) {
  if (!body.is_object()) return false;
  auto props = body.find("properties");
  if (props == body.end() || !props->is_object()) return false;
  auto privlink = props->find("privlink");
  return privlink != props->end() && privlink->is_object() && privlink->contains("paas");
}

namespace {

Result<PaasInstance> parsePaasInstanceImpl(std::string_view key, std::string_view id,
                                           const nlohmann::json& body) {
  auto bad = [&](const std::string& what) {
    return Status::InvalidArgument("InvalidResourceDocument",
                                   "stored PaaS instance " + std::string(key) +
                                       ": properties.privlink.paas." + what);
  };
  if (!isPaasInstanceBody(body)) {
    return Status::InvalidArgument("InvalidResourceDocument",
                                   "stored PaaS instance " + std::string(key) +
                                       ": properties.privlink.paas is missing");
  }
  const nlohmann::json& paas = body["properties"]["privlink"]["paas"];
  if (!paas.is_object()) return bad("must be an object");
  PaasInstance out;
  out.key = toLower(key);
  out.id = std::string(id);
  out.type = paas.value("catalogType", std::string());
  const nlohmann::json port = paas.value("port", nlohmann::json());
  if (!port.is_number_integer() || port.get<int64_t>() < 1 || port.get<int64_t>() > 65535) {
    return bad("port must be an integer from 1 to 65535");
  }
  out.port = port.get<int>();
  auto publicIp = IpAddress::parse(paas.value("publicIpAddress", std::string()));
  if (!publicIp || !publicIp->isV4()) return bad("publicIpAddress must be an IPv4 address");
  out.publicAddress = *publicIp;
  const std::string access = paas.value("publicNetworkAccess", std::string("Enabled"));
  if (access != "Enabled" && access != "Disabled") {
    return bad("publicNetworkAccess must be Enabled or Disabled, not '" + access + "'");
  }
  out.publicNetworkAccess = access == "Enabled";
  const nlohmann::json backend = paas.value("backend", nlohmann::json());
  if (!backend.is_object()) return bad("backend must be an object");
  const nlohmann::json slot = backend.value("slot", nlohmann::json());
  if (!slot.is_number_integer() || slot.get<int64_t>() < 0 ||
      slot.get<int64_t>() >= int64_t{kPaasBackendSlots}) {
    return bad("backend.slot must be an integer from 0 to " +
               std::to_string(kPaasBackendSlots - 1));
  }
  out.backendSlot = static_cast<uint32_t>(slot.get<int64_t>());
  out.backendAddress = paasBackendAddress(out.backendSlot);
  if (backend.contains("address")) {
    auto address = IpAddress::parse(backend.value("address", std::string()));
    if (!address || *address != out.backendAddress) {
      return bad("backend.address must be " + out.backendAddress.toString() + " (slot " +
                 std::to_string(out.backendSlot) + ")");
    }
  }
  return out;
}

}  // namespace

Result<PaasInstance> parsePaasInstance(std::string_view key, std::string_view id,
                                       const nlohmann::json& body) {
  try {
    return parsePaasInstanceImpl(key, id, body);
  } catch (const std::exception& e) {  // nlohmann::json type errors on hostile input
    return Status::InvalidArgument("InvalidResourceDocument",
                                   "stored PaaS instance " + std::string(key) + ": " + e.what());
  }
}

}  // namespace privlink::model
