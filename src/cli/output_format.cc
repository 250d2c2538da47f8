#include "cli/output_format.h"

#include <algorithm>

#include "cli/usage_error.h"
#include "common/resource_id.h"

namespace privlink::cli {

Result<OutputFormat> parseOutputFormat(std::string_view text) {
  std::string t = toLower(text);
  if (t == "json" || t == "jsonc") return OutputFormat::kJson;
  if (t == "table") return OutputFormat::kTable;
  if (t == "tsv") return OutputFormat::kTsv;
  if (t == "none") return OutputFormat::kNone;
  return usageError("unknown output format '" + std::string(text) +
                                                   "'; use json, table, tsv or none");
}

std::string resourceGroupFromId(std::string_view id) {
  // /subscriptions/{s}/resourceGroups/{rg}/...: the segment after "resourceGroups".
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= id.size()) {
    size_t slash = id.find('/', start);
    if (slash == std::string_view::npos) slash = id.size();
    if (slash > start) parts.push_back(id.substr(start, slash - start));
    start = slash + 1;
  }
  // A resource group's own id has nothing after its name: it is not *in* a group.
  for (size_t i = 0; i + 2 < parts.size(); ++i) {
    if (iequals(parts[i], "resourceGroups")) return std::string(parts[i + 1]);
  }
  return {};
}

namespace {
std::string lastSegment(std::string_view id) {
  size_t slash = id.find_last_of('/');
  return std::string(slash == std::string_view::npos ? id : id.substr(slash + 1));
}
}  // namespace

std::string cellText(const Json& value) {
  if (value.is_null()) return {};
  if (value.is_string()) return value.get<std::string>();
  if (value.is_object()) {
    if (value.contains("id") && value["id"].is_string()) return lastSegment(value["id"].get<std::string>());
    if (value.contains("name") && value["name"].is_string()) return value["name"].get<std::string>();
    return value.dump();
  }
  if (value.is_array()) {
    std::string out;
    for (const auto& element : value) {
      if (!out.empty()) out += ", ";
      out += cellText(element);
    }
    return out;
  }
  return value.dump();
}

TableColumn TableColumn::pointer(std::string header, std::string jsonPointer) {
  Json::json_pointer ptr(jsonPointer);
  return TableColumn{std::move(header), [ptr](const Json& item) -> std::string {
                       if (!item.is_object() || !item.contains(ptr)) return {};
                       return cellText(item.at(ptr));
                     }};
}

std::vector<TableColumn> TableColumns::defaults() {
  return {
      TableColumn::pointer("Name", "/name"),
      TableColumn{"ResourceGroup",
                  [](const Json& item) -> std::string {
                    if (item.is_object() && item.contains("id") && item["id"].is_string()) {
                      return resourceGroupFromId(item["id"].get<std::string>());
                    }
                    return {};
                  }},
      TableColumn::pointer("Location", "/location"),
      TableColumn::pointer("ProvisioningState", "/properties/provisioningState"),
  };
}

void TableColumns::add(std::string_view resourceType, std::vector<TableColumn> extraColumns) {
  extra_[toLower(resourceType)] = std::move(extraColumns);
}

std::vector<TableColumn> TableColumns::forType(std::string_view resourceType) const {
  std::vector<TableColumn> columns = defaults();
  auto it = extra_.find(toLower(resourceType));
  if (it != extra_.end()) columns.insert(columns.end(), it->second.begin(), it->second.end());
  return columns;
}

std::string resultType(const Json& value) {
  const Json* item = &value;
  if (value.is_array()) {
    if (value.empty()) return {};
    item = &value[0];
  }
  if (item->is_object() && item->contains("type") && (*item)["type"].is_string()) {
    return (*item)["type"].get<std::string>();
  }
  return {};
}

namespace {
std::vector<std::vector<std::string>> cells(const Json& value,
                                            const std::vector<TableColumn>& columns) {
  std::vector<std::vector<std::string>> rows;
  auto addRow = [&](const Json& item) {
    std::vector<std::string> row;
    for (const auto& column : columns) {
      std::string text = column.value(item);
      std::replace(text.begin(), text.end(), '\n', ' ');
      std::replace(text.begin(), text.end(), '\t', ' ');
      row.push_back(std::move(text));
    }
    rows.push_back(std::move(row));
  };
  if (value.is_array()) {
    for (const auto& item : value) addRow(item);
  } else if (!value.is_null()) {
    addRow(value);
  }
  return rows;
}
}  // namespace

std::string formatTable(const Json& value, const std::vector<TableColumn>& columns) {
  if (value.is_null()) return {};
  auto rows = cells(value, columns);
  std::vector<size_t> keep;
  for (size_t c = 0; c < columns.size(); ++c) {
    bool any = std::any_of(rows.begin(), rows.end(), [&](const auto& r) { return !r[c].empty(); });
    if (any || c == 0) keep.push_back(c);
  }
  std::vector<size_t> width;
  for (size_t c : keep) {
    size_t w = columns[c].header.size();
    for (const auto& r : rows) w = std::max(w, r[c].size());
    width.push_back(w);
  }
  auto line = [&](auto cellOf) {
    std::string out;
    for (size_t k = 0; k < keep.size(); ++k) {
      std::string cell = cellOf(k);
      if (k + 1 == keep.size()) {
        out += cell;
      } else {
        out += cell;
        out.append(width[k] - cell.size() + 2, ' ');
      }
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "\n";
  };
  std::string out = line([&](size_t k) { return columns[keep[k]].header; });
  out += line([&](size_t k) { return std::string(width[k], '-'); });
  for (const auto& r : rows) out += line([&](size_t k) { return r[keep[k]]; });
  return out;
}

std::string formatTsv(const Json& value, const std::vector<TableColumn>& columns) {
  std::string out;
  for (const auto& r : cells(value, columns)) {
    for (size_t c = 0; c < r.size(); ++c) {
      if (c > 0) out += '\t';
      out += r[c];
    }
    out += '\n';
  }
  return out;
}

std::string formatJson(const Json& value) {
  if (value.is_null()) return {};
  return value.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace privlink::cli
