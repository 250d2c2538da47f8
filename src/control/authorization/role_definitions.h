#pragma once
// Azure's built-in role definitions that privlink knows (DESIGN.md §4), with their real GUIDs and
// action / notAction strings, and Azure's action matching.
//
// Matching (as Azure RBAC): an action string such as "Microsoft.Network/virtualNetworks/write" is
// compared case-insensitively with each pattern; '*' in a pattern matches any run of characters,
// '/' included ("*/read", "Microsoft.Network/*", "Microsoft.Authorization/*/Write"). A role
// permits an action when some action pattern matches and no notAction pattern does. Effective
// permissions of a principal are the union over its role assignments (there are no deny
// assignments in privlink).

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace privlink::control::authorization {

struct RoleDefinition {
  std::string id;    // GUID, lower case
  std::string name;  // "Network Contributor"
  std::string description;
  std::vector<std::string> actions;
  std::vector<std::string> notActions;

  bool permits(std::string_view action) const;
};

// Role definition GUIDs (identical in every Azure tenant).
inline constexpr std::string_view kOwnerRoleId = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
inline constexpr std::string_view kContributorRoleId = "b24988ac-6180-42a0-ab88-20f7382dd24c";
inline constexpr std::string_view kReaderRoleId = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
inline constexpr std::string_view kNetworkContributorRoleId =
    "4d97b98b-1d4f-4787-a291-c67834d212e7";
inline constexpr std::string_view kPrivateDnsZoneContributorRoleId =
    "b12aa53e-6015-4669-85d0-8515ebb3ae7f";

// All built-in roles, in a stable order (Owner, Contributor, Reader, Network Contributor,
// Private DNS Zone Contributor).
const std::vector<RoleDefinition>& builtInRoles();
// By GUID (case-insensitive); nullptr when unknown.
const RoleDefinition* findRoleById(std::string_view guid);
// By role name (case-insensitive), e.g. "network contributor"; nullptr when unknown.
const RoleDefinition* findRoleByName(std::string_view roleName);
// The role GUID named by a roleDefinitionId in any of Azure's forms:
//   /subscriptions/{s}/providers/Microsoft.Authorization/roleDefinitions/{guid}
//   /providers/Microsoft.Authorization/roleDefinitions/{guid}
//   {guid}
// nullopt when the text has none of these shapes (the GUID itself is not looked up).
std::optional<std::string> roleGuidOf(std::string_view roleDefinitionId);

// "/subscriptions/{s}/providers/Microsoft.Authorization/roleDefinitions/{guid}", or the
// tenant-level form "/providers/Microsoft.Authorization/roleDefinitions/{guid}" when
// subscriptionId is empty.
std::string roleDefinitionResourceId(std::string_view subscriptionId, std::string_view guid);

// The ARM body of a role definition as Azure renders it (type BuiltInRole, assignableScopes
// ["/"], permissions [{actions, notActions, dataActions: [], notDataActions: []}]).
nlohmann::json renderRoleDefinition(const RoleDefinition& role, std::string_view subscriptionId);

// Azure's wildcard match of one action against one pattern (see the file comment).
bool actionMatches(std::string_view pattern, std::string_view action);

}  // namespace privlink::control::authorization
