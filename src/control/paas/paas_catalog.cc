#include "control/paas/paas_catalog.h"

#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/resource_id.h"

namespace privlink::control::paas {

namespace {

using Json = nlohmann::json;

// Keep equal to data/paas-catalog.json (tests/unit/paas/paas_catalog_test.cc checks it).
constexpr std::string_view kBuiltin = R"PAAS({
  "description": "privlink PaaS catalog: the platform resource types a private endpoint can target. An operator extends or overrides it with a file of the same shape (privlinkd reads PRIVLINK_PAAS_CATALOG); entries with the same type replace these.",
  "types": [
    {
      "type": "Microsoft.Sql/servers",
      "displayName": "Azure SQL server",
      "groupId": "sqlServer",
      "port": 1433,
      "privateDnsZone": "privatelink.database.windows.net",
      "publicDnsSuffix": "database.windows.net",
      "namePattern": "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$",
      "nameRule": "1 to 63 lower-case letters, digits and hyphens, not starting or ending with a hyphen"
    },
    {
      "type": "Microsoft.DBforPostgreSQL/flexibleServers",
      "displayName": "Azure Database for PostgreSQL flexible server",
      "groupId": "postgresqlServer",
      "port": 5432,
      "privateDnsZone": "privatelink.postgres.database.azure.com",
      "publicDnsSuffix": "postgres.database.azure.com",
      "namePattern": "^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$",
      "nameRule": "3 to 63 lower-case letters, digits and hyphens, not starting or ending with a hyphen"
    },
    {
      "type": "Microsoft.Storage/storageAccounts",
      "displayName": "Storage account (blob)",
      "groupId": "blob",
      "port": 443,
      "privateDnsZone": "privatelink.blob.core.windows.net",
      "publicDnsSuffix": "blob.core.windows.net",
      "namePattern": "^[a-z0-9]{3,24}$",
      "nameRule": "3 to 24 lower-case letters and digits"
    },
    {
      "type": "Microsoft.KeyVault/vaults",
      "displayName": "Key vault",
      "groupId": "vault",
      "port": 443,
      "privateDnsZone": "privatelink.vaultcore.azure.net",
      "publicDnsSuffix": "vault.azure.net",
      "namePattern": "^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$",
      "nameRule": "3 to 24 letters, digits and hyphens, starting with a letter, ending with a letter or digit, without consecutive hyphens"
    }
  ]
}
)PAAS";

Status invalid(std::string message) {
  return Status::InvalidArgument("InvalidPaasCatalog", std::move(message));
}

Result<std::string> field(const Json& entry, const char* key, const std::string& where,
                          bool required) {
  if (!entry.contains(key) || entry[key].is_null()) {
    if (required) return invalid(where + " has no \"" + key + "\" (a string).");
    return std::string();
  }
  if (!entry[key].is_string()) return invalid(where + "." + key + " must be a string.");
  return entry[key].get<std::string>();
}

}  // namespace

std::string PaasType::publicFqdn(std::string_view instanceName) const {
  return toLower(instanceName) + "." + publicDnsSuffix;
}
std::string PaasType::privateLinkFqdn(std::string_view instanceName) const {
  return toLower(instanceName) + "." + privateDnsZone;
}
std::string PaasType::approvalAction() const {
  return type + "/privateEndpointConnectionsApproval/action";
}

const PaasType* PaasCatalog::find(std::string_view type) const {
  for (const PaasType& t : types_) {
    if (iequals(t.type, type)) return &t;
  }
  return nullptr;
}

void PaasCatalog::merge(const PaasCatalog& other) {
  for (const PaasType& t : other.types_) {
    bool replaced = false;
    for (PaasType& mine : types_) {
      if (iequals(mine.type, t.type)) {
        mine = t;
        replaced = true;
      }
    }
    if (!replaced) types_.push_back(t);
  }
}

