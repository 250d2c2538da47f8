#include "client/client_config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>

namespace privlink::client {
namespace {

namespace fs = std::filesystem;

class ClientConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/privlink-cli-config-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

ClientConfig sample() {
  return ClientConfig{"https://localhost:8443", "tenant", "sub", "client", "secret", "/ca.pem"};
}

mode_t modeOf(const fs::path& p) {
  struct stat st{};
  EXPECT_EQ(::stat(p.c_str(), &st), 0);
  return st.st_mode & 0777;
}

TEST_F(ClientConfigTest, SaveThenLoadRoundTripsWithMode0600) {
  fs::path configDir = dir_ / "nested" / ".privlink";
  ASSERT_TRUE(saveClientConfig(configDir, sample()).ok());
  EXPECT_EQ(modeOf(configPath(configDir)), 0600);
  EXPECT_EQ(modeOf(configDir), 0700);
  auto loaded = loadClientConfig(configDir);
  ASSERT_TRUE(loaded.ok()) << loaded.status().toString();
  EXPECT_EQ(loaded->endpoint, "https://localhost:8443");
  EXPECT_EQ(loaded->tenantId, "tenant");
  EXPECT_EQ(loaded->subscriptionId, "sub");
  EXPECT_EQ(loaded->clientId, "client");
  EXPECT_EQ(loaded->clientSecret, "secret");
  EXPECT_EQ(loaded->caCertificate, "/ca.pem");
}

TEST_F(ClientConfigTest, SaveTightensExistingLooseFile) {
  fs::create_directories(dir_);
  { std::ofstream(configPath(dir_)) << "{}"; }
  ::chmod(configPath(dir_).c_str(), 0644);
  ASSERT_TRUE(saveClientConfig(dir_, sample()).ok());
  EXPECT_EQ(modeOf(configPath(dir_)), 0600);
  EXPECT_FALSE(fs::exists(configPath(dir_).string() + ".tmp"));
}

TEST_F(ClientConfigTest, MissingFileMeansNotLoggedIn) {
  auto loaded = loadClientConfig(dir_ / "none");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().armCode(), "NotLoggedIn");
  EXPECT_NE(loaded.status().message().find("run privlink login"), std::string::npos);
}

TEST_F(ClientConfigTest, IncompleteFileMeansNotLoggedIn) {
  { std::ofstream(configPath(dir_)) << R"({"endpoint":"https://h:1"})"; }
  auto loaded = loadClientConfig(dir_);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().armCode(), "NotLoggedIn");
  EXPECT_NE(loaded.status().message().find("clientSecret"), std::string::npos);
}

TEST_F(ClientConfigTest, MalformedJsonIsInvalidConfig) {
  EXPECT_EQ(parseClientConfig("{", "f").status().armCode(), "InvalidConfig");
  EXPECT_EQ(parseClientConfig("[]", "f").status().armCode(), "InvalidConfig");
  EXPECT_EQ(parseClientConfig(R"({"endpoint":1})", "f").status().armCode(), "InvalidConfig");
}

TEST_F(ClientConfigTest, AdminJsonWithRelativeCaPath) {
  {
    std::ofstream(dir_ / "admin.json")
        << R"({"endpoint":"https://localhost:1","tenantId":"t","subscriptionId":"s",
              "clientId":"c","clientSecret":"x","caCertificate":"tls/ca.pem","extra":true})";
  }
  auto admin = loadAdminConfig(dir_);
  ASSERT_TRUE(admin.ok()) << admin.status().toString();
  EXPECT_EQ(admin->caCertificate, (fs::absolute(dir_) / "tls/ca.pem").string());
  EXPECT_EQ(admin->subscriptionId, "s");
}

TEST_F(ClientConfigTest, AdminJsonWithPemTextKeepsIt) {
  {
    std::ofstream(dir_ / "admin.json")
        << R"({"endpoint":"https://localhost:1","tenantId":"t","clientId":"c",
              "clientSecret":"x","caCertificate":"-----BEGIN CERTIFICATE-----\nAA\n"})";
  }
  auto admin = loadAdminConfig(dir_);
  ASSERT_TRUE(admin.ok()) << admin.status().toString();
  EXPECT_EQ(admin->caCertificate, "-----BEGIN CERTIFICATE-----\nAA\n");
}

TEST_F(ClientConfigTest, MissingAdminJsonSaysStartTheDaemon) {
  auto admin = loadAdminConfig(dir_);
  ASSERT_FALSE(admin.ok());
  EXPECT_EQ(admin.status().armCode(), "AdminConfigNotFound");
}

TEST_F(ClientConfigTest, DefaultDirFollowsEnvironment) {
  ::setenv("PRIVLINK_CONFIG_DIR", "/x/y", 1);
  EXPECT_EQ(defaultConfigDir(), fs::path("/x/y"));
  ::unsetenv("PRIVLINK_CONFIG_DIR");
  ::setenv("HOME", "/home/u", 1);
  EXPECT_EQ(defaultConfigDir(), fs::path("/home/u/.privlink"));
}

}  // namespace
}  // namespace privlink::client
