#include "api/api_version.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace privlink::api {
namespace {

constexpr int kToday = 20261129;

TEST(ApiVersionTest, AcceptsWhatRealClientsSend) {
  for (const char* v : {"2015-01-01", "2019-11-01", "2021-04-01", "2022-01-01", "2022-07-01",
                        "2025-05-01", "2024-07-01-preview", "2026-11-29"}) {
    EXPECT_TRUE(checkApiVersion(v, false, kToday).ok()) << v;
  }
  for (const char* v : {"2022-01-01", "2025-05-01", "2020-06-01", "2018-01-01"}) {
    EXPECT_TRUE(checkApiVersion(v, true, kToday).ok()) << v;
  }
}

TEST(ApiVersionTest, RejectsMalformedAndOutOfRange) {
  for (const char* v : {"", "2021", "2021-4-01", "2021-04-1", "2021/04/01", "2021-13-01",
                        "2021-02-29", "2021-04-31", "2014-12-31", "2026-11-30", "2021-04-01-beta",
                        "2021-04-01preview", "abcd-ef-gh", "2021-04-01 "}) {
    Status st = checkApiVersion(v, false, kToday);
    EXPECT_EQ(st.armCode(), "InvalidApiVersionParameter") << v;
  }
  EXPECT_TRUE(checkApiVersion("2020-02-29", false, kToday).ok());  // leap day
  Status st = checkApiVersion("2016-01-01", true, kToday);
  EXPECT_EQ(st.armCode(), "InvalidApiVersionParameter");
  EXPECT_THAT(st.message(), ::testing::HasSubstr("2018-01-01 to 2026-11-29"));
  EXPECT_EQ(st.target(), "api-version");
}

TEST(ApiVersionTest, MissingAndToday) {
  EXPECT_EQ(missingApiVersion().armCode(), "MissingApiVersionParameter");
  int today = todayUtcYmd();
  EXPECT_GT(today, 20250101);
  EXPECT_LT(today, 30000101);
}

}  // namespace
}  // namespace privlink::api
