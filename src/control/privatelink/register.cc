#include "control/privatelink/register.h"

#include "model/resource_types.h"

namespace privlink::control::privatelink {

std::shared_ptr<PrivateLinkContext> registerPrivateLinkKinds(ResourceService& service,
                                                             PrivateLinkLimits limits) {
  auto pl = std::make_shared<PrivateLinkContext>(service, limits);
  pl->registry.add(privateLinkServiceTargetType());
  service.registerKind(makePrivateLinkServiceKind(pl));
  service.registerKind(makePrivateEndpointConnectionKind(pl, std::string(model::kPrivateLinkService)));
  service.registerKind(makePrivateEndpointKind(pl));
  return pl;
}

}  // namespace privlink::control::privatelink