Result<PaasCatalog> parsePaasCatalog(std::string_view text) {
  Json doc;
  try {
    doc = Json::parse(text);
  } catch (const Json::parse_error& e) {
    return invalid(std::string("The PaaS catalog is not valid JSON: ") + e.what());
  }
  if (!doc.is_object() || !doc.contains("types") || !doc["types"].is_array()) {
    return invalid("The PaaS catalog must be an object with a \"types\" array.");
  }
  std::vector<PaasType> types;
  for (size_t i = 0; i < doc["types"].size(); ++i) {
    const Json& e = doc["types"][i];
    std::string where = "types[" + std::to_string(i) + "]";
    if (!e.is_object()) return invalid(where + " must be an object.");
    PaasType t;
    ASSIGN_OR_RETURN(t.type, field(e, "type", where, true));
    where += " (" + t.type + ")";
    ASSIGN_OR_RETURN(t.displayName, field(e, "displayName", where, false));
    if (t.displayName.empty()) t.displayName = t.type;
    ASSIGN_OR_RETURN(t.groupId, field(e, "groupId", where, true));
    ASSIGN_OR_RETURN(t.privateDnsZone, field(e, "privateDnsZone", where, true));
    ASSIGN_OR_RETURN(t.publicDnsSuffix, field(e, "publicDnsSuffix", where, true));
    ASSIGN_OR_RETURN(t.namePattern, field(e, "namePattern", where, false));
    ASSIGN_OR_RETURN(t.nameRule, field(e, "nameRule", where, false));
    size_t slash = t.type.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == t.type.size() ||
        t.type.find('/', slash + 1) != std::string::npos) {
      return invalid(where + ".type must be \"<Provider.Namespace>/<resourceType>\", e.g. "
                     "\"Microsoft.Sql/servers\".");
    }
    if (!e.contains("port") || !e["port"].is_number_integer() || e["port"].get<int>() < 1 ||
        e["port"].get<int>() > 65535) {
      return invalid(where + ".port must be a TCP port number (1-65535).");
    }
    t.port = e["port"].get<int>();
    if (!istartsWith(t.privateDnsZone, "privatelink.")) {
      return invalid(where + ".privateDnsZone must be a privatelink.* zone, e.g. "
                     "\"privatelink.database.windows.net\".");
    }
    if (!t.namePattern.empty()) {
      try {
        std::regex check(t.namePattern, std::regex::ECMAScript);
        (void)check;
      } catch (const std::regex_error& err) {
        return invalid(where + ".namePattern is not a valid regular expression: " + err.what());
      }
    }
    for (const PaasType& seen : types) {
      if (iequals(seen.type, t.type)) return invalid(where + " repeats type " + t.type + ".");
    }
    types.push_back(std::move(t));
  }
  return PaasCatalog(std::move(types));
}

Result<PaasCatalog> loadPaasCatalogFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return invalid("Cannot read the PaaS catalog file '" + path + "'.");
  std::stringstream buffer;
  buffer << in.rdbuf();
  auto parsed = parsePaasCatalog(buffer.str());
  if (!parsed.ok()) return invalid(path + ": " + parsed.status().message());
  return parsed;
}

std::string_view builtinPaasCatalogJson() { return kBuiltin; }

const PaasCatalog& builtinPaasCatalog() {
  static const PaasCatalog kCatalog = parsePaasCatalog(kBuiltin).value();
  return kCatalog;
}

Result<PaasCatalog> paasCatalog(const std::optional<std::string>& path) {
  PaasCatalog catalog = builtinPaasCatalog();
  if (path && !path->empty()) {
    ASSIGN_OR_RETURN(PaasCatalog extra, loadPaasCatalogFile(*path));
    catalog.merge(extra);
  }
  return catalog;
}

Result<PaasCatalog> paasCatalogFromEnvironment() {
  const char* path = std::getenv("PRIVLINK_PAAS_CATALOG");
  if (path && *path) return paasCatalog(std::string(path));
  return paasCatalog(std::nullopt);
}

}  // namespace privlink::control::paas
