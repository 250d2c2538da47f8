#pragma once
// ARM resource ids: parse, normalise, compare case-insensitively, walk parent/child.
//
//   /subscriptions/{s}
//   /subscriptions/{s}/resourceGroups/{rg}
//   /subscriptions/{s}/resourceGroups/{rg}/providers/{Ns}/{type}/{name}[/{childType}/{childName}...]
//   /subscriptions/{s}/providers/{Ns}/{type}/{name}...               (subscription-level resources)
//   {scope}/providers/Microsoft.Authorization/roleAssignments/{name}   (extension resources: the
//                                                                       last /providers/ wins)
// Names keep the caller's casing; comparisons and store keys use key() (lower case, no trailing
// slash, `//` collapsed).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace privlink {

class ResourceId {
 public:
  struct Segment {
    std::string type;  // "virtualNetworks"
    std::string name;  // "vnet1"
  };

  ResourceId() = default;
  // Fails with InvalidResourceId (400) and a message naming the malformed part.
  static Result<ResourceId> parse(std::string_view text);

  static ResourceId subscription(std::string_view subscriptionId);
  static ResourceId resourceGroup(std::string_view subscriptionId, std::string_view group);

  const std::string& subscriptionId() const { return subscription_; }
  const std::string& resourceGroup() const { return group_; }  // empty when none
  // Provider namespace of the (last) provider section, e.g. "Microsoft.Network"; empty for
  // subscriptions and resource groups.
  const std::string& providerNamespace() const { return namespace_; }
  const std::vector<Segment>& segments() const { return segments_; }
  // The id this extension resource is attached to (empty ResourceId if not an extension).
  const std::string& scope() const { return scope_; }

  bool isSubscription() const;
  bool isResourceGroup() const;
  // "Microsoft.Network/virtualNetworks/subnets"; "Microsoft.Resources/resourceGroups" and
  // "Microsoft.Resources/subscriptions" for those.
  std::string type() const;
  // Last name: "subnet1" (the group name for a resource group).
  std::string name() const;

  // Parent resource (subnet -> vnet -> resource group -> subscription); nullopt at a subscription.
  std::optional<ResourceId> parent() const;
  // Appends one child segment. Below a subscription, child("resourceGroups", g) gives the group;
  // below a subscription or group the type carries its namespace:
  // child("Microsoft.Network/virtualNetworks", "v").
  ResourceId child(std::string_view type, std::string_view name) const;

  std::string toString() const;  // as given, with canonical separators
  std::string key() const;       // lower-cased toString(): the store key
  bool operator==(const ResourceId& other) const { return key() == other.key(); }

 private:
  std::string subscription_;
  std::string group_;
  std::string scope_;
  std::string namespace_;
  std::vector<Segment> segments_;
};

// Case-insensitive ASCII helpers used wherever ARM compares names.
std::string toLower(std::string_view s);
bool iequals(std::string_view a, std::string_view b);
bool istartsWith(std::string_view s, std::string_view prefix);

}  // namespace privlink
