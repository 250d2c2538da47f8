#include "common/guid.h"

#include <gtest/gtest.h>

#include <set>

namespace privlink {
namespace {

TEST(GuidTest, NewGuidIsVersion4LowerCase) {
  std::string g = newGuid();
  ASSERT_EQ(g.size(), 36u);
  EXPECT_TRUE(isGuid(g));
  EXPECT_EQ(g[14], '4');
  EXPECT_NE(std::string("89ab").find(g[19]), std::string::npos) << g;
  for (char c : g) EXPECT_FALSE(c >= 'A' && c <= 'Z') << g;
}

TEST(GuidTest, NewGuidsDiffer) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(newGuid());
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(GuidTest, IsGuidAcceptsEitherCase) {
  EXPECT_TRUE(isGuid("00000000-0000-0000-0000-000000000000"));
  EXPECT_TRUE(isGuid("ABCDEF01-2345-6789-abcd-ef0123456789"));
}

TEST(IsGuidTest, RejectsEmpty) { EXPECT_FALSE(isGuid("")); }
TEST(IsGuidTest, RejectsMissingDashes) { EXPECT_FALSE(isGuid("00000000000000000000000000000000")); }
TEST(IsGuidTest, RejectsBraces) { EXPECT_FALSE(isGuid("{00000000-0000-0000-0000-000000000000}")); }
TEST(IsGuidTest, RejectsNonHex) { EXPECT_FALSE(isGuid("0000000g-0000-0000-0000-000000000000")); }
TEST(IsGuidTest, RejectsMisplacedDash) {
  EXPECT_FALSE(isGuid("0000000-00000-0000-0000-000000000000"));
}
TEST(IsGuidTest, RejectsTooLong) { EXPECT_FALSE(isGuid("00000000-0000-0000-0000-0000000000000")); }

TEST(RandomTest, HexHasTwoCharsPerByte) {
  std::string h = randomHex(8);
  EXPECT_EQ(h.size(), 16u);
  EXPECT_EQ(h.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(randomHex(16), randomHex(16));
  EXPECT_EQ(randomHex(0), "");
}

TEST(RandomTest, Base64UrlIsUnpaddedUrlSafe) {
  EXPECT_EQ(randomBase64Url(32).size(), 43u);
  EXPECT_EQ(randomBase64Url(3).size(), 4u);
  EXPECT_EQ(randomBase64Url(1).size(), 2u);
  EXPECT_EQ(randomBase64Url(2).size(), 3u);
  std::string s = randomBase64Url(300);
  EXPECT_EQ(s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos);
}

}  // namespace
}  // namespace privlink
