#include "common/resource_id.h"

#include <utility>

namespace privlink {
namespace {

constexpr std::string_view kSubscriptions = "subscriptions";
constexpr std::string_view kResourceGroups = "resourceGroups";
constexpr std::string_view kProviders = "providers";

char lowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

Status invalid(std::string_view text, const std::string& why) {
  return Status::InvalidArgument(
      "InvalidResourceId",
      "'" + std::string(text) + "' is not a valid resource id: " + why +
          ". Expected /subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}"
          "/providers/{namespace}/{type}/{name}");
}

// Splits on '/', dropping empty parts (so "//" collapses and a trailing '/' disappears).
std::vector<std::string_view> splitPath(std::string_view text) {
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i < text.size()) {
    size_t next = text.find('/', i);
    if (next == std::string_view::npos) next = text.size();
    if (next > i) parts.push_back(text.substr(i, next - i));
    i = next + 1;
  }
  return parts;
}

bool hasControlCharacter(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  }
  return false;
}

}  // namespace

std::string toLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lowerAscii(c);
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lowerAscii(a[i]) != lowerAscii(b[i])) return false;
  }
  return true;
}

bool istartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

Result<ResourceId> ResourceId::parse(std::string_view text) {
  if (text.empty()) return invalid(text, "the id is empty");
  if (text.front() != '/') return invalid(text, "it must start with '/'");
  if (hasControlCharacter(text)) return invalid(text, "it contains a control character");
  std::vector<std::string_view> parts = splitPath(text);
  if (parts.empty()) return invalid(text, "the id is empty");
  if (!iequals(parts[0], kSubscriptions)) {
    return invalid(text,
                   "it starts with '" + std::string(parts[0]) + "' instead of 'subscriptions'");
  }
  if (parts.size() < 2) return invalid(text, "the subscription id is missing");

  ResourceId id;
  id.subscription_ = std::string(parts[1]);
  size_t i = 2;
  if (i < parts.size() && iequals(parts[i], kResourceGroups)) {
    if (i + 1 >= parts.size()) return invalid(text, "the resource group name is missing");
    id.group_ = std::string(parts[i + 1]);
    i += 2;
  }
  if (i == parts.size()) return id;
  if (!iequals(parts[i], kProviders)) {
    return invalid(text, "unexpected segment '" + std::string(parts[i]) +
                             "'; expected 'resourceGroups' or 'providers'");
  }
  // One or more provider sections: providers/{namespace}/{type}/{name}[/{type}/{name}...]. A
  // 'providers' word where a type is expected starts an extension resource on everything before.
  while (i < parts.size()) {
    // parts[i] is "providers".
    if (i + 1 >= parts.size()) return invalid(text, "the provider namespace is missing");
    std::string ns(parts[i + 1]);
    i += 2;
    std::vector<Segment> segments;
    while (i < parts.size() && !iequals(parts[i], kProviders)) {
      if (i + 1 >= parts.size()) {
        return invalid(text, "the resource type '" + std::string(parts[i]) + "' has no name");
      }
      segments.push_back(Segment{std::string(parts[i]), std::string(parts[i + 1])});
      i += 2;
    }
    if (segments.empty()) {
      return invalid(text, "the provider '" + ns + "' is not followed by {type}/{name}");
    }
    if (!id.namespace_.empty()) {
      // A further provider section: the id so far becomes the extension's scope.
      id.scope_ = id.toString();
    }
    id.namespace_ = std::move(ns);
    id.segments_ = std::move(segments);
  }
  return id;
}

ResourceId ResourceId::subscription(std::string_view subscriptionId) {
  ResourceId id;
  id.subscription_ = std::string(subscriptionId);
  return id;
}

ResourceId ResourceId::resourceGroup(std::string_view subscriptionId, std::string_view group) {
  ResourceId id;
  id.subscription_ = std::string(subscriptionId);
  id.group_ = std::string(group);
  return id;
}

bool ResourceId::isSubscription() const {
  return !subscription_.empty() && group_.empty() && segments_.empty();
}

bool ResourceId::isResourceGroup() const {
  return !subscription_.empty() && !group_.empty() && segments_.empty();
}

std::string ResourceId::type() const {
  if (segments_.empty()) {
    if (subscription_.empty()) return {};
    return group_.empty() ? "Microsoft.Resources/subscriptions"
                          : "Microsoft.Resources/resourceGroups";
  }
  std::string out = namespace_;
  for (const Segment& s : segments_) out += "/" + s.type;
  return out;
}

std::string ResourceId::name() const {
  if (!segments_.empty()) return segments_.back().name;
  if (!group_.empty()) return group_;
  return subscription_;
}

std::optional<ResourceId> ResourceId::parent() const {
  if (segments_.size() > 1) {
    ResourceId p = *this;
    p.segments_.pop_back();
    return p;
  }
  if (segments_.size() == 1) {
    if (!scope_.empty()) {
      // The scope was produced by toString(), so it parses.
      auto scope = parse(scope_);
      if (scope.ok()) return std::move(scope).value();
      return std::nullopt;
    }
    return group_.empty() ? subscription(subscription_) : resourceGroup(subscription_, group_);
  }
  if (!group_.empty()) return subscription(subscription_);
  return std::nullopt;
}

ResourceId ResourceId::child(std::string_view type, std::string_view name) const {
  ResourceId c = *this;
  if (segments_.empty()) {
    if (group_.empty() && iequals(type, kResourceGroups)) {
      c.group_ = std::string(name);
      return c;
    }
    // Below a subscription or group the type carries its namespace: "Microsoft.Network/vnets".
    size_t slash = type.find('/');
    if (slash != std::string_view::npos) {
      c.namespace_ = std::string(type.substr(0, slash));
      type = type.substr(slash + 1);
    }
  }
  c.segments_.push_back(Segment{std::string(type), std::string(name)});
  return c;
}

std::string ResourceId::toString() const {
  if (subscription_.empty()) return {};
  std::string out;
  if (!scope_.empty()) {
    out = scope_;
  } else {
    out = "/subscriptions/" + subscription_;
    if (!group_.empty()) out += "/resourceGroups/" + group_;
  }
  if (!segments_.empty()) {
    out += "/providers/" + namespace_;
    for (const Segment& s : segments_) out += "/" + s.type + "/" + s.name;
  }
  return out;
}

std::string ResourceId::key() const { return toLower(toString()); }

}  // namespace privlink
