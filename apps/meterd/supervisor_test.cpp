// The supervisor's restart bound: deaths in a row, not in a lifetime.
#include "supervisor.h"

#include <gtest/gtest.h>

#include <csignal>
#include <thread>

namespace meter::apps {
namespace {

// A meter (run in the supervisor's child) that dies of SIGSEGV after `lives` ms on each of its
// first `deaths` starts, then ends in order.
int supervise_deaths(int deaths, std::chrono::milliseconds lives) {
  Supervision* shared = make_supervision();
  EXPECT_NE(shared, nullptr);
  SupervisorOptions options;
  options.max_restarts = 1;
  options.healthy_run = std::chrono::milliseconds{100};
  return supervise(*shared, options, [shared, deaths, lives] {
    if (shared->restarts < deaths) {
      std::this_thread::sleep_for(lives);
      std::raise(SIGSEGV);
    }
    return 0;
  });
}

TEST(Supervisor, DeathsAfterAHealthyRunDoNotAddUp) {
  // Four deaths, each after a healthy run: never two in a row, so the meter goes on.
  EXPECT_EQ(supervise_deaths(4, std::chrono::milliseconds{300}), 0);
}

TEST(Supervisor, DeathsInARowBeyondTheBoundGiveUp) {
  // Two quick deaths in a row with a bound of one: the supervisor gives up.
  EXPECT_EQ(supervise_deaths(4, std::chrono::milliseconds{0}), 1);
}

}  // namespace
}  // namespace meter::apps
