#include "api/bootstrap.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>

#include "api/certificates.h"
#include "api/principals.h"
#include "common/guid.h"

namespace privlink::api {
namespace {

namespace fs = std::filesystem;

class BootstrapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/privlink-bootstrap-test.XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    stateDir_ = dir_ + "/state";
  }
  void TearDown() override { fs::remove_all(dir_); }

  static unsigned mode(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 0777;
  }
  static nlohmann::json admin(const StateFiles& files) {
    return nlohmann::json::parse(readFile(files.adminFile).value());
  }

  std::string dir_;
  std::string stateDir_;
};

TEST_F(BootstrapTest, FirstStartCreatesKeysWithPrivateModes) {
  auto files = prepareStateDir(stateDir_);
  ASSERT_TRUE(files.ok()) << files.status().toString();
  EXPECT_EQ(mode(stateDir_), 0700u);
  EXPECT_EQ(mode(files->caKeyFile), 0600u);
  EXPECT_EQ(mode(files->serverKeyFile), 0600u);
  EXPECT_EQ(mode(files->tokenKeyFile), 0600u);
  auto ca = readFile(files->caCertificateFile).value();
  auto server = readFile(files->serverCertificateFile).value();
  EXPECT_TRUE(verifyServerCertificate(ca, server, "localhost").ok());
  EXPECT_TRUE(verifyServerCertificate(ca, server, "127.0.0.1").ok());
  EXPECT_TRUE(verifyServerCertificate(ca, server, "::1").ok());
}

TEST_F(BootstrapTest, LaterStartsReuseTheKeyMaterial) {
  auto first = prepareStateDir(stateDir_).value();
  std::string ca = readFile(first.caCertificateFile).value();
  std::string server = readFile(first.serverCertificateFile).value();
  auto second = prepareStateDir(stateDir_).value();
  EXPECT_EQ(readFile(second.caCertificateFile).value(), ca);
  EXPECT_EQ(readFile(second.serverCertificateFile).value(), server);
  EXPECT_EQ(second.tokenKey.keyId(), first.tokenKey.keyId());
}

TEST_F(BootstrapTest, ReissuesAMissingServerCertificateFromTheSameCa) {
  auto first = prepareStateDir(stateDir_).value();
  std::string ca = readFile(first.caCertificateFile).value();
  fs::remove(first.serverCertificateFile);
  auto second = prepareStateDir(stateDir_).value();
  EXPECT_EQ(readFile(second.caCertificateFile).value(), ca);
  EXPECT_TRUE(
      verifyServerCertificate(ca, readFile(second.serverCertificateFile).value(), "localhost")
          .ok());
}

TEST_F(BootstrapTest, RefusesACaKeyWithoutItsCertificate) {
  auto first = prepareStateDir(stateDir_).value();
  fs::remove(first.caCertificateFile);
  auto second = prepareStateDir(stateDir_);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("inconsistent"), std::string::npos);
  EXPECT_TRUE(fs::exists(first.caKeyFile));  // nothing overwritten
}

TEST_F(BootstrapTest, IdentityIsCreatedOnceAndReused) {
  auto files = prepareStateDir(stateDir_).value();
  auto store = store::openSqliteStore({files.storePath}).value();
  auto first = bootstrapIdentity(*store, files, "https://localhost:1111");
  ASSERT_TRUE(first.ok()) << first.status().toString();
  EXPECT_TRUE(first->created);
  EXPECT_TRUE(isGuid(first->tenantId));
  EXPECT_TRUE(isGuid(first->subscriptionId));
  EXPECT_EQ(mode(files.adminFile), 0600u);
  auto admin1 = admin(files);
  EXPECT_EQ(admin1["endpoint"], "https://localhost:1111");
  EXPECT_EQ(admin1["tenantId"], first->tenantId);
  EXPECT_EQ(admin1["subscriptionId"], first->subscriptionId);
  EXPECT_EQ(admin1["clientId"], first->adminClientId);
  EXPECT_EQ(admin1["caCertificate"], files.caCertificateFile);

  // The store has the documents the rest of privlink reads.
  PrincipalDirectory principals(*store);
  auto sp = principals.byAppId(first->adminClientId).value();
  ASSERT_TRUE(sp.has_value());
  EXPECT_TRUE(sp->isAdmin);
  EXPECT_TRUE(verifySecret(admin1["clientSecret"].get<std::string>(), sp->secretHash));
  EXPECT_EQ(sp->toBody().dump().find(admin1["clientSecret"].get<std::string>()), std::string::npos);
  ASSERT_TRUE(store
                  ->read([&](store::ReadView& view) -> Status {
                    auto sub = view.get("/subscriptions/" + first->subscriptionId).value();
                    EXPECT_TRUE(sub.has_value());
                    if (sub) {
                      EXPECT_EQ(sub->type, "microsoft.resources/subscriptions");
                      EXPECT_EQ(sub->body["tenantId"], first->tenantId);
                      EXPECT_EQ(sub->body["state"], "Enabled");
                      EXPECT_EQ(sub->body["displayName"], "privlink default");
                    }
                    auto tenant = view.get(tenantKey(first->tenantId)).value();
                    EXPECT_TRUE(tenant.has_value());
                    return Status::Ok();
                  })
                  .ok());
  store.reset();

  // Restart: same tenant, subscription, admin and secret; the endpoint follows the new port.
  auto store2 = store::openSqliteStore({files.storePath}).value();
  auto second = bootstrapIdentity(*store2, files, "https://localhost:2222");
  ASSERT_TRUE(second.ok()) << second.status().toString();
  EXPECT_FALSE(second->created);
  EXPECT_EQ(second->tenantId, first->tenantId);
  EXPECT_EQ(second->subscriptionId, first->subscriptionId);
  EXPECT_EQ(second->adminClientId, first->adminClientId);
  auto admin2 = admin(files);
  EXPECT_EQ(admin2["endpoint"], "https://localhost:2222");
  EXPECT_EQ(admin2["clientSecret"], admin1["clientSecret"]);
}

TEST_F(BootstrapTest, DeletingAdminJsonRotatesTheSecret) {
  auto files = prepareStateDir(stateDir_).value();
  auto store = store::openSqliteStore({files.storePath}).value();
  auto first = bootstrapIdentity(*store, files, "https://localhost:1").value();
  std::string oldSecret = admin(files)["clientSecret"];
  fs::remove(files.adminFile);
  auto second = bootstrapIdentity(*store, files, "https://localhost:1").value();
  EXPECT_EQ(second.adminClientId, first.adminClientId);
  std::string newSecret = admin(files)["clientSecret"];
  EXPECT_NE(newSecret, oldSecret);
  auto sp = PrincipalDirectory(*store).byAppId(first.adminClientId).value();
  ASSERT_TRUE(sp.has_value());
  EXPECT_TRUE(verifySecret(newSecret, sp->secretHash));
  EXPECT_FALSE(verifySecret(oldSecret, sp->secretHash));
}

TEST_F(BootstrapTest, WriteFileAtomicSetsTheMode) {
  fs::create_directories(stateDir_);
  std::string path = stateDir_ + "/f";
  ASSERT_TRUE(writeFileAtomic(path, "one", 0600).ok());
  ASSERT_TRUE(writeFileAtomic(path, "two", 0640).ok());
  EXPECT_EQ(readFile(path).value(), "two");
  EXPECT_EQ(mode(path), 0640u);
  EXPECT_FALSE(writeFileAtomic(dir_ + "/missing/f", "x", 0600).ok());
  EXPECT_FALSE(readFile(dir_ + "/missing/f").ok());
}

}  // namespace
}  // namespace privlink::api
