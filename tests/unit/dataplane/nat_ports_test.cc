// tallyNatPorts (issue #6 item 7): NAT ports in use per NAT IP and protocol from the reply
// destinations of conntrack entries.
#include <gtest/gtest.h>
#include <netinet/in.h>

#include "dataplane/conntrack.h"

namespace privlink::dataplane {
namespace {

IpAddress ip(const char* text) { return *IpAddress::parse(text); }

TEST(TallyNatPorts, CountsFlowsAndDistinctPortsPerAddressAndProtocol) {
  const std::vector<ConntrackReplyDestination> entries = {
      {ip("10.0.2.4"), 40000, IPPROTO_TCP, true},  {ip("10.0.2.4"), 40001, IPPROTO_TCP, true},
      {ip("10.0.2.4"), 40001, IPPROTO_TCP, true},   // same NAT port, another destination
      {ip("10.0.2.4"), 40002, IPPROTO_TCP, false},  // TIME_WAIT: over
      {ip("10.0.2.4"), 50000, IPPROTO_UDP, true},  {ip("10.0.2.5"), 0, IPPROTO_ICMP, true},
      {ip("10.9.9.9"), 1, IPPROTO_TCP, true},  // not a NAT IP of this service
  };
  const auto rows = tallyNatPorts({ip("10.0.2.4"), ip("10.0.2.5"), ip("10.0.2.4")}, entries);
  const std::vector<NatPortUsage> expected = {
      {ip("10.0.2.4"), IPPROTO_TCP, 3, 2},  {ip("10.0.2.4"), IPPROTO_UDP, 1, 1},
      {ip("10.0.2.5"), IPPROTO_TCP, 0, 0},  {ip("10.0.2.5"), IPPROTO_UDP, 0, 0},
      {ip("10.0.2.5"), IPPROTO_ICMP, 1, 1},
  };
  EXPECT_EQ(rows, expected);
}

TEST(TallyNatPorts, NoAddressesNoRows) {
  EXPECT_TRUE(tallyNatPorts({}, {{ip("10.0.2.4"), 1, IPPROTO_TCP, true}}).empty());
}

}  // namespace
}  // namespace privlink::dataplane
