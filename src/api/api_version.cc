#include "api/api_version.h"

#include <cctype>
#include <chrono>
#include <ctime>
#include <string>

namespace privlink::api {

namespace {

constexpr int kOldestYmd = 20150101;
constexpr int kOldestProviderYmd = 20180101;

bool isLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int daysIn(int y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && isLeap(y) ? 29 : kDays[m - 1];
}

std::string ymdText(int ymd) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", ymd / 10000, ymd / 100 % 100, ymd % 100);
  return buf;
}

}  // namespace

int todayUtcYmd() {
  std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  return (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

Status missingApiVersion() {
  return Status::InvalidArgument("MissingApiVersionParameter",
                                 "The api-version query parameter (?api-version=) is required for "
                                 "all requests.")
      .withTarget("api-version");
}

Status checkApiVersion(std::string_view version, bool resourceProvider, int todayYmd) {
  int oldest = resourceProvider ? kOldestProviderYmd : kOldestYmd;
  auto invalid = [&] {
    return Status::InvalidArgument(
               "InvalidApiVersionParameter",
               "The api-version '" + std::string(version) +
                   "' is invalid. The supported versions are dates from " + ymdText(oldest) +
                   " to " + ymdText(todayYmd) +
                   " in the form YYYY-MM-DD, optionally followed by '-preview'.")
        .withTarget("api-version");
  };
  std::string_view date = version;
  constexpr std::string_view kPreview = "-preview";
  if (date.size() == 10 + kPreview.size() && date.substr(10) == kPreview) date = date.substr(0, 10);
  if (date.size() != 10 || date[4] != '-' || date[7] != '-') return invalid();
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!std::isdigit(static_cast<unsigned char>(date[i]))) return invalid();
  }
  int y = std::stoi(std::string(date.substr(0, 4)));
  int m = std::stoi(std::string(date.substr(5, 2)));
  int d = std::stoi(std::string(date.substr(8, 2)));
  if (m < 1 || m > 12 || d < 1 || d > daysIn(y, m)) return invalid();
  int ymd = y * 10000 + m * 100 + d;
  if (ymd < oldest || ymd > todayYmd) return invalid();
  return Status::Ok();
}

}  // namespace privlink::api
