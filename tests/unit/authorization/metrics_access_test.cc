// Azure Monitor metrics of a resource are read like the resource itself (issue #6 item 7).
#include <gtest/gtest.h>

#include "control/authorization/request_access.h"

namespace privlink::control::authorization {
namespace {

using Mode = RequiredAccess::Mode;

std::vector<std::string> segmentsOf(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t next = path.find('/', i);
    if (next == std::string_view::npos) next = path.size();
    if (next > i) out.emplace_back(path.substr(i, next - i));
    i = next + 1;
  }
  return out;
}

const std::string kPe =
    "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.Network/privateEndpoints/pe1";

TEST(MetricsAccessTest, MetricsNeedReadOnTheResource) {
  auto r = requiredAccess("GET", segmentsOf(kPe + "/providers/microsoft.insights/metrics"));
  EXPECT_EQ(r.mode, Mode::kAction);
  EXPECT_EQ(r.action, "Microsoft.Network/privateEndpoints/read");
  EXPECT_EQ(r.scope.toString(), kPe);
}

TEST(MetricsAccessTest, OtherInsightsPathsKeepTheGenericRule) {
  auto write = requiredAccess("PUT", segmentsOf(kPe + "/providers/Microsoft.Insights/metrics"));
  EXPECT_NE(write.action, "Microsoft.Network/privateEndpoints/read");
  auto other =
      requiredAccess("GET", segmentsOf(kPe + "/providers/Microsoft.Insights/diagnosticSettings"));
  EXPECT_EQ(other.mode, Mode::kListFiltered);
  EXPECT_EQ(other.action, "Microsoft.Insights/diagnosticSettings/read");
}

}  // namespace
}  // namespace privlink::control::authorization
