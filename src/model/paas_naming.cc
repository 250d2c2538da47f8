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

}  // namespace privlink::model
