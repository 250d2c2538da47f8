#pragma once
// The PaaS catalog: the platform resource types privlink hosts as private-link targets
// (DESIGN.md §1, PaaS row; reference §1.6). Data-driven: the built-in catalog is the content of
// data/paas-catalog.json (compiled in, a unit test keeps the two equal); an operator extends or
// overrides it with a file of the same shape, whose entries replace built-in ones of the same
// type (compared case-insensitively) and add new ones.
//
//   {"types": [{"type": "Microsoft.Sql/servers", "displayName": "...", "groupId": "sqlServer",
//               "port": 1433, "privateDnsZone": "privatelink.database.windows.net",
//               "publicDnsSuffix": "database.windows.net",
//               "namePattern": "<ECMAScript regex for instance names>",   (optional)
//               "nameRule": "<the rule in words, for error messages>"}]}  (optional)
//
// Errors: InvalidPaasCatalog (400-class InvalidArgument) naming the entry and field at fault.
// Immutable after loading; thread-safe to read.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace privlink::control::paas {

struct PaasType {
  std::string type;             // "Microsoft.Sql/servers"
  std::string displayName;
  std::string groupId;          // "sqlServer"
  int port = 0;                 // the backend server's port
  std::string privateDnsZone;   // "privatelink.database.windows.net"
  std::string publicDnsSuffix;  // "database.windows.net"
  std::string namePattern;      // empty: Microsoft.Network's naming rule
  std::string nameRule;

  // "<name>.<publicDnsSuffix>"
  std::string publicFqdn(std::string_view instanceName) const;
  // "<name>.<privateDnsZone>"
  std::string privateLinkFqdn(std::string_view instanceName) const;
  // "<type>/privateEndpointConnectionsApproval/action"
  std::string approvalAction() const;
};

class PaasCatalog {
 public:
  PaasCatalog() = default;
  explicit PaasCatalog(std::vector<PaasType> types) : types_(std::move(types)) {}
  const std::vector<PaasType>& types() const { return types_; }
  const PaasType* find(std::string_view type) const;  // case-insensitive
  // Entries of `other` replace same-type entries here; new types are appended.
  void merge(const PaasCatalog& other);

 private:
  std::vector<PaasType> types_;
};

// Parses catalog JSON text.
Result<PaasCatalog> parsePaasCatalog(std::string_view text);
// Reads and parses a catalog file; InvalidPaasCatalog when unreadable.
Result<PaasCatalog> loadPaasCatalogFile(const std::string& path);
// The built-in catalog (data/paas-catalog.json).
const PaasCatalog& builtinPaasCatalog();
std::string_view builtinPaasCatalogJson();
// The built-in catalog merged with the operator's file, if `path` is set.
Result<PaasCatalog> paasCatalog(const std::optional<std::string>& path);
// The built-in catalog merged with the file named by the environment variable
// PRIVLINK_PAAS_CATALOG (when set and non-empty).
Result<PaasCatalog> paasCatalogFromEnvironment();

}  // namespace privlink::control::paas
