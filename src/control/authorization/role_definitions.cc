#include "control/authorization/role_definitions.h"

#include "common/guid.h"
#include "common/resource_id.h"

namespace privlink::control::authorization {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Glob match with '*' only, case-insensitive; iterative with one backtrack point (linear enough
// for action strings, no recursion on untrusted input).
bool globMatch(std::string_view pattern, std::string_view text) {
  size_t p = 0;
  size_t t = 0;
  size_t starP = std::string_view::npos;
  size_t starT = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      starP = p++;
      starT = t;
    } else if (p < pattern.size() && lower(pattern[p]) == lower(text[t])) {
      ++p;
      ++t;
    } else if (starP != std::string_view::npos) {
      p = starP + 1;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::vector<RoleDefinition> makeBuiltIns() {
  // Copied from Azure's built-in role definitions (learn.microsoft.com, "Azure built-in roles").
  const std::vector<std::string> kAuthorizationRead = {"Microsoft.Authorization/*/read"};
  std::vector<RoleDefinition> roles;
  roles.push_back(RoleDefinition{
      std::string(kOwnerRoleId), "Owner",
      "Grants full access to manage all resources, including the ability to assign roles in "
      "Azure RBAC.",
      {"*"},
      {}});
  roles.push_back(RoleDefinition{
      std::string(kContributorRoleId), "Contributor",
      "Grants full access to manage all resources, but does not allow you to assign roles in "
      "Azure RBAC, manage assignments in Azure Blueprints, or share image galleries.",
      {"*"},
      {"Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write",
       "Microsoft.Authorization/elevateAccess/Action", "Microsoft.Blueprint/blueprintAssignments/write",
       "Microsoft.Blueprint/blueprintAssignments/delete", "Microsoft.Compute/galleries/share/action",
       "Microsoft.Purview/consents/write", "Microsoft.Purview/consents/delete",
       "Microsoft.Resources/deploymentStacks/manageDenySetting/action",
       "Microsoft.Subscription/cancel/action", "Microsoft.Subscription/enable/action"}});
  roles.push_back(RoleDefinition{std::string(kReaderRoleId), "Reader",
                                 "View all resources, but does not allow you to make any changes.",
                                 {"*/read"},
                                 {}});
  roles.push_back(RoleDefinition{
      std::string(kNetworkContributorRoleId), "Network Contributor",
      "Lets you manage networks, but not access to them.",
      {"Microsoft.Authorization/*/read", "Microsoft.Insights/alertRules/*", "Microsoft.Network/*",
       "Microsoft.ResourceHealth/availabilityStatuses/read", "Microsoft.Resources/deployments/*",
       "Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.Support/*"},
      {}});
  roles.push_back(RoleDefinition{
      std::string(kPrivateDnsZoneContributorRoleId), "Private DNS Zone Contributor",
      "Lets you manage private DNS zone resources, but not the virtual networks they are linked "
      "to.",
      {"Microsoft.Authorization/*/read", "Microsoft.Insights/alertRules/*",
       "Microsoft.Resources/deployments/*", "Microsoft.Resources/subscriptions/resourceGroups/read",
       "Microsoft.Support/*", "Microsoft.Network/privateDnsZones/*",
       "Microsoft.Network/privateDnsOperationResults/*",
       "Microsoft.Network/privateDnsOperationStatuses/*", "Microsoft.Network/virtualNetworks/read",
       "Microsoft.Network/virtualNetworks/join/action"},
      {}});
  return roles;
}

}  // namespace

bool actionMatches(std::string_view pattern, std::string_view action) {
  return globMatch(pattern, action);
}

bool RoleDefinition::permits(std::string_view action) const {
  bool granted = false;
  for (const auto& pattern : actions) {
    if (actionMatches(pattern, action)) {
      granted = true;
      break;
    }
  }
  if (!granted) return false;
  for (const auto& pattern : notActions) {
    if (actionMatches(pattern, action)) return false;
  }
  return true;
}

const std::vector<RoleDefinition>& builtInRoles() {
  static const std::vector<RoleDefinition> kRoles = makeBuiltIns();
  return kRoles;
}

const RoleDefinition* findRoleById(std::string_view guid) {
  for (const auto& role : builtInRoles()) {
    if (iequals(role.id, guid)) return &role;
  }
  return nullptr;
}

const RoleDefinition* findRoleByName(std::string_view roleName) {
  for (const auto& role : builtInRoles()) {
    if (iequals(role.name, roleName)) return &role;
  }
  return nullptr;
}

std::optional<std::string> roleGuidOf(std::string_view roleDefinitionId) {
  std::string_view text = roleDefinitionId;
  while (!text.empty() && text.back() == '/') text.remove_suffix(1);
  if (isGuid(text)) return toLower(text);
  constexpr std::string_view kMarker = "/providers/Microsoft.Authorization/roleDefinitions/";
  std::string lowered = toLower(text);
  size_t at = lowered.rfind(toLower(kMarker));
  if (at == std::string::npos) return std::nullopt;
  std::string_view prefix = text.substr(0, at);
  std::string_view guid = text.substr(at + kMarker.size());
  if (!isGuid(guid)) return std::nullopt;
  if (!prefix.empty()) {
    // Only "" (tenant level) or "/subscriptions/{s}" may precede the provider section.
    auto scope = ResourceId::parse(prefix);
    if (!scope.ok() || !scope->isSubscription()) return std::nullopt;
  }
  return toLower(guid);
}

std::string roleDefinitionResourceId(std::string_view subscriptionId, std::string_view guid) {
  std::string out;
  if (!subscriptionId.empty()) out = "/subscriptions/" + std::string(subscriptionId);
  return out + "/providers/Microsoft.Authorization/roleDefinitions/" + std::string(guid);
}

nlohmann::json renderRoleDefinition(const RoleDefinition& role, std::string_view subscriptionId) {
  return {{"id", roleDefinitionResourceId(subscriptionId, role.id)},
          {"name", role.id},
          {"type", "Microsoft.Authorization/roleDefinitions"},
          {"properties",
           {{"roleName", role.name},
            {"type", "BuiltInRole"},
            {"description", role.description},
            {"assignableScopes", nlohmann::json::array({"/"})},
            {"permissions", nlohmann::json::array({{{"actions", role.actions},
                                                    {"notActions", role.notActions},
                                                    {"dataActions", nlohmann::json::array()},
                                                    {"notDataActions", nlohmann::json::array()}}})},
            {"createdOn", "2015-02-02T21:55:09.8806423Z"},
            {"updatedOn", "2024-01-01T00:00:00.0000000Z"},
            {"createdBy", nullptr},
            {"updatedBy", nullptr}}}};
}

}  // namespace privlink::control::authorization
