#pragma once
// Who is making a request, as established by the API's authentication.

#include <string>

namespace privlink::control {

struct Caller {
  std::string principalId;    // object id (GUID) of the service principal or user
  std::string tenantId;
  std::string displayName;    // appId or user principal name, for error messages and audit
  bool isAdmin = false;       // the bootstrap admin principal
};

}  // namespace privlink::control
