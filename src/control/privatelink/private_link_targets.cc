#include "control/privatelink/private_link_targets.h"

namespace privlink::control::privatelink {

std::string PrivateLinkTargetType::approvalAction() const {
  return type + "/privateEndpointConnectionsApproval/action";
}

std::string PrivateLinkTargetType::connectionType() const {
  return type + "/privateEndpointConnections";
}

void PrivateLinkTargetRegistry::add(PrivateLinkTargetType type) {
  for (PrivateLinkTargetType& existing : types_) {
    if (iequals(existing.type, type.type)) {
      existing = std::move(type);
      return;
    }
  }
  types_.push_back(std::move(type));
}

const PrivateLinkTargetType* PrivateLinkTargetRegistry::find(std::string_view type) const {
  for (const PrivateLinkTargetType& t : types_) {
    if (iequals(t.type, type)) return &t;
  }
  return nullptr;
}

}  // namespace privlink::control::privatelink
