#include "control/network/ip_allocation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "network_fixture.h"

namespace privlink::control {
namespace {

using ::testing::HasSubstr;

class IpAllocationTest : public NetworkTest {
 protected:
  IpAllocationTest() { makeVnetWithSubnet(); }

  // Runs fn in one committed write transaction with a KindContext.
  Status inTxn(const std::function<Status(KindContext&)>& fn) {
    return arm_.store().write([&](store::Transaction& txn) -> Status {
      KindContext ctx{txn, arm_.caller(), svc().config(), svc()};
      return fn(ctx);
    });
  }
  Result<IpAddress> allocate(const std::string& owner, std::optional<std::string> requested = {},
                             ipam::AllocateOptions options = {}) {
    Result<IpAddress> out = Status::Internal("not run");
    Status st = inTxn([&](KindContext& ctx) -> Status {
      std::optional<IpAddress> want;
      if (requested) want = *IpAddress::parse(*requested);
      out = ipam::allocate(ctx, subnet("v1", "s1"), owner, want, options);
      return out.ok() ? Status::Ok() : out.status();
    });
    if (!st.ok()) return st;
    return out;
  }
  std::vector<ipam::Allocation> all() {
    std::vector<ipam::Allocation> out;
    Status st = arm_.store().read([&](store::ReadView& view) -> Status {
      ASSIGN_OR_RETURN(out, ipam::allocations(view, subnet("v1", "s1")));
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.toString();
    return out;
  }
};

TEST_F(IpAllocationTest, LowestFreeAddressAndIdempotentPerOwner) {
  EXPECT_EQ(allocate("owner/a")->toString(), "10.0.1.4");
  EXPECT_EQ(allocate("owner/b")->toString(), "10.0.1.5");
  EXPECT_EQ(allocate("OWNER/A")->toString(), "10.0.1.4");  // owners compare without case
  ASSERT_EQ(all().size(), 2u);
  EXPECT_EQ(all()[1].ownerId, "owner/b");
}

TEST_F(IpAllocationTest, ReleaseFreesAndIsIdempotent) {
  ASSERT_TRUE(allocate("owner/a").ok());
  ASSERT_TRUE(allocate("owner/b").ok());
  ASSERT_TRUE(inTxn([&](KindContext& ctx) {
                return ipam::release(ctx, subnet("v1", "s1"), "owner/a");
              }).ok());
  ASSERT_TRUE(inTxn([&](KindContext& ctx) {
                return ipam::release(ctx, subnet("v1", "s1"), "owner/a");
              }).ok());
  EXPECT_EQ(allocate("owner/c")->toString(), "10.0.1.4");
}

TEST_F(IpAllocationTest, RequestedAddressRules) {
  EXPECT_EQ(allocate("owner/a", "10.0.1.100")->toString(), "10.0.1.100");
  EXPECT_EQ(allocate("owner/b", "10.0.1.100").status().armCode(), "PrivateIPAddressInUse");
  EXPECT_EQ(allocate("owner/b", "10.0.1.0").status().armCode(), "InvalidPrivateIPAddress");
  EXPECT_EQ(allocate("owner/b", "10.0.1.3").status().armCode(), "InvalidPrivateIPAddress");
  EXPECT_EQ(allocate("owner/b", "10.0.2.4").status().armCode(), "PrivateIPAddressNotInSubnet");
  // Asking for another address moves the owner.
  EXPECT_EQ(allocate("owner/a", "10.0.1.101")->toString(), "10.0.1.101");
  EXPECT_EQ(all().size(), 1u);
}

TEST_F(IpAllocationTest, PrivateEndpointIsRenderedOnTheSubnet) {
  ipam::AllocateOptions options;
  options.privateEndpointId = rg().toString() + "/providers/Microsoft.Network/privateEndpoints/pe1";
  ASSERT_TRUE(
      allocate(nic("pe1.nic").toString() + "/ipConfigurations/cfg", std::nullopt, options).ok());
  json s = getOk(subnet("v1", "s1"));
  ASSERT_EQ(s["properties"]["privateEndpoints"].size(), 1u);
  EXPECT_EQ(s["properties"]["privateEndpoints"][0]["id"], options.privateEndpointId);
  EXPECT_EQ(s["properties"]["ipConfigurations"].size(), 1u);
}

TEST_F(IpAllocationTest, UnknownSubnetIsAnInvalidReference) {
  Status st = inTxn([&](KindContext& ctx) -> Status {
    return ipam::allocate(ctx, subnet("v1", "nope"), "owner/a", std::nullopt).status();
  });
  EXPECT_EQ(st.armCode(), "InvalidResourceReference");
}

TEST_F(IpAllocationTest, FailedTransactionAllocatesNothing) {
  Status st = inTxn([&](KindContext& ctx) -> Status {
    auto a = ipam::allocate(ctx, subnet("v1", "s1"), "owner/a", std::nullopt);
    EXPECT_TRUE(a.ok());
    return Status::Conflict("Test", "roll back");
  });
  EXPECT_FALSE(st.ok());
  EXPECT_TRUE(all().empty());
}

}  // namespace
}  // namespace privlink::control
