#pragma once
// Test-only resource kinds for exercising the generic engine without Microsoft.Network rules:
//
//   Microsoft.Test/widgets        tracked. properties.size: optional integer 1..100 (400
//                                 InvalidWidgetSize otherwise); read-only properties.shadowKey
//                                 names a derived document "/privlink/widgetshadows/<widget key>"
//                                 the kind writes on put and erases on remove; rendered
//                                 properties.partCount counts its parts. remove() refuses with 409
//                                 InUseWidgetCannotBeDeleted while an anchor refers to it.
//                                 properties.inlineParts: optional [{name, color?}] created as
//                                 parts through putWithin() before the widget itself is stored
//                                 (like a VNet's inline subnets); not stored inline.
//   Microsoft.Test/widgets/parts  child (no location). properties.color: optional string.
//   Microsoft.Test/anchors        tracked. properties.widgetId: required id of an existing widget
//                                 (400 InvalidWidgetReference).

#include "control/resource_service.h"

namespace privlink::testing {

inline constexpr std::string_view kWidgetType = "Microsoft.Test/widgets";
inline constexpr std::string_view kPartType = "Microsoft.Test/widgets/parts";
inline constexpr std::string_view kAnchorType = "Microsoft.Test/anchors";

void registerTestKinds(control::ResourceService& service);

}  // namespace privlink::testing
