#pragma once
// Building blocks shared by command groups: common options and the show/list/create/delete
// flows every resource type repeats.

#include <string>
#include <vector>

#include "cli/cli_context.h"

namespace privlink::cli {

// -g/--resource-group (required).
CLI::Option* addResourceGroupOption(CLI::App* command, std::string& group);
// -n/--name (required) with the given description.
CLI::Option* addNameOption(CLI::App* command, std::string& name, const std::string& what);
// -l/--location (optional; default the resource group's).
CLI::Option* addLocationOption(CLI::App* command, std::string& location);
// --no-wait flag.
CLI::Option* addNoWaitOption(CLI::App* command, bool& noWait);

// `given` when set, else the location of resource group `group` (one GET, as az does).
Result<std::string> locationOrGroupDefault(client::ArmClient& arm, const std::string& subscription,
                                           const std::string& group, const std::string& given);

// GET `path` (api-version included) and return the body.
Result<CommandOutput> showResource(CliContext& ctx, const std::string& path);
// GET the collection at `path`, following nextLink; returns a JSON array.
Result<CommandOutput> listResources(CliContext& ctx, const std::string& path);
// PUT and wait (returns the final resource), or with noWait the initial response body.
Result<CommandOutput> putResource(CliContext& ctx, const std::string& path, const Json& body,
                                  bool noWait);
// DELETE and wait unless noWait; prints nothing.
Result<CommandOutput> deleteResource(CliContext& ctx, const std::string& path, bool noWait);

// az's boolean option values: true/yes/1 and false/no/0 (any casing); anything else is a usage
// error naming `option`.
Result<bool> parseBool(const std::string& text, const std::string& option);

// The PUT body of a provider's decision on a private endpoint connection (approve, reject,
// remove): the connection `current` (as GET returned it; its name, else `fallbackName`) with its
// privateEndpoint and privateLinkServiceConnectionState {status, description (when not empty)}.
Json connectionDecisionBody(const Json& current, const std::string& fallbackName,
                            const std::string& status, const std::string& description);

// The default --name-prefix of the commands that run a program in a namespace privlinkd made:
// $PRIVLINK_NAME_PREFIX, or "pl".
std::string defaultNamePrefix();
// Runs `command` in network namespace `ns` (agent::execInNamespace) and exits with its status;
// stdout and stderr are flushed first.
[[noreturn]] void execInNamespaceAndExit(const std::string& ns,
                                         const std::vector<std::string>& command);

}  // namespace privlink::cli
