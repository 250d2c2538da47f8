#pragma once
// Rendering command results: JSON (pretty, keys in the server's order), az-like tables and TSV.
// Pure functions of the JSON value, so formatting is unit-tested without a server.

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "client/arm_client.h"

namespace privlink::cli {

using client::Json;

enum class OutputFormat { kJson, kTable, kTsv, kNone };

// "json"/"jsonc" -> kJson, "table", "tsv", "none"; nullopt-like failure as InvalidArgument.
Result<OutputFormat> parseOutputFormat(std::string_view text);

struct TableColumn {
  std::string header;
  std::function<std::string(const Json& item)> value;

  // Column reading a JSON pointer ("/properties/provisioningState"); arrays are joined with
  // ", ", objects with an "id" show the id's last segment, other scalars their text.
  static TableColumn pointer(std::string header, std::string jsonPointer);
};

// Columns per resource type, compared case-insensitively ("Microsoft.Network/virtualNetworks").
// Command groups register the columns of their types at start-up; unknown types get the default
// columns Name, ResourceGroup, Location, ProvisioningState.
class TableColumns {
 public:
  void add(std::string_view resourceType, std::vector<TableColumn> extraColumns);
  // Default columns followed by the type's extra columns.
  std::vector<TableColumn> forType(std::string_view resourceType) const;

  static std::vector<TableColumn> defaults();

 private:
  std::map<std::string, std::vector<TableColumn>> extra_;  // key: lower-case type
};

// Text of a JSON value as a table cell: strings raw, numbers/bools as JSON, null as "".
std::string cellText(const Json& value);
// "ResourceGroup" from an ARM id ("" when the id has no group or is a group's own id).
std::string resourceGroupFromId(std::string_view id);

// az-style table: header row, a dashes row, one row per item; columns padded to their widest
// cell and separated by two spaces. Columns whose cells are all empty are left out. A single
// object is one row; null prints nothing.
std::string formatTable(const Json& value, const std::vector<TableColumn>& columns);
// The same cells, tab-separated, no header, no column dropping.
std::string formatTsv(const Json& value, const std::vector<TableColumn>& columns);
// Pretty JSON (2-space indent) with a trailing newline; null prints nothing.
std::string formatJson(const Json& value);

// The resource type of a result: its "type", or the first element's for an array.
std::string resultType(const Json& value);

}  // namespace privlink::cli
