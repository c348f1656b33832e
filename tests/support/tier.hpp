// The test tier a test runs in. Full-tier tests (exhaustive campaigns) live
// in the same binaries as the quick ones and run only when ctest's full
// registration sets VMODEM_TIER=full (`ctest -L full`, `./dev.sh test full`);
// run directly, a binary skips them and says how to run them.
#pragma once

#include <cstdlib>
#include <string_view>

#include <gtest/gtest.h>

namespace vmodem::testing {

inline bool full_tier() {
  const char* tier = std::getenv("VMODEM_TIER");
  return tier != nullptr && std::string_view(tier) == "full";
}

}  // namespace vmodem::testing

// First statement of a full-tier test.
#define VMODEM_FULL_TIER_ONLY()                                                    \
  do {                                                                             \
    if (!::vmodem::testing::full_tier())                                           \
      GTEST_SKIP() << "full tier: run with VMODEM_TIER=full (ctest -L full does)"; \
  } while (0)
