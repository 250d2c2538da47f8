#include "api/principals.h"

#include <gtest/gtest.h>

#include <cctype>

#include "common/guid.h"

namespace privlink::api {
namespace {

std::string toUpperCopy(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

TEST(SecretHash, VerifiesOnlyTheRightSecret) {
  std::string hash = hashSecret("s3cret", 1000);
  EXPECT_EQ(hash.rfind("pbkdf2-sha256$1000$", 0), 0u);
  EXPECT_EQ(hash.find("s3cret"), std::string::npos);
  EXPECT_TRUE(verifySecret("s3cret", hash));
  EXPECT_FALSE(verifySecret("s3cret ", hash));
  EXPECT_FALSE(verifySecret("", hash));
}

TEST(SecretHash, IsSalted) { EXPECT_NE(hashSecret("same", 1000), hashSecret("same", 1000)); }

TEST(SecretHash, DefaultIterationsAreExpensive) {
  std::string hash = hashSecret("x");
  EXPECT_EQ(hash.rfind("pbkdf2-sha256$100000$", 0), 0u);
  EXPECT_TRUE(verifySecret("x", hash));
}

TEST(SecretHash, RefusesMalformedHashes) {
  for (std::string bad :
       {"", "x", "pbkdf2-sha256$1000$c2FsdA==", "md5$1$a$b", "pbkdf2-sha256$0$c2FsdA==$aGFzaA==",
        "pbkdf2-sha256$abc$c2FsdA==$aGFzaA==", "pbkdf2-sha256$1000$***$aGFzaA==",
        "pbkdf2-sha256$1000$c2FsdA==$", "pbkdf2-sha256$99999999999$c2FsdA==$aGFzaA=="}) {
    EXPECT_FALSE(verifySecret("anything", bad)) << bad;
  }
}

TEST(Principal, BodyRoundTrips) {
  Principal user = newUser("t-1", "alice@privlink.local", "Alice", "pw", false);
  auto body = user.toBody();
  EXPECT_EQ(body["kind"], "user");
  EXPECT_EQ(body["userPrincipalName"], "alice@privlink.local");
  EXPECT_FALSE(body.contains("password"));
  auto back = Principal::fromBody(body);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->objectId, user.objectId);
  EXPECT_EQ(back->kind, PrincipalKind::kUser);
  EXPECT_TRUE(verifySecret("pw", back->secretHash));

  Principal sp = newServicePrincipal("t-1", "ci", "secret", true);
  EXPECT_TRUE(isGuid(sp.appId));
  EXPECT_TRUE(isGuid(sp.objectId));
  auto spBack = Principal::fromBody(sp.toBody());
  ASSERT_TRUE(spBack.ok());
  EXPECT_TRUE(spBack->isAdmin);
  EXPECT_EQ(spBack->kind, PrincipalKind::kServicePrincipal);
  EXPECT_FALSE(spBack->toBody().contains("userPrincipalName"));
}

TEST(Principal, RefusesBadBodies) {
  EXPECT_FALSE(Principal::fromBody(nlohmann::json::array()).ok());
  EXPECT_FALSE(Principal::fromBody({{"objectId", "o"}, {"tenantId", "t"}, {"kind", "robot"}}).ok());
  EXPECT_FALSE(Principal::fromBody({{"kind", "user"}}).ok());
}

TEST(PrincipalDirectory, FindsPrincipalsCaseInsensitively) {
  auto store = store::openSqliteStore({":memory:"}).value();
  PrincipalDirectory directory(*store);
  Principal sp = newServicePrincipal("t-1", "ci", "secret", true);
  Principal user = newUser("t-1", "Alice@Privlink.Local", "Alice", "pw", false);
  ASSERT_TRUE(directory.put(sp).ok());
  ASSERT_TRUE(directory.put(user).ok());

  auto byApp = directory.byAppId(toUpperCopy(sp.appId));
  ASSERT_TRUE(byApp.ok());
  ASSERT_TRUE(byApp->has_value());
  EXPECT_EQ((*byApp)->objectId, sp.objectId);

  auto byUpn = directory.byUserPrincipalName("alice@privlink.local");
  ASSERT_TRUE(byUpn.ok() && byUpn->has_value());
  EXPECT_EQ((*byUpn)->objectId, user.objectId);

  // A user's object id is not a client id, and an unknown id finds nothing.
  EXPECT_FALSE(directory.byAppId(user.objectId).value().has_value());
  EXPECT_FALSE(directory.byAppId(newGuid()).value().has_value());
  EXPECT_TRUE(directory.byObjectId(user.objectId).value().has_value());
  EXPECT_EQ(directory.admin("t-1").value()->objectId, sp.objectId);
  EXPECT_FALSE(directory.admin("t-2").value().has_value());
}

}  // namespace
}  // namespace privlink::api
