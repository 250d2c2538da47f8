#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "control/paas/paas_catalog.h"

namespace privlink::control::paas {
namespace {

std::string repoFile(const std::string& relative) {
  std::string here = __FILE__;  // .../tests/unit/paas/paas_catalog_test.cc
  return here.substr(0, here.rfind("/tests/unit/paas/")) + "/" + relative;
}

TEST(PaasCatalogTest, BuiltinHasTheFourRequiredTypes) {
  const PaasCatalog& c = builtinPaasCatalog();
  struct Want {
    const char* type;
    const char* group;
    int port;
    const char* zone;
    const char* suffix;
  } wants[] = {
      {"Microsoft.Sql/servers", "sqlServer", 1433, "privatelink.database.windows.net",
       "database.windows.net"},
      {"Microsoft.DBforPostgreSQL/flexibleServers", "postgresqlServer", 5432,
       "privatelink.postgres.database.azure.com", "postgres.database.azure.com"},
      {"Microsoft.Storage/storageAccounts", "blob", 443, "privatelink.blob.core.windows.net",
       "blob.core.windows.net"},
      {"Microsoft.KeyVault/vaults", "vault", 443, "privatelink.vaultcore.azure.net",
       "vault.azure.net"}};
  for (const Want& w : wants) {
    const PaasType* t = c.find(w.type);
    ASSERT_NE(t, nullptr) << w.type;
    EXPECT_EQ(t->groupId, w.group);
    EXPECT_EQ(t->port, w.port);
    EXPECT_EQ(t->privateDnsZone, w.zone);
    EXPECT_EQ(t->publicDnsSuffix, w.suffix);
  }
  const PaasType* sql = c.find("microsoft.sql/SERVERS");
  ASSERT_NE(sql, nullptr);
  EXPECT_EQ(sql->publicFqdn("Db1"), "db1.database.windows.net");
  EXPECT_EQ(sql->privateLinkFqdn("db1"), "db1.privatelink.database.windows.net");
  EXPECT_EQ(sql->approvalAction(), "Microsoft.Sql/servers/privateEndpointConnectionsApproval/action");
}

TEST(PaasCatalogTest, BuiltinEqualsTheDataFile) {
  std::ifstream in(repoFile("data/paas-catalog.json"));
  ASSERT_TRUE(in) << repoFile("data/paas-catalog.json");
  std::stringstream buffer;
  buffer << in.rdbuf();
  EXPECT_EQ(nlohmann::json::parse(buffer.str()), nlohmann::json::parse(builtinPaasCatalogJson()))
      << "src/control/paas/paas_catalog.cc embeds data/paas-catalog.json; keep them equal";
}

TEST(PaasCatalogTest, ParseErrorsNameTheEntryAndField) {
  auto expectError = [](const std::string& text, const std::string& needle) {
    auto r = parsePaasCatalog(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().armCode(), "InvalidPaasCatalog");
    EXPECT_THAT(r.status().message(), ::testing::HasSubstr(needle)) << r.status().message();
  };
  expectError("{", "not valid JSON");
  expectError(R"({"kinds": []})", "\"types\" array");
  const std::string base =
      R"("type":"X.Y/z","groupId":"g","privateDnsZone":"privatelink.z.example","publicDnsSuffix":"z.example")";
  expectError(R"({"types":[{"groupId":"g"}]})", "has no \"type\"");
  expectError("{\"types\":[{" + base + "}]}", ".port");
  expectError("{\"types\":[{" + base + ",\"port\":70000}]}", ".port");
  expectError(R"({"types":[{"type":"X.Y/z","groupId":"g","port":1,"privateDnsZone":"z.example","publicDnsSuffix":"z"}]})",
              "privatelink.* zone");
  expectError(R"({"types":[{"type":"XY","groupId":"g","port":1,"privateDnsZone":"privatelink.z","publicDnsSuffix":"z"}]})",
              "<Provider.Namespace>/<resourceType>");
  expectError("{\"types\":[{" + base + ",\"port\":1,\"namePattern\":\"([\"}]}", "regular expression");
  expectError("{\"types\":[{" + base + ",\"port\":1},{" + base + ",\"port\":2}]}", "repeats");
}

TEST(PaasCatalogTest, OperatorFileExtendsAndOverrides) {
  std::string path = ::testing::TempDir() + "/paas-extra.json";
  {
    std::ofstream out(path);
    out << R"({"types":[
      {"type":"Microsoft.Sql/servers","groupId":"sqlServer","port":11433,
       "privateDnsZone":"privatelink.database.windows.net","publicDnsSuffix":"database.windows.net"},
      {"type":"Microsoft.Cache/redis","groupId":"redisCache","port":6380,
       "privateDnsZone":"privatelink.redis.cache.windows.net","publicDnsSuffix":"redis.cache.windows.net"}]})";
  }
  auto c = paasCatalog(path);
  ASSERT_TRUE(c.ok()) << c.status().toString();
  EXPECT_EQ(c->types().size(), 5u);
  EXPECT_EQ(c->find("Microsoft.Sql/servers")->port, 11433);
  EXPECT_EQ(c->find("Microsoft.Cache/redis")->groupId, "redisCache");
  EXPECT_EQ(c->find("Microsoft.Cache/redis")->displayName, "Microsoft.Cache/redis");
  std::remove(path.c_str());
  auto missing = paasCatalog(std::string("/nonexistent/paas.json"));
  EXPECT_EQ(missing.status().armCode(), "InvalidPaasCatalog");
  EXPECT_EQ(paasCatalog(std::nullopt)->types().size(), 4u);
}

}  // namespace
}  // namespace privlink::control::paas
