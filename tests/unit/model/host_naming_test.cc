#include "model/host_naming.h"

#include <gtest/gtest.h>

#include "model/naming.h"

namespace privlink::model {
namespace {

TEST(HostNaming, DefaultPrefixAgreesWithNamingH) {
  HostNaming naming;
  EXPECT_EQ(naming.vnetNamespace("/x"), vnetNamespace("/x"));
  EXPECT_EQ(naming.nicNamespace("/x"), nicNamespace("/x"));
  EXPECT_EQ(naming.backboneNamespace(), kBackboneNamespace);
  EXPECT_EQ(naming.internetNamespace(), kInternetNamespace);
}

TEST(HostNaming, OwnsOnlyExactPatterns) {
  HostNaming naming("t1");
  EXPECT_TRUE(naming.ownsNamespace(naming.vnetNamespace("/a")));
  EXPECT_TRUE(naming.ownsNamespace(naming.nicNamespace("/a")));
  EXPECT_TRUE(naming.ownsNamespace("t1bb"));
  EXPECT_TRUE(naming.ownsNamespace("t1inet"));
  EXPECT_FALSE(naming.ownsNamespace("t12bb"));
  EXPECT_FALSE(naming.ownsNamespace(HostNaming("t12").vnetNamespace("/a")));
  EXPECT_FALSE(naming.ownsNamespace("t1v-1234567"));
  EXPECT_FALSE(naming.ownsNamespace("t1v-1234567G"));
  EXPECT_FALSE(naming.ownsNamespace("plbb"));
  EXPECT_FALSE(naming.ownsNamespace(""));
}

TEST(HostNaming, InterfaceNamesFitIfnamsiz) {
  for (const std::string& name :
       {HostNaming::bridgeName("/k"), HostNaming::nicLinkName("/k"), HostNaming::uplinkName("/k"),
        HostNaming::backboneUplinkName("/k"), HostNaming::peeringLinkName("/k")}) {
    EXPECT_LE(name.size(), 15u) << name;
  }
}

}  // namespace
}  // namespace privlink::model
