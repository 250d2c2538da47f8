#pragma once
// api-version validation for ARM calls (reference/arm-clients.md: clients send 2015-01-01 for
// metadata, 2019-11-01..2025-04-01 for resources, 2022-01-01..2025-05-01 for Microsoft.Network).
//
// Accepted: "YYYY-MM-DD" or "YYYY-MM-DD-preview", a real calendar date between 2015-01-01 and
// today (UTC); for resource-provider paths (anything under /providers/ other than
// Microsoft.Resources) the year must also be 2018 or later.

#include <string_view>

#include "common/status.h"

namespace privlink::api {

// Today's UTC date as yyyymmdd.
int todayUtcYmd();

// Ok, or 400 InvalidApiVersionParameter naming the accepted range. `todayYmd` is yyyymmdd.
Status checkApiVersion(std::string_view version, bool resourceProvider, int todayYmd);

// 400 MissingApiVersionParameter.
Status missingApiVersion();

}  // namespace privlink::api
