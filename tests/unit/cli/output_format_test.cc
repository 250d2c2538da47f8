#include "cli/output_format.h"

#include <gtest/gtest.h>

namespace privlink::cli {
namespace {

const char* kVnets = R"([
  {"id":"/subscriptions/s/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/vnet1",
   "name":"vnet1","type":"Microsoft.Network/virtualNetworks","location":"local",
   "properties":{"provisioningState":"Succeeded",
     "addressSpace":{"addressPrefixes":["10.0.0.0/16","10.1.0.0/16"]},
     "subnets":[{"id":"/subscriptions/s/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/vnet1/subnets/default"}]}},
  {"id":"/subscriptions/s/resourceGroups/other-group/providers/Microsoft.Network/virtualNetworks/v2",
   "name":"v2","type":"Microsoft.Network/virtualNetworks","location":"local",
   "properties":{"provisioningState":"Updating","addressSpace":{"addressPrefixes":["10.2.0.0/16"]},
     "subnets":[]}}])";

std::vector<TableColumn> vnetColumns() {
  TableColumns columns;
  columns.add("Microsoft.Network/virtualNetworks",
              {TableColumn::pointer("AddressPrefixes", "/properties/addressSpace/addressPrefixes"),
               TableColumn::pointer("Subnets", "/properties/subnets")});
  return columns.forType("microsoft.network/VIRTUALNETWORKS");
}

TEST(OutputFormatTest, TableLikeAz) {
  std::string table = formatTable(Json::parse(kVnets), vnetColumns());
  EXPECT_EQ(table,
            "Name   ResourceGroup  Location  ProvisioningState  AddressPrefixes           Subnets\n"
            "-----  -------------  --------  -----------------  ------------------------  -------\n"
            "vnet1  rg1            local     Succeeded          10.0.0.0/16, 10.1.0.0/16  default\n"
            "v2     other-group    local     Updating           10.2.0.0/16\n");
}

TEST(OutputFormatTest, TableDropsEmptyColumns) {
  Json groups = Json::parse(R"([{"id":"/subscriptions/s/resourceGroups/rg","name":"rg",
      "location":"local","properties":{"provisioningState":"Succeeded"}}])");
  // A group's own id is not inside a group: the ResourceGroup column is empty and dropped.
  EXPECT_EQ(formatTable(groups, TableColumns::defaults()),
            "Name  Location  ProvisioningState\n"
            "----  --------  -----------------\n"
            "rg    local     Succeeded\n");
  Json sub = Json::parse(R"({"name":"probe1","properties":{"port":80}})");
  EXPECT_EQ(formatTable(sub, TableColumns::defaults()), "Name\n------\nprobe1\n");
}

TEST(OutputFormatTest, SingleObjectAndNull) {
  Json vnet = Json::parse(kVnets)[1];
  EXPECT_EQ(formatTable(vnet, vnetColumns()),
            "Name  ResourceGroup  Location  ProvisioningState  AddressPrefixes\n"
            "----  -------------  --------  -----------------  ---------------\n"
            "v2    other-group    local     Updating           10.2.0.0/16\n");
  EXPECT_EQ(formatTable(Json(), vnetColumns()), "");
  EXPECT_EQ(formatJson(Json()), "");
}

TEST(OutputFormatTest, EmptyListPrintsHeaderOnly) {
  EXPECT_EQ(formatTable(Json::array(), TableColumns::defaults()), "Name\n----\n");
}

TEST(OutputFormatTest, Tsv) {
  EXPECT_EQ(formatTsv(Json::parse(kVnets), vnetColumns()),
            "vnet1\trg1\tlocal\tSucceeded\t10.0.0.0/16, 10.1.0.0/16\tdefault\n"
            "v2\tother-group\tlocal\tUpdating\t10.2.0.0/16\t\n");
}

TEST(OutputFormatTest, JsonKeepsServerOrderAndIndents) {
  Json v = Json::parse(R"({"name":"x","id":"/i","properties":{"b":1,"a":[true]}})");
  EXPECT_EQ(formatJson(v),
            "{\n  \"name\": \"x\",\n  \"id\": \"/i\",\n  \"properties\": {\n    \"b\": 1,\n"
            "    \"a\": [\n      true\n    ]\n  }\n}\n");
}

TEST(OutputFormatTest, CellText) {
  EXPECT_EQ(cellText(Json("a")), "a");
  EXPECT_EQ(cellText(Json(5)), "5");
  EXPECT_EQ(cellText(Json(false)), "false");
  EXPECT_EQ(cellText(Json()), "");
  EXPECT_EQ(cellText(Json::parse(R"({"id":"/a/b/c"})")), "c");
  EXPECT_EQ(cellText(Json::parse(R"([{"name":"n1"},"s",2])")), "n1, s, 2");
  EXPECT_EQ(cellText(Json::parse("\"tab\\there\"")), "tab\there");
}

TEST(OutputFormatTest, CellsWithTabsAndNewlinesStayOnOneLine) {
  Json v = Json::parse(R"({"name":"a\tb\nc"})");
  EXPECT_EQ(formatTsv(v, {TableColumn::pointer("Name", "/name")}), "a b c\n");
}

TEST(OutputFormatTest, ResourceGroupFromId) {
  EXPECT_EQ(resourceGroupFromId("/subscriptions/s/resourcegroups/RG1/providers/x/y/z"), "RG1");
  EXPECT_EQ(resourceGroupFromId("/subscriptions/s"), "");
  EXPECT_EQ(resourceGroupFromId("/subscriptions/s/resourceGroups/rg"), "");
  EXPECT_EQ(resourceGroupFromId(""), "");
}

TEST(OutputFormatTest, ParsesFormats) {
  EXPECT_EQ(*parseOutputFormat("TABLE"), OutputFormat::kTable);
  EXPECT_EQ(*parseOutputFormat("jsonc"), OutputFormat::kJson);
  EXPECT_EQ(*parseOutputFormat("tsv"), OutputFormat::kTsv);
  EXPECT_EQ(*parseOutputFormat("none"), OutputFormat::kNone);
  EXPECT_EQ(parseOutputFormat("yaml").status().armCode(), "UsageError");
}

TEST(OutputFormatTest, ResultType) {
  EXPECT_EQ(resultType(Json::parse(kVnets)), "Microsoft.Network/virtualNetworks");
  EXPECT_EQ(resultType(Json::array()), "");
  EXPECT_EQ(resultType(Json::parse(R"({"name":"x"})")), "");
}

}  // namespace
}  // namespace privlink::cli
