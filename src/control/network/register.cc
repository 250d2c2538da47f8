#include "control/network/register.h"

namespace privlink::control {

void registerNetworkKinds(ResourceService& service) {
  // Kinds are added here as they are written (control/network/*_kind.cc).
}

}  // namespace privlink::control
