#include "control/provisioning.h"

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

namespace privlink::control {
namespace {

using namespace std::chrono_literals;

TEST(ProvisioningTrackerTest, NoRealisersMeansEverythingSucceeded) {
  ProvisioningTracker tracker;
  EXPECT_EQ(tracker.stateOf("/k", 1), ProvisioningState::kSucceeded);
  EXPECT_EQ(tracker.stateOf("/k", 1000000), ProvisioningState::kSucceeded);
  EXPECT_EQ(tracker.appliedRevision(), std::numeric_limits<int64_t>::max());
  EXPECT_FALSE(tracker.failureOf("/k", 1).has_value());
  EXPECT_TRUE(tracker.waitApplied(5, 0ms));
}

TEST(ProvisioningTrackerTest, OneRealiserUpdatingUntilItReportsTheRevision) {
  ProvisioningTracker tracker;
  tracker.addRealiser("agent", 3);
  EXPECT_EQ(tracker.stateOf("/k", 3), ProvisioningState::kSucceeded);
  EXPECT_EQ(tracker.stateOf("/k", 4), ProvisioningState::kUpdating);
  tracker.report("agent", 4, {});
  EXPECT_EQ(tracker.stateOf("/k", 4), ProvisioningState::kSucceeded);
  EXPECT_EQ(tracker.stateOf("/k", 5), ProvisioningState::kUpdating);
  EXPECT_EQ(tracker.appliedRevision(), 4);
}

TEST(ProvisioningTrackerTest, ReportsNeverMoveBackwards) {
  ProvisioningTracker tracker;
  tracker.addRealiser("agent");
  tracker.report("agent", 10, {});
  tracker.report("agent", 7, {});
  EXPECT_EQ(tracker.appliedRevision(), 10);
  EXPECT_EQ(tracker.stateOf("/k", 9), ProvisioningState::kSucceeded);
}

TEST(ProvisioningTrackerTest, TwoRealisersBothMustApply) {
  ProvisioningTracker tracker;
  tracker.addRealiser("agent");
  tracker.addRealiser("dns");
  tracker.report("agent", 8, {});
  EXPECT_EQ(tracker.stateOf("/k", 5), ProvisioningState::kUpdating);
  EXPECT_EQ(tracker.appliedRevision(), 0);
  tracker.report("dns", 6, {});
  EXPECT_EQ(tracker.stateOf("/k", 5), ProvisioningState::kSucceeded);
  EXPECT_EQ(tracker.stateOf("/k", 7), ProvisioningState::kUpdating);
  EXPECT_EQ(tracker.appliedRevision(), 6);
}

TEST(ProvisioningTrackerTest, FailureAtOrAfterTheWriteFailsIt) {
  ProvisioningTracker tracker;
  tracker.addRealiser("agent");
  tracker.addRealiser("dns");
  tracker.report("agent", 5,
                 {{"/bad", Status::Conflict("NamespaceBusy", "the namespace is busy")}});
  // Failed wins even though the other realiser has not applied revision 5 yet.
  EXPECT_EQ(tracker.stateOf("/bad", 5), ProvisioningState::kFailed);
  EXPECT_EQ(tracker.stateOf("/bad", 3), ProvisioningState::kFailed);
  auto failure = tracker.failureOf("/bad", 5);
  ASSERT_TRUE(failure.has_value());
  EXPECT_EQ(failure->armCode(), "NamespaceBusy");
  // Other keys are unaffected; a newer write of the failed key is not failed (yet).
  EXPECT_EQ(tracker.stateOf("/good", 5), ProvisioningState::kUpdating);
  EXPECT_EQ(tracker.stateOf("/bad", 6), ProvisioningState::kUpdating);
  EXPECT_FALSE(tracker.failureOf("/bad", 6).has_value());
}

TEST(ProvisioningTrackerTest, AReportReplacesThePreviousFailureSet) {
  ProvisioningTracker tracker;
  tracker.addRealiser("agent");
  tracker.report("agent", 5, {{"/bad", Status::Internal("boom")}});
  EXPECT_EQ(tracker.stateOf("/bad", 5), ProvisioningState::kFailed);
  tracker.report("agent", 6, {});
  EXPECT_EQ(tracker.stateOf("/bad", 5), ProvisioningState::kSucceeded);
  EXPECT_FALSE(tracker.failureOf("/bad", 5).has_value());
}

TEST(ProvisioningTrackerTest, WaitAppliedWakesOnReport) {
  ProvisioningTracker tracker;
  tracker.addRealiser("agent");
  EXPECT_FALSE(tracker.waitApplied(3, 1ms));
  std::thread reporter([&] {
    std::this_thread::sleep_for(20ms);
    tracker.report("agent", 3, {});
  });
  EXPECT_TRUE(tracker.waitApplied(3, 5s));
  reporter.join();
}

TEST(ProvisioningTrackerTest, StateNames) {
  EXPECT_STREQ(provisioningStateName(ProvisioningState::kSucceeded), "Succeeded");
  EXPECT_STREQ(provisioningStateName(ProvisioningState::kUpdating), "Updating");
  EXPECT_STREQ(provisioningStateName(ProvisioningState::kDeleting), "Deleting");
  EXPECT_STREQ(provisioningStateName(ProvisioningState::kFailed), "Failed");
}

}  // namespace
}  // namespace privlink::control
